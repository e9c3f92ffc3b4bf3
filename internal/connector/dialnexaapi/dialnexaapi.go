// Package dialnexaapi reads calls from the DialNexa API, to backfill a call
// whose webhook arrived without transcript or analysis. Read-only.
package dialnexaapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/connector"
)

const name = "dialnexa"

// DefaultBaseURL is DialNexa's API.
const DefaultBaseURL = "https://api.dialnexa.com"

// Config holds what the connector needs. KeyID and Secret are sent as
// "Authorization: Bearer <key_id>:<secret>" and never logged or put into errors.
type Config struct {
	BaseURL    string
	KeyID      string
	Secret     string
	HTTPClient *http.Client // default connector.NewHTTPClient(0)
}

// Client calls DialNexa. Safe for concurrent use.
type Client struct {
	base, auth string
	hc         *http.Client
}

// New builds a client. It does not contact DialNexa.
func New(cfg Config) *Client {
	c := &Client{base: strings.TrimRight(cfg.BaseURL, "/"), auth: "Bearer " + cfg.KeyID + ":" + cfg.Secret, hc: cfg.HTTPClient}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.hc == nil {
		c.hc = connector.NewHTTPClient(0)
	}
	return c
}

// GetCall returns the call as DialNexa sends it (GET /v1/calls/{id}); the
// ingest package owns its shape. A missing call is a permanent error.
func (c *Client) GetCall(ctx context.Context, id string) (json.RawMessage, error) {
	const op = "get call"
	if id == "" || len(id) > 200 {
		return nil, &connector.Error{Connector: name, Op: op, Code: "invalid_params", Message: "call id must be 1-200 characters", Permanent: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/calls/"+url.PathEscape(id), nil)
	if err != nil {
		return nil, &connector.Error{Connector: name, Op: op, Code: "invalid_params", Message: "bad request URL", Permanent: true}
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, connector.FromTransport(name, op, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return nil, connector.FromTransport(name, op, err)
	}
	if res.StatusCode >= 300 {
		code, msg := apiError(body, res.Status)
		return nil, connector.FromHTTP(name, op, res.StatusCode, res.Header, code, msg)
	}
	if !json.Valid(body) {
		return nil, &connector.Error{Connector: name, Op: op, Status: res.StatusCode, Code: "bad_response",
			Message: "answer is not JSON"}
	}
	return json.RawMessage(body), nil
}

// apiError reads DialNexa's error body {statusCode, message, error}, where
// message may be a string or a list of strings.
func apiError(body []byte, fallback string) (code, msg string) {
	var e struct {
		StatusCode json.RawMessage `json:"statusCode"`
		Message    json.RawMessage `json:"message"`
		Error      string          `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", fallback
	}
	msg = fallback
	var s string
	var list []string
	switch {
	case json.Unmarshal(e.Message, &s) == nil && s != "":
		msg = s
	case json.Unmarshal(e.Message, &list) == nil && len(list) > 0:
		msg = strings.Join(list, "; ")
	}
	code = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(e.Error), " ", "_"))
	if code == "" {
		var n int
		if json.Unmarshal(e.StatusCode, &n) == nil && n != 0 {
			code = "status_" + strconv.Itoa(n)
		}
	}
	return code, msg
}
