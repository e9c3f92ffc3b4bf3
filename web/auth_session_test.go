package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/config"
)

func setCookieNamed(t *testing.T, resp *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no Set-Cookie %s in %v", name, resp.Header.Values("Set-Cookie"))
	return nil
}

func TestSessionCookieAttributes(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run("https="+strconv.FormatBool(tls), func(t *testing.T) {
			h := newHarness(t, harnessOpts{tls: tls})
			b := h.browser()
			b.startLogin("/login")
			resp := b.get("/login") // Set-Cookie of the login cookie
			login := setCookieNamed(t, resp, map[bool]string{false: "countersign_login", true: "__Host-countersign-login"}[tls])
			if login.SameSite != http.SameSiteLaxMode || !login.HttpOnly || login.Secure != tls || login.MaxAge != 600 || login.Path != "/" {
				t.Errorf("login cookie: %+v", login)
			}
			cb := b.pickPersona(location(t, resp), "fiona")
			resp = b.get(cb.String())
			c := setCookieNamed(t, resp, auth.SessionCookieName(tls))
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Domain != "" || c.Path != "/" || c.Secure != tls {
				t.Errorf("session cookie attributes: %+v", c)
			}
			if c.MaxAge != int(h.cfg.SessionLifetime/time.Second) {
				t.Errorf("Max-Age %d, want the session lifetime", c.MaxAge)
			}
			if n := len(c.Name) + len(c.Value); n > 4096 {
				t.Errorf("cookie is %d bytes", n)
			}
			if tls && c.Name != "__Host-countersign" {
				t.Errorf("https cookie name %q", c.Name)
			}
			// HSTS only under https.
			hsts := resp.Header.Get("Strict-Transport-Security")
			if tls != (hsts != "") || tls && !strings.Contains(hsts, "max-age=31536000") {
				t.Errorf("HSTS %q under https=%v", hsts, tls)
			}
		})
	}
}

func TestSessionTimeouts(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	admin := func() *http.Cookie { return authtest.Login(t, h.db, h.cfg, auth.Admin) }
	get := func(c *http.Cookie) *http.Response {
		b := h.browser()
		b.setCookie(c)
		return b.get("/admin/users")
	}
	c := admin()
	if resp := get(c); resp.StatusCode != http.StatusOK {
		t.Fatalf("fresh session: %d", resp.StatusCode)
	}
	// Activity is recorded at most once a minute.
	h.exec(`UPDATE sessions SET last_seen_at = now() - interval '30 seconds'`)
	get(c)
	if n := h.count(`SELECT count(*) FROM sessions WHERE last_seen_at < now() - interval '29 seconds'`); n != 1 {
		t.Error("last_seen_at written on a request within a minute of the last write")
	}
	h.exec(`UPDATE sessions SET last_seen_at = now() - interval '2 minutes'`)
	get(c)
	if n := h.count(`SELECT count(*) FROM sessions WHERE last_seen_at > now() - interval '10 seconds'`); n != 1 {
		t.Error("last_seen_at not refreshed after a minute")
	}
	// Idle timeout.
	h.exec(`UPDATE sessions SET last_seen_at = now() - make_interval(secs => ?) - interval '1 second'`, h.cfg.SessionIdle.Seconds())
	if resp := get(c); resp.StatusCode != http.StatusSeeOther || location(t, resp).Path != "/login" {
		t.Fatalf("idle session: %d", resp.StatusCode)
	}
	// Absolute lifetime, even while active.
	c = admin()
	h.exec(`UPDATE sessions SET created_at = now() - interval '13 hours', expires_at = now() - interval '1 second', last_seen_at = now() WHERE revoked_at IS NULL AND expires_at > now() - interval '1 hour'`)
	if resp := get(c); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("session past its lifetime: %d", resp.StatusCode)
	}
}

