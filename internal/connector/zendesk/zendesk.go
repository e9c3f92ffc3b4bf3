// Package zendesk opens and updates customer-facing billing tickets.
//
// Ticket creation is made safe to retry two ways: the Idempotency-Key header
// (Zendesk replays the first answer for the same key and body) and the ticket
// external_id, which the caller sets to the action's own key (Zendesk does not
// keep external ids unique: a call id would be shared by every case of the call)
// and FindByExternalID looks up when the key may have expired. The requester is
// an end user found or created by email (EnsureEndUser).
package zendesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/connector"
)

const name = "zendesk"

// Config configures a Client. Set APIToken (with Email) or OAuthToken.
type Config struct {
	// BaseURL is the account URL, e.g. https://acme.zendesk.com. When empty it
	// is https://{Subdomain}.zendesk.com.
	BaseURL    string
	Subdomain  string
	Email      string // agent email, for API token auth
	APIToken   string
	OAuthToken string
	HTTPClient *http.Client // connector.NewHTTPClient(0) when nil
}

// Client talks to one Zendesk account. Safe for concurrent use.
type Client struct {
	base string
	auth string // Authorization header value
	hc   *http.Client
}

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		if cfg.Subdomain == "" {
			return nil, errors.New("zendesk: base URL or subdomain is required")
		}
		base = "https://" + cfg.Subdomain + ".zendesk.com"
	}
	if _, err := url.Parse(base); err != nil {
		return nil, errors.New("zendesk: base URL is not a URL")
	}
	var auth string
	switch {
	case cfg.OAuthToken != "":
		auth = "Bearer " + cfg.OAuthToken
	case cfg.APIToken != "" && cfg.Email != "":
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Email+"/token:"+cfg.APIToken))
	default:
		return nil, errors.New("zendesk: set an OAuth token, or an email and API token")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = connector.NewHTTPClient(0)
	}
	return &Client{base: base, auth: auth, hc: hc}, nil
}

// Ticket is a new billing ticket. Comment must not carry payment details.
type Ticket struct {
	Subject     string
	Comment     string
	Public      bool   // false: internal note
	RequesterID int64  // EnsureEndUser's id, or AgentID's for an internal ticket
	Priority    string // low, normal, high, urgent; empty for the account default
	Status      string // new, open, pending, hold, solved; empty: new
	Tags        []string
	ExternalID  string // the action's key; FindByExternalID finds the ticket by it
}

// TicketUpdate adds a comment and optionally changes the priority and status.
type TicketUpdate struct {
	Comment  string
	Public   bool
	Priority string // empty keeps the current priority
	Status   string // empty keeps the current status
}

// Comment is one comment of a ticket.
type Comment struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

