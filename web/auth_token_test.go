package web

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/countersign/countersign/internal/config"
)

func newMockOIDCHarness(t *testing.T) (*harness, *mockoidc.MockOIDC) {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	h := newHarness(t, harnessOpts{edit: func(c *config.Config) {
		mc := m.Config()
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = mc.Issuer, mc.ClientID, mc.ClientSecret
	}})
	return h, m
}

func mockUser(subject string, groups ...string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: subject, Email: subject + "@example.com", EmailVerified: true, Groups: groups}
}

// fakeOP is an identity provider whose token endpoint answers with whatever ID token
// the test crafted: the way to present wrong issuers, audiences, algorithms and keys.
type fakeOP struct {
	ts  *httptest.Server
	key *rsa.PrivateKey
	mu  sync.Mutex
	raw string
}

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{key: key}
	mux := http.NewServeMux()
	op.ts = httptest.NewServer(mux)
	t.Cleanup(op.ts.Close)
	iss := op.ts.URL
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSONTest(w, map[string]any{"issuer": iss, "authorization_endpoint": iss + "/authorize",
			"token_endpoint": iss + "/token", "jwks_uri": iss + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256", "HS256", "none"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSONTest(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		defer op.mu.Unlock()
		writeJSONTest(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60, "id_token": op.raw})
	})
	return op
}

func writeJSONTest(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (op *fakeOP) sign(t *testing.T, alg jose.SignatureAlgorithm, key any, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	if alg == "none" {
		enc := base64.RawURLEncoding.EncodeToString
		return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestIDTokenVerification(t *testing.T) {
	op := newFakeOP(t)
	h := newHarness(t, harnessOpts{edit: func(c *config.Config) { c.OIDCIssuer = op.ts.URL }})
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Now()
	base := func(nonce string) map[string]any {
		return map[string]any{"iss": op.ts.URL, "sub": "u1", "aud": testClientID, "exp": now.Add(5 * time.Minute).Unix(),
			"iat": now.Unix(), "nonce": nonce, "email": "u1@example.com", "groups": []string{"finance-approvers"}}
	}
	cases := []struct {
		name string
		ok   bool
		alg  jose.SignatureAlgorithm
		key  any
		edit func(map[string]any)
	}{
		{"valid", true, jose.RS256, nil, nil},
		{"nbf 4 minutes ahead (leeway)", true, jose.RS256, nil, func(c map[string]any) { c["nbf"] = now.Add(4 * time.Minute).Unix() }},
		{"nbf 6 minutes ahead", false, jose.RS256, nil, func(c map[string]any) { c["nbf"] = now.Add(6 * time.Minute).Unix() }},
		{"wrong issuer", false, jose.RS256, nil, func(c map[string]any) { c["iss"] = "https://evil.example" }},
		{"wrong audience", false, jose.RS256, nil, func(c map[string]any) { c["aud"] = "someone-else" }},
		{"expired 1s ago", false, jose.RS256, nil, func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }},
		{"nonce mismatch", false, jose.RS256, nil, func(c map[string]any) { c["nonce"] = "not-the-nonce" }},
		{"nonce missing", false, jose.RS256, nil, func(c map[string]any) { delete(c, "nonce") }},
		{"alg none", false, "none", nil, nil},
		{"HS256 with the client secret", false, jose.HS256, []byte(testClientSecret + "-padded-to-32-bytes-or-more!!"), nil},
		{"unknown key", false, jose.RS256, otherKey, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := h.browser()
			q := b.startLogin("/login?return=/done").Query()
			claims := base(q.Get("nonce"))
			if tc.edit != nil {
				tc.edit(claims)
			}
			key := tc.key
			if key == nil {
				key = op.key
			}
			op.mu.Lock()
			op.raw = op.sign(t, tc.alg, key, claims)
			op.mu.Unlock()
			before := h.count(`SELECT count(*) FROM sessions`)
			resp := b.get("/auth/callback?" + url.Values{"code": {"c"}, "state": {q.Get("state")}}.Encode())
			after := h.count(`SELECT count(*) FROM sessions`)
			if tc.ok {
				if resp.StatusCode != http.StatusSeeOther || after != before+1 {
					t.Fatalf("status %d, sessions %d->%d: %s", resp.StatusCode, before, after, body(resp))
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || after != before {
				t.Fatalf("status %d, sessions %d->%d, want 400 and no session", resp.StatusCode, before, after)
			}
		})
	}
}

func TestNonceMismatchWithMockOIDC(t *testing.T) {
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The provider echoes a nonce other than the one the console sent.
	_ = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				q := r.URL.Query()
				q.Set("nonce", "forged-nonce")
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	})
	ln, err := newLoopbackListener()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	h := newHarness(t, harnessOpts{edit: func(c *config.Config) {
		c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret = m.Issuer(), m.ClientID, m.ClientSecret
	}})
	m.QueueUser(mockUser("mallory", "admins"))
	b := h.browser()
	cb := location(t, b.get(b.startLogin("/login").String()))
	if resp := b.get(cb.String()); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("nonce mismatch accepted: %d", resp.StatusCode)
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE summary->>'reason' = 'nonce_mismatch'`); n != 1 {
		t.Errorf("nonce_mismatch audit entries: %d", n)
	}
}

func newLoopbackListener() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