func TestDisableAndRoleRemovalTakeEffectAtOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	adminID, adminCookie := authtest.NewSession(t, h.db, h.cfg, authtest.User{Roles: []string{auth.Admin}})
	finID, finCookie := authtest.NewSession(t, h.db, h.cfg, authtest.User{Roles: []string{auth.FinanceApprover, auth.Admin}})
	as := func(c *http.Cookie) *browser { b := h.browser(); b.setCookie(c); return b }

	// Removing the role: the next request is refused with a page naming the role.
	h.exec(`UPDATE users SET roles = '{finance_approver}' WHERE id = ?`, finID)
	resp := as(finCookie).get("/admin/users")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body(resp), "This page needs one of: admin") {
		t.Fatalf("after role removal: %d %s", resp.StatusCode, body(resp))
	}

	// An admin cannot disable themself.
	admin := as(adminCookie)
	resp = admin.post("/admin/users/"+strconv.FormatInt(adminID, 10)+"/disable", nil)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("self-disable: %d", resp.StatusCode)
	}
	// Disabling another user asks first; confirmed: audited, sessions ended, next
	// request anonymous.
	resp = admin.post("/admin/users/"+strconv.FormatInt(finID, 10)+"/disable", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body(resp), `data-testid="disable-user-confirm"`) {
		t.Fatalf("unconfirmed disable: %d", resp.StatusCode)
	}
	resp = admin.post("/admin/users/"+strconv.FormatInt(finID, 10)+"/disable", url.Values{"confirm": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", resp.StatusCode, body(resp))
	}
	if resp := as(finCookie).get("/signed-out"); strings.Contains(body(resp), `data-testid="whoami"`) {
		t.Error("disabled user still signed in")
	}
	if resp := as(finCookie).get("/admin/users"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("disabled user: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'user.disabled' AND object_id = ?`, strconv.FormatInt(finID, 10)); n != 1 {
		t.Errorf("user.disabled audit entries: %d", n)
	}
	resp = admin.post("/admin/users/"+strconv.FormatInt(finID, 10)+"/enable", nil)
	if resp.StatusCode != http.StatusSeeOther || h.count(`SELECT count(*) FROM users WHERE id = ? AND NOT disabled`, finID) != 1 {
		t.Fatalf("enable: %d", resp.StatusCode)
	}
	// Ending sessions.
	c2 := authtest.SessionFor(t, h.db, h.cfg, finID, time.Time{})
	resp = admin.post("/admin/users/"+strconv.FormatInt(finID, 10)+"/end-sessions", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end sessions: %d", resp.StatusCode)
	}
	if resp := as(c2).get("/admin/users"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("ended session still works: %d", resp.StatusCode)
	}
	page := body(admin.get("/admin/users?done=ended"))
	if !strings.Contains(page, `data-testid="flash"`) || !strings.Contains(page, `data-testid="user-`+strconv.FormatInt(finID, 10)+`"`) {
		t.Error("admin page lacks the flash or the user row")
	}
	if resp := admin.post("/admin/users/999999/disable", url.Values{"confirm": {"yes"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown user: %d", resp.StatusCode)
	}
}

func TestSessionKeyRotation(t *testing.T) {
	first := newHarness(t, harnessOpts{})
	cookie := authtest.Login(t, first.db, first.cfg, auth.Admin)
	oldKey := first.cfg.SessionKeys[0]
	newKey := []byte("0123456789abcdef0123456789abcdef")
	rotated := newHarness(t, harnessOpts{db: first.db, edit: func(c *config.Config) { c.SessionKeys = [][]byte{newKey, oldKey} }})
	b := rotated.browser()
	b.setCookie(cookie)
	if resp := b.get("/admin/users"); resp.StatusCode != http.StatusOK {
		t.Fatalf("cookie under the previous key (second in the list): %d", resp.StatusCode)
	}
	removed := newHarness(t, harnessOpts{db: first.db, edit: func(c *config.Config) { c.SessionKeys = [][]byte{newKey} }})
	b = removed.browser()
	b.setCookie(cookie)
	resp := b.get("/admin/users")
	if resp.StatusCode != http.StatusSeeOther || location(t, resp).Path != "/login" {
		t.Fatalf("cookie under a removed key: %d, want a redirect to sign in", resp.StatusCode)
	}
	// Garbage is anonymous too, never a 500.
	b = removed.browser()
	b.setCookie(&http.Cookie{Name: auth.SessionCookieHTTP, Value: "garbage"})
	if resp := b.get("/admin/users"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("garbage cookie: %d", resp.StatusCode)
	}
}

func TestUnauthenticatedNonPageRequests(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	if resp := b.post("/admin/users/1/disable", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous POST: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/admin/users", nil)
	req.Header.Set("Accept", "application/json")
	if resp := b.do(req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous API GET: %d, want 401", resp.StatusCode)
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	_, adminCookie := authtest.NewSession(t, h.db, h.cfg, authtest.User{Roles: []string{auth.Admin}})
	victim := authtest.CreateUser(t, h.db, authtest.User{Roles: []string{auth.Auditor}})
	target := h.ts.URL + "/admin/users/" + strconv.FormatInt(victim, 10) + "/disable"
	for name, hdr := range map[string]map[string]string{
		"cross-site":      {"Sec-Fetch-Site": "cross-site"},
		"same-site":       {"Sec-Fetch-Site": "same-site"},
		"origin mismatch": {"Origin": "https://evil.example"},
		"origin null":     {"Origin": "null"},
	} {
		b := h.browser()
		b.setCookie(adminCookie)
		req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(url.Values{}.Encode()))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if resp := b.do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, resp.StatusCode)
		}
	}
	if n := h.count(`SELECT count(*) FROM users WHERE id = ? AND disabled`, victim); n != 0 {
		t.Fatal("a cross-origin POST disabled a user")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	b := h.browser()
	b.setCookie(authtest.Login(t, h.db, h.cfg, auth.Admin))
	for _, path := range []string{"/admin/users", "/signed-out", "/login?return=/x", "/healthz"} {
		resp := b.get(path)
		csp := resp.Header.Get("Content-Security-Policy")
		script := ""
		for _, d := range strings.Split(csp, ";") {
			if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src") {
				script = d
			}
		}
		if script == "" || strings.Contains(script, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "object-src 'none'") || !strings.Contains(csp, "base-uri 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: nosniff/Referrer-Policy missing", path)
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain http", path)
		}
	}
	if cc := b.get("/admin/users").Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("authenticated page Cache-Control %q", cc)
	}
}
