package devidp

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

func TestDiscoveryDocument(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	resp := ti.get(t, ti.url("/.well-known/openid-configuration"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var d discovery
	decodeJSON(t, resp, &d)
	iss := ti.p.Issuer()
	checks := map[string][2]string{
		"issuer":                 {d.Issuer, iss},
		"authorization_endpoint": {d.AuthorizationEndpoint, iss + "/authorize"},
		"token_endpoint":         {d.TokenEndpoint, iss + "/token"},
		"userinfo_endpoint":      {d.UserinfoEndpoint, iss + "/userinfo"},
		"jwks_uri":               {d.JWKSURI, iss + "/jwks"},
		"end_session_endpoint":   {d.EndSessionEndpoint, iss + "/logout"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	lists := map[string][2][]string{
		"response_types_supported":              {d.ResponseTypesSupported, {"code"}},
		"id_token_signing_alg_values_supported": {d.IDTokenSigningAlgValuesSupported, {"RS256"}},
		"code_challenge_methods_supported":      {d.CodeChallengeMethodsSupported, {"S256"}},
		"subject_types_supported":               {d.SubjectTypesSupported, {"public"}},
	}
	for name, l := range lists {
		if !slices.Equal(l[0], l[1]) {
			t.Errorf("%s = %v, want %v", name, l[0], l[1])
		}
	}
	for _, want := range []string{"groups", "auth_time", "nonce", "email"} {
		if !slices.Contains(d.ClaimsSupported, want) {
			t.Errorf("claims_supported lacks %s", want)
		}
	}
	if !slices.Contains(d.ScopesSupported, "openid") {
		t.Error("scopes_supported lacks openid")
	}
}

func TestJWKSPublishesOnlyThePublicRS256Key(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	var set jose.JSONWebKeySet
	decodeJSON(t, ti.get(t, ti.url("/jwks")), &set)
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if !k.IsPublic() || k.Algorithm != "RS256" || k.Use != "sig" || k.KeyID == "" {
		t.Fatalf("key = public:%v alg:%q use:%q kid:%q", k.IsPublic(), k.Algorithm, k.Use, k.KeyID)
	}
}

// Two providers never share a key: tokens from one process (or test) are
// worthless to another.
func TestEachProviderHasItsOwnKey(t *testing.T) {
	t.Parallel()
	a, b := newTestIDP(t, nil), newTestIDP(t, nil)
	if a.p.key.kid == b.p.key.kid {
		t.Fatal("two providers generated the same key")
	}
}

func TestHandlerServesOnlyUnderIssuerPath(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	h := ti.p.Handler()
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", testPrefix + "/jwks", http.StatusOK},
		{"GET", "/jwks", http.StatusNotFound},
		{"GET", "/.well-known/openid-configuration", http.StatusNotFound},
		{"DELETE", testPrefix + "/token", http.StatusMethodNotAllowed},
		{"GET", testPrefix + "/token", http.StatusMethodNotAllowed},
	} {
		req, err := http.NewRequest(tt.method, ti.srv.URL+tt.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
}

// An issuer without a path serves at the server root.
func TestRootIssuer(t *testing.T) {
	t.Parallel()
	var h http.Handler = http.NotFoundHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	p, err := New(Config{
		Issuer:   srv.URL,
		Clients:  []Client{{ID: testClientID, Secret: testClientSecret, RedirectURIs: []string{testRedirect}}},
		Personas: DefaultPersonas(),
	})
	if err != nil {
		t.Fatal(err)
	}
	h = p.Handler()
	provider, err := oidc.NewProvider(oidc.ClientContext(t.Context(), srv.Client()), srv.URL)
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	if got := provider.Endpoint().TokenURL; got != srv.URL+"/token" {
		t.Fatalf("token URL = %q", got)
	}
}
