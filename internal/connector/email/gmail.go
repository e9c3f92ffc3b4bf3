package email

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/countersign/countersign/internal/connector"
)

// DefaultGmailBaseURL is the Gmail API root.
const DefaultGmailBaseURL = "https://gmail.googleapis.com"

const gmailName = "gmail"

// GmailConfig configures a GmailSender.
type GmailConfig struct {
	BaseURL string // DefaultGmailBaseURL when empty
	UserID  string // "me" when empty
	// HTTPClient authenticates the requests: production passes a gauth client
	// (service account with domain-wide delegation, scope gmail.send only).
	// Required. A client without a timeout gets connector.DefaultTimeout.
	HTTPClient *http.Client
}

// GmailSender sends through users.messages.send. Safe for concurrent use.
type GmailSender struct {
	base string
	hc   *http.Client
}

var _ Sender = (*GmailSender)(nil)

// NewGmail validates cfg and returns a GmailSender.
func NewGmail(cfg GmailConfig) (*GmailSender, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("email: gmail needs an authenticated HTTP client")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultGmailBaseURL
	}
	user := cfg.UserID
	if user == "" {
		user = "me"
	}
	hc := cfg.HTTPClient
	if hc.Timeout == 0 {
		cp := *hc
		cp.Timeout = connector.DefaultTimeout
		hc = &cp
	}
	return &GmailSender{base: base + "/gmail/v1/users/" + url.PathEscape(user), hc: hc}, nil
}

// Send posts m as {"raw": base64url(RFC 5322)}.
func (g *GmailSender) Send(ctx context.Context, m Message) (connector.Receipt, error) {
	const op = "send"
	raw, err := Build(m)
	if err != nil {
		return connector.Receipt{}, invalid(gmailName, op, err)
	}
	body, _ := json.Marshal(map[string]string{"raw": base64.URLEncoding.EncodeToString(raw)})
	var out struct {
		ID       string `json:"id"`
		ThreadID string `json:"threadId"`
	}
	if err := g.do(ctx, op, http.MethodPost, "/messages/send", bytes.NewReader(body), &out); err != nil {
		return connector.Receipt{}, err
	}
	id, _ := normalizeID(m.MessageID)
	rawReceipt, _ := json.Marshal(map[string]string{"id": out.ID, "thread_id": out.ThreadID, "message_id": "<" + id + ">"})
	return connector.Receipt{ExternalID: out.ID, Summary: "gmail message " + out.ID + " sent", Raw: rawReceipt}, nil
}

func (g *GmailSender) do(ctx context.Context, op, method, path string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, g.base+path, body)
	if err != nil {
		return &connector.Error{Connector: gmailName, Op: op, Permanent: true, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return connector.DoJSON(g.hc, gmailName, op, req, 1<<20, out, connector.FromGoogle)
}
