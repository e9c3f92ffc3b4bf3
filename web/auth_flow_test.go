package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

func TestLoginWithDevIDP(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()

	// Anonymous page request: redirected to sign in, and back afterwards.
	resp := b.get("/admin/users")
	if resp.StatusCode != http.StatusSeeOther || location(t, resp).String() != "/login?return=%2Fadmin%2Fusers" {
		t.Fatalf("anonymous GET /admin/users: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	authURL := b.startLogin("/login?return=%2Fadmin%2Fusers")
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("PKCE: %v", q)
	}
	if len(q.Get("state")) < 22 || len(q.Get("nonce")) < 22 || q.Get("state") == q.Get("nonce") {
		t.Errorf("state/nonce too short or equal: %q %q", q.Get("state"), q.Get("nonce"))
	}
	// A second attempt shares none of the three values.
	other := h.browser().startLogin("/login").Query()
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if other.Get(k) == q.Get(k) {
			t.Errorf("%s repeated across logins", k)
		}
	}
	lc := b.cookie("countersign_login")
	if lc == nil {
		t.Fatal("no login cookie")
	}
	cb := b.pickPersona(authURL, "ada")
	resp = b.get(cb.String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/users" {
		t.Fatalf("callback: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body(resp))
	}
	resp = b.get("/admin/users")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(resp), "ada@example.com") {
		t.Fatalf("admin page after login: %d", resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control on a signed-in page = %q", cc)
	}
	// Users are keyed by issuer + subject; the session id is a hash, not the cookie.
	if n := h.count(`SELECT count(*) FROM users WHERE issuer = ? AND subject = 'ada' AND roles = '{admin}'`, h.cfg.OIDCIssuer); n != 1 {
		t.Errorf("users row for (issuer, ada): %d", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'ok'`); n != 1 {
		t.Errorf("login audit entries: %d", n)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE id = ?`, b.cookie(auth.SessionCookieHTTP).Value); n != 0 {
		t.Error("the cookie value is stored as the session id")
	}
	// The principal is attached on public routes too, with user_id in the request log.
	resp = b.get("/signed-out")
	if !strings.Contains(body(resp), `data-testid="whoami"`) {
		t.Error("public page does not see the signed-in principal")
	}
	if !strings.Contains(h.log.String(), "user_id=") {
		t.Error("request log lines carry no user_id")
	}
}

func TestLoginWithMockOIDC(t *testing.T) {
	h, m := newMockOIDCHarness(t)
	m.QueueUser(mockUser("mock-fiona", "finance-approvers"))
	b := h.browser()
	resp := b.get(b.startLogin("/login?return=/signed-out").String()) // mockoidc answers at once
	cb := location(t, resp)
	resp = b.get(cb.String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signed-out" {
		t.Fatalf("callback: %d %s", resp.StatusCode, body(resp))
	}
	if n := h.count(`SELECT count(*) FROM users WHERE subject = 'mock-fiona' AND roles = '{finance_approver}'`); n != 1 {
		t.Errorf("mockoidc user not recorded with role: %d", n)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_at IS NULL`); n != 1 {
		t.Errorf("sessions: %d", n)
	}
}

func TestCallbackStateChecks(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	noSession := func(t *testing.T) {
		t.Helper()
		if n := h.count(`SELECT count(*) FROM sessions`); n != 0 {
			t.Fatalf("%d sessions created", n)
		}
	}
	t.Run("missing", func(t *testing.T) {
		b := h.browser()
		cb := b.pickPersona(b.startLogin("/login"), "fiona")
		fresh := h.browser() // no login cookie
		resp := fresh.get(cb.String())
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body(resp), "Try again") {
			t.Fatalf("status %d: %s", resp.StatusCode, body(resp))
		}
		noSession(t)
	})
	t.Run("mismatch", func(t *testing.T) {
		b := h.browser()
		cb := b.pickPersona(b.startLogin("/login"), "fiona")
		q := cb.Query()
		q.Set("state", q.Get("state")+"x")
		cb.RawQuery = q.Encode()
		if resp := b.get(cb.String()); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d", resp.StatusCode)
		}
		noSession(t)
	})
	t.Run("idp error", func(t *testing.T) {
		b := h.browser()
		cb := b.pickPersona(b.startLogin("/login"), "") // deny
		resp := b.get(cb.String())
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body(resp), "access_denied") {
			t.Fatalf("status %d: %s", resp.StatusCode, body(resp))
		}
		if strings.Contains(body(resp), "goroutine") {
			t.Error("stack trace on the page")
		}
		noSession(t)
	})
	t.Run("reused", func(t *testing.T) {
		b := h.browser()
		cb := b.pickPersona(b.startLogin("/login"), "fiona")
		lc := b.cookie("countersign_login")
		if resp := b.get(cb.String()); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: %d %s", resp.StatusCode, body(resp))
		}
		replay := h.browser()
		replay.setCookie(lc)
		if resp := replay.get(cb.String()); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("replayed callback: %d", resp.StatusCode)
		}
		if n := h.count(`SELECT count(*) FROM sessions`); n != 1 {
			t.Fatalf("sessions after replay: %d, want 1", n)
		}
	})
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'failed'`); n != 4 {
		t.Errorf("failed-login audit entries: %d, want 4", n)
	}
}

func TestNoRoleAndDisabledLogin(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	resp := h.browser().login("nora", "/")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body(resp), "finance-approvers") ||
		!strings.Contains(body(resp), "no Countersign role") {
		t.Fatalf("no-role login: %d %s", resp.StatusCode, body(resp))
	}
	if n := h.count(`SELECT count(*) FROM sessions`); n != 0 {
		t.Fatalf("no-role user got %d sessions", n)
	}
	h.browser().login("fiona", "/")
	h.exec(`UPDATE users SET disabled = true WHERE subject = 'fiona'`)
	resp = h.browser().login("fiona", "/")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body(resp), "disabled") {
		t.Fatalf("disabled login: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_at IS NULL`); n != 1 {
		t.Fatalf("live sessions: %d, want only the one from before disabling", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'auth.login' AND outcome = 'denied'`); n != 2 {
		t.Errorf("denied-login audit entries: %d", n)
	}
}

func TestReturnPathIsSameOrigin(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, ret := range []string{"//evil.example", "https://evil.example", `/\evil.example`, "/ok/../x\\y"} {
		resp := h.browser().login("fiona", ret)
		if got := resp.Header.Get("Location"); got != "/" {
			t.Errorf("return %q: redirected to %q, want /", ret, got)
		}
	}
	if got := h.browser().login("fiona", "/queues?kind=refund").Header.Get("Location"); got != "/queues?kind=refund" {
		t.Errorf("same-origin return lost: %q", got)
	}
}

func TestLogout(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	b.login("ada", "/")
	old := b.cookie(auth.SessionCookieHTTP)
	resp := b.post("/logout", nil)
	loc := location(t, resp)
	if !strings.HasPrefix(loc.String(), h.cfg.OIDCIssuer+"/logout?") || loc.Query().Get("post_logout_redirect_uri") != h.cfg.BaseURL.String()+"/signed-out" ||
		loc.Query().Get("client_id") != testClientID || loc.Query().Has("id_token_hint") {
		t.Errorf("logout redirect: %s", loc)
	}
	if n := h.count(`SELECT count(*) FROM sessions WHERE revoked_at IS NULL`); n != 0 {
		t.Errorf("live sessions after logout: %d", n)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'auth.logout'`); n != 1 {
		t.Errorf("logout audit entries: %d", n)
	}
	// The provider sends the browser back to /signed-out.
	if back := location(t, b.get(loc.String())); back.Path != "/signed-out" {
		t.Errorf("provider returned to %s", back)
	}
	// Replaying the pre-logout cookie from another client: sign in again.
	other := h.browser()
	other.setCookie(old)
	if resp := other.get("/admin/users"); resp.StatusCode != http.StatusSeeOther || location(t, resp).Path != "/login" {
		t.Fatalf("replayed cookie: %d", resp.StatusCode)
	}
}

func TestStepUpLogin(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	b.login("fiona", "/")
	first := b.cookie(auth.SessionCookieHTTP)
	h.exec(`UPDATE sessions SET auth_time = now() - interval '1 hour'`)
	p := h.principal(first)
	if h.srv.auth.RecentLogin(p, 10*time.Minute) {
		t.Fatal("an hour-old sign-in counts as recent")
	}
	stepURL := auth.StepUpURL("/cases/7?tab=actions", 5*time.Minute)
	authURL := b.startLogin(stepURL) // signed in, but max_age forces the provider
	if q := authURL.Query(); q.Get("prompt") != "login" || q.Get("max_age") != "300" {
		t.Fatalf("step-up authorization request: %v", q)
	}
	resp := b.get(b.pickPersona(authURL, "fiona").String())
	if resp.Header.Get("Location") != "/cases/7?tab=actions" {
		t.Fatalf("step-up return: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	second := b.cookie(auth.SessionCookieHTTP)
	if second.Value == first.Value {
		t.Fatal("session cookie unchanged by a new login (fixation)")
	}
	if !h.srv.auth.RecentLogin(h.principal(second), time.Minute) {
		t.Error("step-up did not refresh auth_time")
	}
	if h.principal(first) != nil {
		t.Error("the replaced session still works")
	}
	// Without max_age a signed-in user is just sent on.
	if resp := b.get("/login?return=/x"); resp.Header.Get("Location") != "/x" {
		t.Errorf("signed-in /login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestDiscoveryIsLazyAndRetried(t *testing.T) {
	h := newHarness(t, harnessOpts{idpDown: true})
	resp := h.browser().get("/login")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body(resp), "Try again") {
		t.Fatalf("login with provider down: %d", resp.StatusCode)
	}
	h.idpUp.Store(true)
	if resp := h.browser().login("fiona", "/x"); resp.Header.Get("Location") != "/x" {
		t.Fatalf("login after provider came up: %d %s", resp.StatusCode, body(resp))
	}
}

// principal loads the principal a session cookie stands for, as the server would.
func (h *harness) principal(c *http.Cookie) *auth.Principal {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/", nil)
	req.AddCookie(c)
	_, p, _ := h.srv.auth.session(req)
	return p
}
