package devidp

import (
	"net/http"
	"strings"
	"testing"
)

func TestAuthorizeRejectsUntrustedRedirectWithPage(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	tests := map[string]func(q map[string][]string){
		"unknown client":            func(q map[string][]string) { q["client_id"] = []string{"nope"} },
		"missing client":            func(q map[string][]string) { delete(q, "client_id") },
		"unregistered redirect_uri": func(q map[string][]string) { q["redirect_uri"] = []string{"http://evil.test/cb"} },
		"redirect_uri prefix only":  func(q map[string][]string) { q["redirect_uri"] = []string{testRedirect + "/x"} },
		"redirect_uri extra query":  func(q map[string][]string) { q["redirect_uri"] = []string{testRedirect + "?a=b"} },
		"missing redirect_uri":      func(q map[string][]string) { delete(q, "redirect_uri") },
		"duplicate redirect_uri":    func(q map[string][]string) { q["redirect_uri"] = []string{testRedirect, "http://evil.test/cb"} },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			q := validAuthParams(testVerifier)
			edit(q)
			resp := ti.get(t, ti.url("/authorize?"+q.Encode()))
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q; want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
			}
			page := parsePage(t, readBody(t, resp))
			if len(page.byTestID("error-message")) != 1 || len(page.byTestID("devidp-warning")) != 1 {
				t.Fatal("400 page lacks error-message or the not-for-production warning")
			}
		})
	}
}

func TestAuthorizeErrorsRedirectToClient(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	tests := []struct {
		name, wantErr string
		edit          func(q map[string][]string)
	}{
		{"missing PKCE challenge", "invalid_request", func(q map[string][]string) { delete(q, "code_challenge") }},
		{"missing PKCE method", "invalid_request", func(q map[string][]string) { delete(q, "code_challenge_method") }},
		{"plain PKCE", "invalid_request", func(q map[string][]string) { q["code_challenge_method"] = []string{"plain"} }},
		{"malformed challenge", "invalid_request", func(q map[string][]string) { q["code_challenge"] = []string{"short"} }},
		{"missing state", "invalid_request", func(q map[string][]string) { delete(q, "state") }},
		{"token response_type", "unsupported_response_type", func(q map[string][]string) { q["response_type"] = []string{"token"} }},
		{"no openid scope", "invalid_scope", func(q map[string][]string) { q["scope"] = []string{"email"} }},
		{"openid as substring only", "invalid_scope", func(q map[string][]string) { q["scope"] = []string{"openidx"} }},
		{"bad max_age", "invalid_request", func(q map[string][]string) { q["max_age"] = []string{"-1"} }},
		{"fragment response_mode", "invalid_request", func(q map[string][]string) { q["response_mode"] = []string{"fragment"} }},
		{"duplicate nonce", "invalid_request", func(q map[string][]string) { q["nonce"] = []string{"a", "b"} }},
		{"request object", "request_not_supported", func(q map[string][]string) { q["request"] = []string{"x.y.z"} }},
		{"prompt none", "login_required", func(q map[string][]string) { q["prompt"] = []string{"none"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := validAuthParams(testVerifier)
			tt.edit(q)
			loc := redirectOf(t, ti.get(t, ti.url("/authorize?"+q.Encode())))
			if got := loc.Scheme + "://" + loc.Host + loc.Path; got != testRedirect {
				t.Fatalf("redirected to %q", got)
			}
			got := loc.Query()
			if got.Get("error") != tt.wantErr || got.Get("error_description") == "" || got.Has("code") {
				t.Fatalf("query = %v, want error=%s with a description and no code", got, tt.wantErr)
			}
			if want := q.Get("state"); got.Get("state") != want {
				t.Fatalf("state = %q, want %q", got.Get("state"), want)
			}
		})
	}
}

func TestPickerPage(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	q := validAuthParams(testVerifier)
	q.Set("prompt", "login")
	q.Set("max_age", "0")
	resp := ti.get(t, ti.url("/authorize?"+q.Encode()))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self' http://rp.test"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
	body := readBody(t, resp)
	page := parsePage(t, body)
	if !strings.Contains(page.text.String(), "Countersign development identity provider — not for production") {
		t.Error("page does not say it is not for production")
	}
	for _, p := range DefaultPersonas() {
		form, button := page.formWithButton("persona-" + p.Subject)
		if form == nil || button.name != "persona" || button.value != p.Subject {
			t.Fatalf("no persona button for %s", p.Subject)
		}
		hidden := map[string]string{}
		for _, in := range form.inputs {
			hidden[in.name] = in.value
		}
		for _, name := range echoedParams {
			if hidden[name] != q.Get(name) {
				t.Errorf("%s form: hidden %s = %q, want %q", p.Subject, name, hidden[name], q.Get(name))
			}
		}
	}
	if f, _ := page.formWithButton("deny"); f == nil {
		t.Error("no deny button")
	}
	links := 0
	for _, el := range page.elements {
		if el.name == "link" && el.attrs["rel"] == "stylesheet" && el.attrs["href"] == testPrefix+"/static.css" {
			links++
		}
	}
	if links != 1 {
		t.Errorf("stylesheet link to %s/static.css found %d times", testPrefix, links)
	}
	css := ti.get(t, ti.url("/static.css"))
	if css.StatusCode != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("static.css: %d %q", css.StatusCode, css.Header.Get("Content-Type"))
	}
}

