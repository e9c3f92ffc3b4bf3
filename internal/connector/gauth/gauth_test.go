package gauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/gauth"
	"github.com/countersign/countersign/internal/connector/gauth/gauthfake"
)

const subject = "billing@acme.test"

// api is a Google API that accepts one scope.
func api(t *testing.T, auth *gauthfake.Server, scope string) (string, *int) {
	calls := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*calls++
		if auth.Authorize(w, r, scope) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, calls
}

func client(t *testing.T, auth *gauthfake.Server, tokenURL, sub string, scopes ...string) *http.Client {
	t.Helper()
	hc, err := gauth.Client(gauth.Config{Connector: "gmail", Credentials: auth.CredentialsJSON(tokenURL), Subject: sub,
		Scopes: scopes, HTTPClient: connector.NewHTTPClient(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

func get(hc *http.Client, url string) (int, error) {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(`{"a":1}`))
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// An expired token is refused with 401; the client mints a new one and retries
// once, body included, where a static token needed a person from then on.
func TestExpiredTokenIsRefreshedAndRetried(t *testing.T) {
	t.Parallel()
	auth, tokenURL := gauthfake.Start(t, []string{gauth.ScopeGmailSend}, subject)
	url, calls := api(t, auth, gauth.ScopeGmailSend)
	hc := client(t, auth, tokenURL, subject, gauth.ScopeGmailSend)
	if st, err := get(hc, url); err != nil || st != 200 {
		t.Fatalf("first call: %d %v", st, err)
	}
	auth.ExpireAll()
	if st, err := get(hc, url); err != nil || st != 200 {
		t.Fatalf("call after expiry: %d %v", st, err)
	}
	if auth.Mints() != 2 || *calls != 3 {
		t.Fatalf("mints %d calls %d, want 2 and 3 (one refused, one retried)", auth.Mints(), *calls)
	}
}

func TestRefusedGrantIsPermanent(t *testing.T) {
	t.Parallel()
	auth, tokenURL := gauthfake.Start(t, []string{gauth.ScopeGmailSend}, subject)
	url, calls := api(t, auth, gauth.ScopeGmailSend)
	for name, tc := range map[string]struct {
		sub, scope, code string
	}{
		"unknown subject":     {"nobody@acme.test", gauth.ScopeGmailSend, "invalid_grant"},
		"scope not delegated": {subject, "https://mail.google.com/", "unauthorized_client"},
	} {
		_, err := get(client(t, auth, tokenURL, tc.sub, tc.scope), url)
		var ce *connector.Error
		if !errors.As(err, &ce) || !ce.Permanent || ce.Code != tc.code {
			t.Fatalf("%s: err = %v, want permanent %s", name, err, tc.code)
		}
	}
	if *calls != 0 {
		t.Fatalf("the API was called %d times without a token", *calls)
	}
}

func TestUnreachableTokenEndpointIsTemporary(t *testing.T) {
	t.Parallel()
	auth, _ := gauthfake.Start(t, []string{gauth.ScopeGmailSend}, subject)
	url, _ := api(t, auth, gauth.ScopeGmailSend)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"internal_failure"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	_, err := get(client(t, auth, down.URL+"/token", subject, gauth.ScopeGmailSend), url)
	var ce *connector.Error
	if !errors.As(err, &ce) || ce.Permanent {
		t.Fatalf("err = %v, want temporary", err)
	}
}

func TestMissingScopeIsRefusedByTheAPI(t *testing.T) {
	t.Parallel()
	auth, tokenURL := gauthfake.Start(t, []string{gauth.ScopeGmailSend, gauth.ScopeDriveFile}, subject)
	url, _ := api(t, auth, gauth.ScopeGmailSend)
	if st, err := get(client(t, auth, tokenURL, subject, gauth.ScopeDriveFile), url); err != nil || st != http.StatusForbidden {
		t.Fatalf("status %d err %v, want 403 insufficient scopes", st, err)
	}
}
