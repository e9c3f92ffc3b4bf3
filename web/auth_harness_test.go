package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/devidp"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/wire"
)

const (
	testClientID     = "countersign-test"
	testClientSecret = "test-client-secret"
)

// harness is the real console (web.New) on an httptest server with the built-in
// identity provider mounted at /dev-idp/, exactly as `countersign dev` mounts it.
type harness struct {
	t   *testing.T
	db  *database.DB
	cfg *config.Config
	srv *Server
	ts  *httptest.Server
	idp *devidp.Provider
	log *syncBuffer
	// idpUp gates the provider: while false it answers 503 (discovery retry test).
	idpUp *atomic.Bool
}

type harnessOpts struct {
	tls     bool
	db      *database.DB
	edit    func(*config.Config)
	idpDown bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// nora has a group that maps to no role.
var nora = devidp.Persona{Subject: "nora", Name: "Nora Norole", Email: "nora@example.com", Groups: []string{"contractors"}}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	db := o.db
	if db == nil {
		db = testdb.New(t)
	}
	ts := httptest.NewUnstartedServer(nil)
	scheme := "http"
	if o.tls {
		scheme = "https"
	}
	base := scheme + "://" + ts.Listener.Addr().String()
	cfg := authtest.Config(t)
	cfg.BaseURL, _ = url.Parse(base)
	cfg.Addr = ts.Listener.Addr().String()
	idp, err := devidp.New(devidp.Config{
		Issuer: base + "/dev-idp",
		Clients: []devidp.Client{{ID: testClientID, Secret: testClientSecret,
			RedirectURIs: []string{base + "/auth/callback"}, PostLogoutRedirectURIs: []string{base + "/signed-out"}}},
		Personas: append(devidp.DefaultPersonas(), nora),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.OIDCIssuer, cfg.OIDCClientID, cfg.OIDCClientSecret = idp.Issuer(), testClientID, testClientSecret
	if o.edit != nil {
		o.edit(cfg)
	}
	up := &atomic.Bool{}
	up.Store(!o.idpDown)
	idpHandler := idp.Handler()
	gate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		idpHandler.ServeHTTP(w, r)
	})
	logs := &syncBuffer{}
	lg := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := wire.Build(wire.Options{Config: cfg, DB: db, Log: lg, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	srv, err := New(Deps{Config: cfg, DB: db, Log: lg, Services: g, Extra: map[string]http.Handler{"/dev-idp/": gate}})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	if o.tls {
		ts.StartTLS()
		srv.auth.oidc.http = ts.Client()
	} else {
		ts.Start()
	}
	t.Cleanup(ts.Close)
	return &harness{t: t, db: db, cfg: cfg, srv: srv, ts: ts, idp: idp, log: logs, idpUp: up}
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	h   *harness
	c   *http.Client
	jar *cookiejar.Jar
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *h.ts.Client() // a copy: Client() returns one shared client
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{h: h, c: &c, jar: jar}
}

func (b *browser) do(req *http.Request) *http.Response {
	b.h.t.Helper()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

func (b *browser) get(rawURL string) *http.Response {
	b.h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.abs(rawURL), nil)
	if err != nil {
		b.h.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(rawURL string, form url.Values) *http.Response {
	b.h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(rawURL), strings.NewReader(form.Encode()))
	if err != nil {
		b.h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.h.cfg.BaseURL.String())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

func (b *browser) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return b.h.ts.URL + u
	}
	return u
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.h.ts.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (b *browser) setCookie(c *http.Cookie) {
	u, _ := url.Parse(b.h.ts.URL)
	b.jar.SetCookies(u, []*http.Cookie{c})
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

func location(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		t.Fatalf("status %d, want a redirect: %s", resp.StatusCode, body(resp))
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// startLogin requests /login and returns the authorization URL it redirects to.
func (b *browser) startLogin(path string) *url.URL {
	b.h.t.Helper()
	resp := b.get(path)
	if resp.StatusCode != http.StatusFound {
		b.h.t.Fatalf("GET %s: status %d, want 302: %s", path, resp.StatusCode, body(resp))
	}
	return location(b.h.t, resp)
}

// pickPersona submits the dev provider's picker for authURL as the browser would and
// returns the callback URL it redirects to.
func (b *browser) pickPersona(authURL *url.URL, subject string) *url.URL {
	b.h.t.Helper()
	form := url.Values{}
	for k, v := range authURL.Query() {
		form[k] = v
	}
	if subject == "" {
		form.Set("deny", "1")
	} else {
		form.Set("persona", subject)
	}
	authURL.RawQuery = ""
	resp := b.post(authURL.String(), form)
	return location(b.h.t, resp)
}

// login signs in as the dev persona subject and returns the callback's response.
func (b *browser) login(subject, returnTo string) *http.Response {
	b.h.t.Helper()
	cb := b.pickPersona(b.startLogin("/login?return="+url.QueryEscape(returnTo)), subject)
	return b.get(cb.String())
}

func (h *harness) count(query string, args ...any) int64 {
	h.t.Helper()
	var n int64
	if err := h.db.Gorm.Raw(query, args...).Row().Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (h *harness) exec(query string, args ...any) {
	h.t.Helper()
	if err := h.db.Gorm.Exec(query, args...).Error; err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
}