// Pages carry no script, no inline style and no event handler attributes,
// so a strict CSP can forbid them and the host's CSS can style the page.
func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	pages := map[string]string{
		"picker":     ti.url("/authorize?" + validAuthParams(testVerifier).Encode()),
		"error":      ti.url("/authorize?client_id=nope"),
		"signed out": ti.url("/logout"),
	}
	for name, u := range pages {
		body := readBody(t, ti.get(t, u))
		for _, el := range parsePage(t, body).elements {
			if el.name == "script" || el.name == "style" {
				t.Errorf("%s page has a <%s> element", name, el.name)
			}
			for attr, v := range el.attrs {
				if attr == "style" || strings.HasPrefix(attr, "on") || strings.HasPrefix(strings.TrimSpace(strings.ToLower(v)), "javascript:") {
					t.Errorf("%s page: <%s %s=%q>", name, el.name, attr, v)
				}
			}
		}
	}
}

func TestPersonaFieldsAreHTMLEscaped(t *testing.T) {
	t.Parallel()
	evil := Persona{
		Subject:     `x" onclick="alert(1)`,
		Name:        `<script>alert("name")</script>`,
		Email:       `<img src=x onerror=alert(1)>@example.com`,
		Groups:      []string{`</span><script>alert(2)</script>`},
		Description: `"'><b>bold</b>`,
	}
	ti := newTestIDP(t, func(c *Config) { c.Personas = []Persona{evil} })
	q := validAuthParams(testVerifier)
	q.Set("state", `"><script>alert(3)</script>`)
	resp := ti.get(t, ti.url("/authorize?"+q.Encode()))
	body := readBody(t, resp)
	for _, raw := range []string{"<script", "<img", "<b>", `" onclick="`} {
		if strings.Contains(body, raw) {
			t.Errorf("page contains unescaped %q", raw)
		}
	}
	page := parsePage(t, body)
	form, button := page.formWithButton("persona-" + evil.Subject)
	if form == nil || button.value != evil.Subject {
		t.Fatal("persona button with the hostile subject not found intact")
	}
	text := page.text.String()
	for _, want := range []string{evil.Name, evil.Email, evil.Description} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q (over- or under-escaped)", want)
		}
	}
	// The hostile values survive the round trip as data.
	loc := ti.pickPersona(t, ti.url("/authorize?"+q.Encode()), "persona-"+evil.Subject)
	if loc.Query().Get("state") != q.Get("state") || loc.Query().Get("code") == "" {
		t.Fatalf("redirect query = %v", loc.Query())
	}
}

func TestDenyRedirectsWithAccessDenied(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	loc := ti.pickPersona(t, ti.url("/authorize?"+validAuthParams(testVerifier).Encode()), "deny")
	if got := loc.Query(); got.Get("error") != "access_denied" || got.Get("state") != "state-123" || got.Has("code") {
		t.Fatalf("query = %v", got)
	}
}

func TestAuthorizePostRevalidatesHiddenFields(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	t.Run("tampered redirect_uri gets a page, not a redirect", func(t *testing.T) {
		form := validAuthParams(testVerifier)
		form.Set("redirect_uri", "http://evil.test/cb")
		form.Set("persona", "ada")
		resp := ti.postForm(t, ti.url("/authorize"), form, nil)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("dropped PKCE", func(t *testing.T) {
		form := validAuthParams(testVerifier)
		form.Del("code_challenge")
		form.Set("persona", "ada")
		loc := redirectOf(t, ti.postForm(t, ti.url("/authorize"), form, nil))
		if loc.Query().Get("error") != "invalid_request" || loc.Query().Has("code") {
			t.Fatalf("query = %v", loc.Query())
		}
	})
	t.Run("unknown persona", func(t *testing.T) {
		form := validAuthParams(testVerifier)
		form.Set("persona", "mallory")
		loc := redirectOf(t, ti.postForm(t, ti.url("/authorize"), form, nil))
		if loc.Query().Get("error") != "invalid_request" || loc.Query().Has("code") {
			t.Fatalf("query = %v", loc.Query())
		}
	})
	t.Run("cross-site POST is refused", func(t *testing.T) {
		form := validAuthParams(testVerifier)
		form.Set("persona", "ada")
		resp := ti.postForm(t, ti.url("/authorize"), form, func(r *http.Request) {
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
	})
}
