package devidp

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// codeFor runs the browser half of the flow for persona and returns the code.
func (ti *testIDP) codeFor(t *testing.T, persona string) string {
	t.Helper()
	loc := ti.pickPersona(t, ti.url("/authorize?"+validAuthParams(testVerifier).Encode()), "persona-"+persona)
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %v", loc)
	}
	return code
}

func tokenForm(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {testRedirect},
		"code_verifier": {testVerifier},
	}
}

// basicAuth authenticates the way golang.org/x/oauth2 does: form-encoded
// id and secret inside HTTP Basic (RFC 6749 2.3.1).
func basicAuth(id, secret string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

func (ti *testIDP) exchange(t *testing.T, form url.Values, auth func(*http.Request)) (int, oauthError, tokenResponse) {
	t.Helper()
	resp := ti.postForm(t, ti.url("/token"), form, auth)
	if resp.StatusCode == http.StatusOK {
		var tr tokenResponse
		decodeJSON(t, resp, &tr)
		return resp.StatusCode, oauthError{}, tr
	}
	var e oauthError
	decodeJSON(t, resp, &e)
	return resp.StatusCode, e, tokenResponse{}
}

func TestTokenClientAuthentication(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	post := func(id, secret string) func(url.Values) {
		return func(f url.Values) { f.Set("client_id", id); f.Set("client_secret", secret) }
	}
	tests := []struct {
		name       string
		auth       func(*http.Request)
		form       func(url.Values)
		wantStatus int
		wantErr    string
	}{
		{"basic ok", basicAuth(testClientID, testClientSecret), nil, 200, ""},
		{"post ok", nil, post(testClientID, testClientSecret), 200, ""},
		{"basic wrong secret", basicAuth(testClientID, "wrong"), nil, 401, "invalid_client"},
		{"post wrong secret", nil, post(testClientID, "wrong"), 401, "invalid_client"},
		{"basic unknown client", basicAuth("ghost", testClientSecret), nil, 401, "invalid_client"},
		{"post unknown client", nil, post("ghost", testClientSecret), 401, "invalid_client"},
		{"no authentication", nil, func(f url.Values) { f.Set("client_id", testClientID) }, 401, "invalid_client"},
		{"both methods", basicAuth(testClientID, testClientSecret), post(testClientID, testClientSecret), 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := tokenForm(ti.codeFor(t, "fiona"))
			if tt.form != nil {
				tt.form(form)
			}
			status, e, tr := ti.exchange(t, form, tt.auth)
			if status != tt.wantStatus || e.Error != tt.wantErr {
				t.Fatalf("got %d %+v, want %d %q", status, e, tt.wantStatus, tt.wantErr)
			}
			if status == 200 && (tr.IDToken == "" || tr.AccessToken == "" || tr.TokenType != "Bearer" || tr.ExpiresIn != 600) {
				t.Fatalf("token response = %+v", tr)
			}
		})
	}
}

func TestTokenRejectsBadGrants(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	auth := basicAuth(testClientID, testClientSecret)
	tests := []struct {
		name    string
		edit    func(url.Values)
		wantErr string
	}{
		{"wrong redirect_uri", func(f url.Values) { f.Set("redirect_uri", "http://rp.test/other") }, "invalid_grant"},
		{"wrong verifier", func(f url.Values) { f.Set("code_verifier", "x"+testVerifier[1:]) }, "invalid_grant"},
		{"missing verifier", func(f url.Values) { f.Del("code_verifier") }, "invalid_request"},
		{"short verifier", func(f url.Values) { f.Set("code_verifier", "abc") }, "invalid_request"},
		{"unknown code", func(f url.Values) { f.Set("code", randomToken()) }, "invalid_grant"},
		{"refresh grant", func(f url.Values) { f.Set("grant_type", "refresh_token") }, "unsupported_grant_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := tokenForm(ti.codeFor(t, "sam"))
			tt.edit(form)
			status, e, _ := ti.exchange(t, form, auth)
			if status != http.StatusBadRequest || e.Error != tt.wantErr || e.Description == "" {
				t.Fatalf("got %d %+v, want 400 %s", status, e, tt.wantErr)
			}
		})
	}
}

