// Package gauth signs Google API requests (Gmail, Drive, Sheets) as a service account
// with domain-wide delegation: tokens are minted for a subject (the mailbox to act as)
// by golang.org/x/oauth2/google and refreshed before they expire. A 401 from the API
// mints a fresh token and retries the request once; only a grant Google refuses
// (invalid_grant, unauthorized_client) is permanent.
package gauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/countersign/countersign/internal/connector"
)

// Scopes each connector asks for: the narrowest that its calls need.
const (
	// ScopeGmailSend allows users.messages.send only: no reading of the mailbox, so
	// an unclear earlier send is settled by a person, not by a search.
	ScopeGmailSend = "https://www.googleapis.com/auth/gmail.send"
	// ScopeDriveFile allows files this app created (upload, generateIds, get).
	ScopeDriveFile = "https://www.googleapis.com/auth/drive.file"
	// ScopeSheets allows reading and appending to spreadsheets the subject can edit.
	ScopeSheets = "https://www.googleapis.com/auth/spreadsheets"
)

// Config is one delegated credential for one connector.
type Config struct {
	Connector   string // name in errors: gmail, gdrive, gsheets
	Credentials []byte // the service account's JSON key
	Subject     string // the Workspace user to act as
	Scopes      []string
	// TokenURL overrides the key's token_uri (tests and the sandbox).
	TokenURL string
	// HTTPClient sends the token requests and the API calls. Required.
	HTTPClient *http.Client
}

// Client returns an *http.Client whose requests carry a delegated access token.
func Client(cfg Config) (*http.Client, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("gauth: an HTTP client is required")
	}
	if cfg.Subject == "" {
		return nil, errors.New("gauth: a subject (the mailbox to act as) is required for domain-wide delegation")
	}
	jc, err := google.JWTConfigFromJSON(cfg.Credentials, cfg.Scopes...)
	if err != nil {
		return nil, fmt.Errorf("gauth: service account key: %w", err)
	}
	jc.Subject = cfg.Subject
	if cfg.TokenURL != "" {
		jc.TokenURL = cfg.TokenURL
	}
	next := cfg.HTTPClient.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	// Token requests go through a plain client (never a request recorder: the
	// signed assertion is a credential) and without the caller's context: a token
	// outlives the request that minted it.
	tokenClient := &http.Client{Timeout: cfg.HTTPClient.Timeout}
	tctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokenClient)
	t := &transport{name: cfg.Connector, next: next, mint: func() oauth2.TokenSource { return jc.TokenSource(tctx) }}
	t.src = t.mint()
	cp := *cfg.HTTPClient
	cp.Transport = t
	return &cp, nil
}

type transport struct {
	name string
	next http.RoundTripper
	mint func() oauth2.TokenSource

	mu  sync.Mutex
	src oauth2.TokenSource // caches the token until shortly before it expires
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok, err := t.token(nil)
	if err != nil {
		return nil, err
	}
	resp, err := t.send(req, req.Body, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || (req.Body != nil && req.GetBody == nil) {
		return resp, err
	}
	// Revoked or expired early: mint a fresh token and try once more.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if tok, err = t.token(tok); err != nil {
		return nil, err
	}
	var body io.ReadCloser
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(req, body, tok)
}

func (t *transport) send(req *http.Request, body io.ReadCloser, tok *oauth2.Token) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Body = body
	tok.SetAuthHeader(r)
	return t.next.RoundTrip(r)
}

// token returns the cached token, or a freshly minted one when stale is the token
// the API just refused.
func (t *transport) token(stale *oauth2.Token) (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tok, err := t.src.Token()
	if err == nil && stale != nil && tok.AccessToken == stale.AccessToken {
		t.src = t.mint()
		tok, err = t.src.Token()
	}
	if err != nil {
		return nil, t.classify(err)
	}
	return tok, nil
}

// classify: Google refusing the grant needs a person (the key was revoked, the
// subject does not exist, delegation lacks a scope); anything else may pass.
func (t *transport) classify(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.ErrorCode == "" { // the JWT grant leaves the body unparsed
			var body struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(re.Body, &body)
			re.ErrorCode = body.Error
		}
		switch re.ErrorCode {
		case "invalid_grant":
			return &connector.Error{Connector: t.name, Op: "token", Code: re.ErrorCode, Permanent: true,
				Message: "Google refused the service account's grant: check that the key is still active and that COUNTERSIGN_GOOGLE_SUBJECT is an existing user of the Workspace domain"}
		case "unauthorized_client":
			return &connector.Error{Connector: t.name, Op: "token", Code: re.ErrorCode, Permanent: true,
				Message: "domain-wide delegation does not allow this service account's client id the scopes it asked for: add them in the Admin console (Security > API controls > Domain-wide delegation)"}
		}
		if re.Response != nil && re.Response.StatusCode < 500 && re.Response.StatusCode != http.StatusTooManyRequests {
			return &connector.Error{Connector: t.name, Op: "token", Code: re.ErrorCode, Permanent: true,
				Message: "Google's token endpoint refused the service account (" + re.ErrorCode + ")"}
		}
	}
	return &connector.Error{Connector: t.name, Op: "token", Code: "token_unavailable", Err: err}
}