type comment struct {
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

type ticketBody struct {
	Subject     string   `json:"subject,omitempty"`
	Comment     *comment `json:"comment,omitempty"`
	RequesterID int64    `json:"requester_id,omitempty"`
	Priority    string   `json:"priority,omitempty"`
	Status      string   `json:"status,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	ExternalID  string   `json:"external_id,omitempty"`
}

// ticketOut is the part of a ticket the receipt keeps.
type ticketOut struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	Priority   string `json:"priority,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	URL        string `json:"url,omitempty"`
}

// CreateTicket creates t, sending idemKey as Idempotency-Key (≤ 255 chars,
// the action's deterministic key). A retry with the same key and ticket
// returns the first ticket without creating another.
func (c *Client) CreateTicket(ctx context.Context, t Ticket, idemKey string) (connector.Receipt, error) {
	const op = "create ticket"
	if idemKey == "" || len(idemKey) > 255 {
		return connector.Receipt{}, &connector.Error{Connector: name, Op: op, Code: "invalid_idempotency_key",
			Message: "idempotency key must be 1 to 255 characters", Permanent: true}
	}
	if t.RequesterID == 0 {
		return connector.Receipt{}, &connector.Error{Connector: name, Op: op, Code: "invalid_requester",
			Message: "a ticket needs a requester", Permanent: true}
	}
	body := ticketBody{Subject: t.Subject, Comment: &comment{Body: t.Comment, Public: t.Public},
		RequesterID: t.RequesterID, Priority: t.Priority, Status: t.Status, Tags: t.Tags, ExternalID: t.ExternalID}
	var out struct{ Ticket ticketOut }
	hdr := http.Header{"Idempotency-Key": {idemKey}}
	if err := c.do(ctx, op, http.MethodPost, "/api/v2/tickets.json", hdr, map[string]any{"ticket": body}, &out); err != nil {
		return connector.Receipt{}, err
	}
	return receipt(out.Ticket, "created"), nil
}

// UpdateTicket adds u.Comment to ticket id. Zendesk has no idempotency key
// for updates: a retry after a lost reply adds the comment again, so callers
// record the update before retrying blindly.
func (c *Client) UpdateTicket(ctx context.Context, id int64, u TicketUpdate) (connector.Receipt, error) {
	const op = "update ticket"
	body := ticketBody{Priority: u.Priority, Status: u.Status}
	if u.Comment != "" {
		body.Comment = &comment{Body: u.Comment, Public: u.Public}
	}
	var out struct{ Ticket ticketOut }
	path := "/api/v2/tickets/" + strconv.FormatInt(id, 10) + ".json"
	if err := c.do(ctx, op, http.MethodPut, path, nil, map[string]any{"ticket": body}, &out); err != nil {
		return connector.Receipt{}, err
	}
	return receipt(out.Ticket, "updated"), nil
}

// FindByExternalID returns the oldest ticket whose external_id is externalID.
func (c *Client) FindByExternalID(ctx context.Context, externalID string) (connector.Receipt, bool, error) {
	const op = "find ticket"
	var out struct{ Tickets []ticketOut }
	path := "/api/v2/tickets.json?external_id=" + url.QueryEscape(externalID)
	if err := c.do(ctx, op, http.MethodGet, path, nil, nil, &out); err != nil {
		return connector.Receipt{}, false, err
	}
	if len(out.Tickets) == 0 {
		return connector.Receipt{}, false, nil
	}
	oldest := out.Tickets[0]
	for _, t := range out.Tickets[1:] {
		if t.ID < oldest.ID {
			oldest = t
		}
	}
	return receipt(oldest, "found"), true, nil
}

// EnsureEndUser returns the id of the user with email, creating an end user when
// there is none (users/create_or_update matches by email). No role is sent: an
// existing agent keeps theirs. verified marks the address as confirmed, which
// Countersign only passes for an address it verified itself.
func (c *Client) EnsureEndUser(ctx context.Context, email, displayName string, verified bool) (int64, error) {
	const op = "find or create requester"
	if displayName == "" {
		displayName, _, _ = strings.Cut(email, "@")
	}
	var out struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	in := map[string]any{"user": map[string]any{"email": email, "name": displayName, "verified": verified}}
	if err := c.do(ctx, op, http.MethodPost, "/api/v2/users/create_or_update.json", nil, in, &out); err != nil {
		return 0, err
	}
	if out.User.ID == 0 {
		return 0, &connector.Error{Connector: name, Op: op, Code: "no_user", Message: "Zendesk answered without a user id"}
	}
	return out.User.ID, nil
}

// AgentID is the id of the agent the credentials belong to (users/me), the
// requester of an internal ticket that has no verified customer.
func (c *Client) AgentID(ctx context.Context) (int64, error) {
	var out struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	if err := c.do(ctx, "who am i", http.MethodGet, "/api/v2/users/me.json", nil, nil, &out); err != nil {
		return 0, err
	}
	return out.User.ID, nil
}

// Comments lists ticket id's comments (the first page: up to 100).
func (c *Client) Comments(ctx context.Context, id int64) ([]Comment, error) {
	var out struct{ Comments []Comment }
	path := "/api/v2/tickets/" + strconv.FormatInt(id, 10) + "/comments.json"
	if err := c.do(ctx, "list comments", http.MethodGet, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Comments, nil
}

func receipt(t ticketOut, verb string) connector.Receipt {
	raw, _ := json.Marshal(t)
	id := strconv.FormatInt(t.ID, 10)
	return connector.Receipt{ExternalID: id, Summary: "zendesk ticket #" + id + " " + verb, Raw: raw}
}

// do sends one JSON request and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, op, method, path string, hdr http.Header, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return &connector.Error{Connector: name, Op: op, Permanent: true, Err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return &connector.Error{Connector: name, Op: op, Permanent: true, Err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return connector.FromTransport(name, op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return connector.FromTransport(name, op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		code, msg := decodeError(data)
		return connector.FromHTTP(name, op, resp.StatusCode, resp.Header, code, msg)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return connector.FromTransport(name, op, fmt.Errorf("decode response: %w", err))
	}
	return nil
}

// decodeError reads Zendesk's error bodies: {"error":"RecordInvalid",
// "description":...} or {"error":{"title":...,"message":...}}. Of the details
// object only the status entries are kept ("Status: closed prevents ticket
// update" says what a person must do); the rest can quote the requester's data.
func decodeError(data []byte) (code, msg string) {
	var e struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"description"`
		Details     struct {
			Status []struct {
				Description string `json:"description"`
			} `json:"status"`
		} `json:"details"`
	}
	if json.Unmarshal(data, &e) != nil {
		return "", ""
	}
	if json.Unmarshal(e.Error, &code) == nil {
		msg = e.Description
		for _, d := range e.Details.Status {
			msg += "; " + d.Description
		}
		return code, msg
	}
	var obj struct{ Title, Message string }
	if json.Unmarshal(e.Error, &obj) == nil {
		return obj.Title, obj.Message
	}
	return "", e.Description
}
