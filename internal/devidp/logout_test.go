package devidp

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func (ti *testIDP) idToken(t *testing.T) string {
	t.Helper()
	status, e, tr := ti.exchange(t, tokenForm(ti.codeFor(t, "sam")), basicAuth(testClientID, testClientSecret))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %+v", status, e)
	}
	return tr.IDToken
}

func TestLogout(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, func(c *Config) {
		c.Clients = append(c.Clients, Client{ID: "other", Secret: "x", RedirectURIs: []string{"http://other.test/cb"},
			PostLogoutRedirectURIs: []string{"http://other.test/bye"}})
	})
	idToken := ti.idToken(t)
	forged := idToken[:len(idToken)-4] + "AAAA"
	ti.clock.Advance(time.Hour) // an expired hint is still a valid hint

	redirects := []struct {
		name   string
		params url.Values
	}{
		{"hint", url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {testPostLogout}, "state": {"s1"}}},
		{"client_id", url.Values{"client_id": {testClientID}, "post_logout_redirect_uri": {testPostLogout}, "state": {"s1"}}},
	}
	for _, tt := range redirects {
		t.Run(tt.name, func(t *testing.T) {
			loc := redirectOf(t, ti.get(t, ti.url("/logout?"+tt.params.Encode())))
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testPostLogout || loc.Query().Get("state") != "s1" {
				t.Fatalf("redirected to %v", loc)
			}
		})
	}

	t.Run("no redirect shows signed-out page", func(t *testing.T) {
		resp := ti.get(t, ti.url("/logout?id_token_hint="+url.QueryEscape(idToken)))
		if resp.StatusCode != http.StatusOK || len(parsePage(t, readBody(t, resp)).byTestID("signed-out")) != 1 {
			t.Fatalf("status %d, want the signed-out page", resp.StatusCode)
		}
	})

	rejected := []struct {
		name   string
		params url.Values
	}{
		{"unregistered target", url.Values{"client_id": {testClientID}, "post_logout_redirect_uri": {"http://evil.test/"}}},
		{"redirect_uri is not a logout target", url.Values{"client_id": {testClientID}, "post_logout_redirect_uri": {testRedirect}}},
		{"another client's target", url.Values{"client_id": {testClientID}, "post_logout_redirect_uri": {"http://other.test/bye"}}},
		{"no client identified", url.Values{"post_logout_redirect_uri": {testPostLogout}}},
		{"forged hint", url.Values{"id_token_hint": {forged}, "post_logout_redirect_uri": {testPostLogout}}},
		{"hint for another client", url.Values{"id_token_hint": {idToken}, "client_id": {"other"}, "post_logout_redirect_uri": {"http://other.test/bye"}}},
	}
	for _, tt := range rejected {
		t.Run(tt.name, func(t *testing.T) {
			resp := ti.get(t, ti.url("/logout?"+tt.params.Encode()))
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d Location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}
