package devidp

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testClientID     = "console"
	testClientSecret = "s3cret/with+chars&="
	testRedirect     = "http://rp.test/auth/callback"
	testPostLogout   = "http://rp.test/signed-out"
	testPrefix       = "/dev-idp"
)

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testIDP is a provider mounted under testPrefix on a real HTTP server, the
// way `countersign dev` mounts it inside the app's own server.
type testIDP struct {
	p      *Provider
	srv    *httptest.Server
	clock  *fakeClock
	client *http.Client // does not follow redirects, like a browser we inspect
}

func newTestIDP(t *testing.T, edit func(*Config)) *testIDP {
	t.Helper()
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	cfg := Config{
		Issuer: srv.URL + testPrefix,
		Clients: []Client{{
			ID: testClientID, Secret: testClientSecret,
			RedirectURIs:           []string{testRedirect},
			PostLogoutRedirectURIs: []string{testPostLogout},
		}},
		Personas: DefaultPersonas(),
		Now:      clock.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(testPrefix+"/", p.Handler())
	h = mux
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &testIDP{p: p, srv: srv, clock: clock, client: c}
}

func (ti *testIDP) url(endpoint string) string { return ti.p.Issuer() + endpoint }

// validAuthParams is a complete, valid authorization request.
func validAuthParams(verifier string) url.Values {
	return url.Values{
		"client_id":             {testClientID},
		"redirect_uri":          {testRedirect},
		"response_type":         {"code"},
		"scope":                 {"openid email profile groups"},
		"state":                 {"state-123"},
		"nonce":                 {"nonce-456"},
		"code_challenge":        {s256(verifier)},
		"code_challenge_method": {"S256"},
	}
}

const testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 appendix B

func (ti *testIDP) get(t *testing.T, rawURL string) *http.Response {
	t.Helper()
	resp, err := ti.client.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (ti *testIDP) postForm(t *testing.T, rawURL string, form url.Values, edit func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(req)
	}
	resp, err := ti.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", rawURL, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// pickPersona plays the browser: it loads the picker for params, finds the
// form holding the button with data-testid testID, and submits it exactly as
// rendered. It returns the redirect it was answered with.
func (ti *testIDP) pickPersona(t *testing.T, authURL, testID string) *url.URL {
	t.Helper()
	resp := ti.get(t, authURL)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET authorize: status %d, want 200: %s", resp.StatusCode, readBody(t, resp))
	}
	page := parsePage(t, readBody(t, resp))
	form, button := page.formWithButton(testID)
	if form == nil {
		t.Fatalf("no form with button data-testid=%q", testID)
	}
	values := url.Values{}
	for _, in := range form.inputs {
		values.Add(in.name, in.value)
	}
	values.Add(button.name, button.value)
	action, err := resp.Request.URL.Parse(form.action)
	if err != nil {
		t.Fatal(err)
	}
	if form.method != "post" {
		t.Fatalf("form method %q, want post", form.method)
	}
	return redirectOf(t, ti.postForm(t, action.String(), values, nil))
}

func redirectOf(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302: %s", resp.StatusCode, readBody(t, resp))
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode JSON (status %d): %v", resp.StatusCode, err)
	}
}

// htmlPage is the part of a rendered page the tests look at.
type htmlPage struct {
	forms    []*htmlForm
	elements []htmlElement // every start tag, in order
	text     strings.Builder
}

type htmlElement struct {
	name  string
	attrs map[string]string
}

type htmlForm struct {
	action, method string
	inputs         []field
	buttons        []field
}

type field struct{ name, value, testID string }

// parsePage reads HTML with encoding/xml in its lenient HTML mode; the
// provider's pages are simple enough for that, and it keeps the test free
// of dependencies.
func parsePage(t *testing.T, body string) *htmlPage {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	page := &htmlPage{}
	var cur *htmlForm
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return page
		}
		if err != nil {
			t.Fatalf("parse page: %v\n%s", err, body)
		}
		switch tok := tok.(type) {
		case xml.CharData:
			page.text.Write(tok)
		case xml.StartElement:
			el := htmlElement{name: strings.ToLower(tok.Name.Local), attrs: map[string]string{}}
			for _, a := range tok.Attr {
				name := strings.ToLower(a.Name.Local)
				if a.Name.Space != "" {
					name = strings.ToLower(a.Name.Space) + ":" + name
				}
				el.attrs[name] = a.Value
			}
			page.elements = append(page.elements, el)
			f := field{name: el.attrs["name"], value: el.attrs["value"], testID: el.attrs["data-testid"]}
			switch el.name {
			case "form":
				cur = &htmlForm{action: el.attrs["action"], method: strings.ToLower(el.attrs["method"])}
				page.forms = append(page.forms, cur)
			case "input":
				if cur != nil {
					cur.inputs = append(cur.inputs, f)
				}
			case "button":
				if cur != nil {
					cur.buttons = append(cur.buttons, f)
				}
			}
		case xml.EndElement:
			if strings.EqualFold(tok.Name.Local, "form") {
				cur = nil
			}
		}
	}
}

func (p *htmlPage) formWithButton(testID string) (*htmlForm, field) {
	for _, f := range p.forms {
		for _, b := range f.buttons {
			if b.testID == testID {
				return f, b
			}
		}
	}
	return nil, field{}
}

func (p *htmlPage) byTestID(testID string) []htmlElement {
	var out []htmlElement
	for _, el := range p.elements {
		if el.attrs["data-testid"] == testID {
			out = append(out, el)
		}
	}
	return out
}
