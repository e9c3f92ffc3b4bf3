package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/countersign/countersign/internal/config"
)

// zitadel's example OpenID provider (github.com/zitadel/oidc/v3/example/server),
// run in-process: an independent implementation whose issuer ends in "/" and whose
// ID tokens carry no profile, email or groups when an access token is issued. Groups
// are added to its userinfo answer only, as Okta's org server and others do.

const zitadelPassword = "verysecure"

type zitadelUsers map[string]*storage.User

func (u zitadelUsers) GetUserByID(id string) *storage.User { return u[id] }
func (u zitadelUsers) ExampleClientID() string             { return storage.ServiceUserID }
func (u zitadelUsers) GetUserByUsername(name string) *storage.User {
	for _, x := range u {
		if x.Username == name {
			return x
		}
	}
	return nil
}

// zitadelStorage is the example storage with groups in userinfo only, and for the
// users in overage an ID token shaped like Entra ID's groups overage.
type zitadelStorage struct {
	*storage.Storage
	groups  map[string][]string
	overage map[string]bool
}

func (s *zitadelStorage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	if g := s.groups[info.Subject]; len(g) > 0 {
		info.AppendClaims("groups", g)
	}
	return nil
}

func (s *zitadelStorage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	if s.overage[req.GetSubject()] {
		info.AppendClaims("_claim_names", map[string]string{"groups": "src1"})
		info.AppendClaims("_claim_sources", map[string]any{"src1": map[string]string{
			"endpoint": "https://graph.microsoft.com/v1.0/users/" + req.GetSubject() + "/getMemberObjects"}})
	}
	return nil
}

// newZitadelHarness is the console signing in through zitadel's example provider,
// configured as an operator would: through config.Load and the issuer exactly as the
// provider documents it, trailing slash included.
func newZitadelHarness(t *testing.T) *harness {
	t.Helper()
	users := zitadelUsers{
		"u-fin":   {ID: "u-fin", Username: "fiona", Password: zitadelPassword, FirstName: "Fiona", LastName: "Finance", Email: "fiona@example.com", EmailVerified: true, PreferredLanguage: language.English},
		"u-none":  {ID: "u-none", Username: "nils", Password: zitadelPassword, FirstName: "Nils", LastName: "Nogroup", Email: "nils@example.com", EmailVerified: true, PreferredLanguage: language.English},
		"u-entra": {ID: "u-entra", Username: "erin", Password: zitadelPassword, FirstName: "Erin", LastName: "Entra", Email: "erin@example.com", EmailVerified: true, PreferredLanguage: language.English},
	}
	st := &zitadelStorage{Storage: storage.NewStorage(users),
		groups: map[string][]string{"u-fin": {"finance-approvers", "staff"}}, overage: map[string]bool{"u-entra": true}}
	idp := httptest.NewUnstartedServer(nil)
	issuer := "http://" + idp.Listener.Addr().String() + "/"
	h := newHarness(t, harnessOpts{edit: func(c *config.Config) {
		storage.RegisterClients(storage.WebClient("countersign-zitadel", "zitadel-secret", c.BaseURL.String()+"/auth/callback"))
		loaded, err := config.Load(func(k string) string {
			return map[string]string{"COUNTERSIGN_OIDC_ISSUER": issuer, "COUNTERSIGN_OIDC_CLIENT_ID": "countersign-zitadel",
				"COUNTERSIGN_OIDC_CLIENT_SECRET": "zitadel-secret"}[k]
		}, config.Dev)
		if err != nil {
			t.Fatal(err)
		}
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = loaded.OIDCIssuer, loaded.OIDCClientID, loaded.OIDCClientSecret
	}})
	idp.Config.Handler = exampleop.SetupServer(issuer, st, nil, false)
	idp.Start()
	t.Cleanup(idp.Close)
	return h
}

// zitadelLogin runs the whole round trip: /login, the provider's authorize endpoint,
// its username form, its callback, and ours; it returns our callback's answer.
func (b *browser) zitadelLogin(username string) *http.Response {
	b.h.t.Helper()
	authURL := b.startLogin("/login?return=/")
	if !strings.HasSuffix(b.h.cfg.OIDCIssuer, "/") || !strings.HasPrefix(authURL.String(), b.h.cfg.OIDCIssuer) {
		b.h.t.Fatalf("authorize URL %s is not at issuer %s", authURL, b.h.cfg.OIDCIssuer)
	}
	form := location(b.h.t, b.get(authURL.String())) // -> /login/username?authRequestID=...
	id := form.Query().Get("authRequestID")
	if id == "" {
		b.h.t.Fatalf("provider sent the browser to %s, want its login form", form)
	}
	next := location(b.h.t, b.post(b.h.cfg.OIDCIssuer+"login/username",
		url.Values{"id": {id}, "username": {username}, "password": {zitadelPassword}}))
	if !next.IsAbs() {
		next = mustParse(b.h.t, b.h.cfg.OIDCIssuer).ResolveReference(next)
	}
	cb := location(b.h.t, b.get(next.String())) // the provider's callback -> ours with code
	if !strings.HasPrefix(cb.String(), b.h.ts.URL+"/auth/callback") {
		b.h.t.Fatalf("provider redirected to %s, want our callback", cb)
	}
	return b.get(cb.String())
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestZitadelSignInTrailingSlashIssuerAndUserinfoGroups(t *testing.T) {
	h := newZitadelHarness(t)
	b := h.browser()
	resp := b.zitadelLogin("fiona")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("callback: status %d location %q, want 303 to /: %s\nlog:\n%s", resp.StatusCode, resp.Header.Get("Location"), body(resp), h.log.String())
	}
	var roles, email, name, issuer string
	if err := h.db.Gorm.Raw(`SELECT array_to_string(roles, ','), email, name, issuer FROM users WHERE subject = 'u-fin'`).Row().
		Scan(&roles, &email, &name, &issuer); err != nil {
		t.Fatal(err)
	}
	if roles != "finance_approver" || email != "fiona@example.com" || name != "Fiona Finance" || issuer != h.cfg.OIDCIssuer {
		t.Fatalf("user row: roles %q email %q name %q issuer %q", roles, email, name, issuer)
	}
	if page := b.get("/dashboard"); page.StatusCode != http.StatusOK {
		t.Fatalf("signed-in dashboard: status %d (%s)", page.StatusCode, page.Header.Get("Location"))
	}
}

func TestZitadelSignInWithoutGroupsIsRefused(t *testing.T) {
	h := newZitadelHarness(t)
	resp := h.browser().zitadelLogin("nils")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body(resp), "finance-approvers") {
		t.Fatalf("status %d, want 403 naming the groups that grant a role: %s", resp.StatusCode, body(resp))
	}
	if strings.Contains(body(resp), "_claim_names") {
		t.Fatal("a user with no groups was told about a groups overage")
	}
}

func TestZitadelSignInGroupsOverageIsNamed(t *testing.T) {
	h := newZitadelHarness(t)
	resp := h.browser().zitadelLogin("erin")
	text := body(resp)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(text, "overage") || !strings.Contains(text, "_claim_names") ||
		!strings.Contains(text, "Groups assigned to the application") {
		t.Fatalf("status %d, want 403 naming the groups overage and its fix: %s", resp.StatusCode, text)
	}
	if n := h.count(`SELECT count(*) FROM sessions`); n != 0 {
		t.Fatalf("%d sessions after a refused sign-in", n)
	}
}
