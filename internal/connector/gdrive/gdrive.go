// Package gdrive stores invoices and credit notes in a Google Drive folder.
//
// Uploads are made safe to retry by creating the file with an id reserved
// beforehand (files.generateIds): the worker stores the id on the action row
// before the first attempt, and a retry that meets 409 (the id is taken)
// fetches the file and treats it as the earlier upload when its
// appProperties.action_id matches.
package gdrive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"

	"github.com/countersign/countersign/internal/connector"
)

// DefaultBaseURL is the Google APIs root serving Drive v3 and its uploads.
const DefaultBaseURL = "https://www.googleapis.com"

const name = "gdrive"

const fileFields = "id,name,mimeType,description,parents,appProperties,webViewLink"

// Config configures a Client.
type Config struct {
	BaseURL string // DefaultBaseURL when empty
	// HTTPClient authenticates the requests: production passes an OAuth2
	// client with scope drive.file. Required. A client without a timeout gets
	// connector.DefaultTimeout.
	HTTPClient *http.Client
}

// Client uploads files. Safe for concurrent use.
type Client struct {
	base    string
	hc      *http.Client
	folders sync.Mutex // FolderPath: one find-or-create at a time
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("gdrive: an authenticated HTTP client is required")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	hc := cfg.HTTPClient
	if hc.Timeout == 0 {
		cp := *hc
		cp.Timeout = connector.DefaultTimeout
		hc = &cp
	}
	return &Client{base: base, hc: hc}, nil
}

// File is a document to store.
type File struct {
	// ID is the id reserved with GenerateID and stored on the action row.
	// When empty, Upload reserves one itself, which makes a retry after a
	// lost reply create a second file: pass the stored id.
	ID       string
	Name     string
	MimeType string
	Data     []byte
	FolderID string // parent folder; My Drive root when empty
	ActionID string // stored in appProperties.action_id
	// Description is Drive's description field (the internal handoff summary):
	// ids and amounts only, never card, bank or tax numbers.
	Description string
	// Properties are more appProperties (e.g. the Stripe document id); action_id
	// is always ActionID.
	Properties map[string]string
}

type fileResource struct {
	ID            string            `json:"id,omitempty"`
	Name          string            `json:"name"`
	MimeType      string            `json:"mimeType,omitempty"`
	Description   string            `json:"description,omitempty"`
	Parents       []string          `json:"parents,omitempty"`
	AppProperties map[string]string `json:"appProperties,omitempty"`
	WebViewLink   string            `json:"webViewLink,omitempty"`
}

// GenerateID reserves one file id for a later Upload.
func (c *Client) GenerateID(ctx context.Context) (string, error) {
	const op = "generate id"
	var out struct {
		IDs []string `json:"ids"`
	}
	if err := c.do(ctx, op, http.MethodGet, "/drive/v3/files/generateIds?count=1&space=drive&type=files", "", nil, &out); err != nil {
		return "", err
	}
	if len(out.IDs) != 1 || out.IDs[0] == "" {
		return "", &connector.Error{Connector: name, Op: op, Code: "bad_response", Message: "no id generated"}
	}
	return out.IDs[0], nil
}

// Upload creates f with a multipart upload. A 409 means an earlier attempt
// already created the file with this id; Upload then returns that file's
// receipt, or a permanent error if the file belongs to another action.
func (c *Client) Upload(ctx context.Context, f File) (connector.Receipt, error) {
	const op = "upload"
	if f.Name == "" || f.ActionID == "" {
		return connector.Receipt{}, &connector.Error{Connector: name, Op: op, Code: "invalid_file",
			Message: "name and action id are required", Permanent: true}
	}
	if f.ID == "" {
		id, err := c.GenerateID(ctx)
		if err != nil {
			return connector.Receipt{}, err
		}
		f.ID = id
	}
	body, contentType, err := multipartBody(f)
	if err != nil {
		return connector.Receipt{}, &connector.Error{Connector: name, Op: op, Permanent: true, Err: err}
	}
	var out fileResource
	path := "/upload/drive/v3/files?uploadType=multipart&supportsAllDrives=true&fields=" + url.QueryEscape(fileFields)
	err = c.do(ctx, op, http.MethodPost, path, contentType, body, &out)
	var ce *connector.Error
	if errors.As(err, &ce) && ce.Status == http.StatusConflict {
		return c.existing(ctx, f)
	}
	if err != nil {
		return connector.Receipt{}, err
	}
	return receipt(out, "uploaded"), nil
}

// existing fetches the file an earlier attempt created with f.ID.
func (c *Client) existing(ctx context.Context, f File) (connector.Receipt, error) {
	const op = "get file"
	var out fileResource
	path := "/drive/v3/files/" + url.PathEscape(f.ID) + "?supportsAllDrives=true&fields=" + url.QueryEscape(fileFields)
	if err := c.do(ctx, op, http.MethodGet, path, "", nil, &out); err != nil {
		return connector.Receipt{}, err
	}
	if out.AppProperties["action_id"] != f.ActionID {
		return connector.Receipt{}, &connector.Error{Connector: name, Op: "upload", Status: http.StatusConflict,
			Code: "id_conflict", Message: "file id is taken by a file of another action", Permanent: true}
	}
	return receipt(out, "already uploaded"), nil
}

func receipt(f fileResource, verb string) connector.Receipt {
	raw, _ := json.Marshal(f)
	return connector.Receipt{ExternalID: f.ID, Summary: "drive file " + f.ID + " " + verb, Raw: raw}
}

// multipartBody renders the multipart/related upload body: JSON metadata,
// then the media.
func multipartBody(f File) ([]byte, string, error) {
	meta := fileResource{ID: f.ID, Name: f.Name, MimeType: f.MimeType, Description: f.Description, AppProperties: map[string]string{}}
	for k, v := range f.Properties {
		meta.AppProperties[k] = v
	}
	meta.AppProperties["action_id"] = f.ActionID
	if f.FolderID != "" {
		meta.Parents = []string{f.FolderID}
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return nil, "", err
	}
	mediaType := f.MimeType
	if mediaType == "" {
		mediaType = "application/octet-stream"
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json; charset=UTF-8"}})
	if err == nil {
		_, err = part.Write(metaJSON)
	}
	if err == nil {
		part, err = w.CreatePart(textproto.MIMEHeader{"Content-Type": {mediaType}})
	}
	if err == nil {
		_, err = part.Write(f.Data)
	}
	if err == nil {
		err = w.Close()
	}
	return buf.Bytes(), "multipart/related; boundary=" + w.Boundary(), err
}

func jsonBody(v any) ([]byte, error) { return json.Marshal(v) }

func (c *Client) do(ctx context.Context, op, method, path, contentType string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return &connector.Error{Connector: name, Op: op, Permanent: true, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return connector.DoJSON(c.hc, name, op, req, 1<<20, out, connector.FromGoogle)
}