// A failed PKCE check burns the code, so the verifier cannot be guessed.
func TestWrongVerifierBurnsTheCode(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	auth := basicAuth(testClientID, testClientSecret)
	code := ti.codeFor(t, "sam")
	bad := tokenForm(code)
	bad.Set("code_verifier", "x"+testVerifier[1:])
	if status, _, _ := ti.exchange(t, bad, auth); status != http.StatusBadRequest {
		t.Fatalf("wrong verifier: %d", status)
	}
	if status, e, _ := ti.exchange(t, tokenForm(code), auth); e.Error != "invalid_grant" {
		t.Fatalf("right verifier after a wrong one: %d %+v, want invalid_grant", status, e)
	}
}

func TestCodeReuseFailsAndRevokesAccessToken(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	auth := basicAuth(testClientID, testClientSecret)
	code := ti.codeFor(t, "ada")
	status, _, tr := ti.exchange(t, tokenForm(code), auth)
	if status != http.StatusOK {
		t.Fatalf("first use: %d", status)
	}
	if got := ti.userinfoStatus(t, tr.AccessToken); got != http.StatusOK {
		t.Fatalf("userinfo before replay: %d", got)
	}
	if status, e, _ := ti.exchange(t, tokenForm(code), auth); status != http.StatusBadRequest || e.Error != "invalid_grant" {
		t.Fatalf("second use: %d %+v, want 400 invalid_grant", status, e)
	}
	if got := ti.userinfoStatus(t, tr.AccessToken); got != http.StatusUnauthorized {
		t.Fatalf("userinfo after replay: %d, want 401", got)
	}
}

func TestConcurrentRedemptionSucceedsOnce(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	auth := basicAuth(testClientID, testClientSecret)
	code := ti.codeFor(t, "felix")
	const n = 20
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	body := tokenForm(code).Encode()
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, ti.url("/token"), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			auth(req)
			resp, err := ti.client.Do(req)
			if err != nil {
				t.Error(err)
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent redemptions succeeded, want exactly 1", ok, n)
	}
}

func TestCodeExpiresAfter60Seconds(t *testing.T) {
	t.Parallel()
	auth := basicAuth(testClientID, testClientSecret)
	for _, tt := range []struct {
		wait time.Duration
		want int
	}{{59 * time.Second, http.StatusOK}, {60 * time.Second, http.StatusBadRequest}} {
		ti := newTestIDP(t, nil)
		code := ti.codeFor(t, "audrey")
		ti.clock.Advance(tt.wait)
		if status, e, _ := ti.exchange(t, tokenForm(code), auth); status != tt.want {
			t.Errorf("after %v: %d %+v, want %d", tt.wait, status, e, tt.want)
		}
	}
}

func TestCodeIsBoundToClient(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "other", Secret: "other-secret", RedirectURIs: []string{testRedirect}})
	})
	code := ti.codeFor(t, "sam")
	if status, e, _ := ti.exchange(t, tokenForm(code), basicAuth("other", "other-secret")); e.Error != "invalid_grant" {
		t.Fatalf("other client redeemed the code: %d %+v", status, e)
	}
	if status, _, _ := ti.exchange(t, tokenForm(code), basicAuth(testClientID, testClientSecret)); status != http.StatusOK {
		t.Fatalf("owning client after a foreign attempt: %d, want 200", status)
	}
}

func (ti *testIDP) userinfoStatus(t *testing.T, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ti.url("/userinfo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := ti.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestUserinfoRejectsMissingOrUnknownToken(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	for _, tok := range []string{"", "nope"} {
		if got := ti.userinfoStatus(t, tok); got != http.StatusUnauthorized {
			t.Errorf("token %q: %d, want 401", tok, got)
		}
	}
}
