package devidp

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// rp is a relying party built the way the console builds its OIDC client.
type rp struct {
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newRP(t *testing.T, ti *testIDP) *rp {
	t.Helper()
	ctx := oidc.ClientContext(t.Context(), ti.srv.Client())
	provider, err := oidc.NewProvider(ctx, ti.p.Issuer())
	if err != nil {
		t.Fatalf("oidc.NewProvider: %v", err)
	}
	return &rp{
		provider: provider,
		oauth: oauth2.Config{
			ClientID:     testClientID,
			ClientSecret: testClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  testRedirect,
			Scopes:       []string{oidc.ScopeOpenID, "email", "profile", "groups"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: testClientID, Now: ti.clock.Now}),
	}
}

type personaClaims struct {
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
	AuthTime      int64    `json:"auth_time"`
	Nonce         string   `json:"nonce"`
}

func TestFullFlowWithGoOIDC(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	rp := newRP(t, ti)
	ctx := oidc.ClientContext(t.Context(), ti.srv.Client())

	state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	authURL := rp.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("prompt", "login"), oauth2.SetAuthURLParam("max_age", "300"))

	ti.clock.Advance(7 * time.Second) // so auth_time is visibly the pick time
	pickedAt := ti.clock.Now()
	cb := ti.pickPersona(t, authURL, "persona-morgan")

	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirect {
		t.Fatalf("redirected to %q, want %q", got, testRedirect)
	}
	if got := cb.Query().Get("state"); got != state {
		t.Fatalf("state = %q, want %q", got, state)
	}
	if got := cb.Query().Get("iss"); got != ti.p.Issuer() {
		t.Errorf("iss = %q, want %q (RFC 9207)", got, ti.p.Issuer())
	}

	tok, err := rp.oauth.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	rawID, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("token response has no id_token")
	}
	idt, err := rp.verifier.Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	if idt.Subject != "morgan" || idt.Issuer != ti.p.Issuer() || !slices.Equal(idt.Audience, []string{testClientID}) {
		t.Errorf("sub/iss/aud = %q/%q/%v", idt.Subject, idt.Issuer, idt.Audience)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	if want := pickedAt.Add(10 * time.Minute); !idt.Expiry.Equal(want) {
		t.Errorf("exp = %v, want %v (default TokenTTL)", idt.Expiry, want)
	}
	var c personaClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if c.AuthTime != pickedAt.Unix() {
		t.Errorf("auth_time = %d, want %d", c.AuthTime, pickedAt.Unix())
	}
	if !slices.Equal(c.Groups, []string{GroupSupportLeads, GroupFinanceApprovers}) {
		t.Errorf("groups = %v", c.Groups)
	}
	if c.Email != "morgan@example.com" || !c.EmailVerified || c.Name != "Morgan Multi" {
		t.Errorf("email/name claims = %+v", c)
	}

	ui, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	var uc personaClaims
	if err := ui.Claims(&uc); err != nil {
		t.Fatal(err)
	}
	if ui.Subject != "morgan" || ui.Email != "morgan@example.com" || !slices.Equal(uc.Groups, c.Groups) {
		t.Errorf("userinfo = %+v %+v", ui, uc)
	}
}

// The console's own nonce check (property 13) needs a token whose nonce
// differs while Verify still succeeds; this shows the provider echoes
// whatever nonce it was given, so such a token is easy to produce.
func TestNonceIsEchoedVerbatim(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	rp := newRP(t, ti)
	ctx := oidc.ClientContext(t.Context(), ti.srv.Client())
	verifier := oauth2.GenerateVerifier()
	authURL := rp.oauth.AuthCodeURL("st", oidc.Nonce("attacker-nonce"), oauth2.S256ChallengeOption(verifier))
	cb := ti.pickPersona(t, authURL, "persona-sam")
	tok, err := rp.oauth.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idt, err := rp.verifier.Verify(ctx, tok.Extra("id_token").(string))
	if err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != "attacker-nonce" {
		t.Fatalf("nonce = %q", idt.Nonce)
	}
}

func TestEveryDefaultPersonaCanLogIn(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, nil)
	rp := newRP(t, ti)
	ctx := oidc.ClientContext(t.Context(), ti.srv.Client())
	for _, persona := range DefaultPersonas() {
		verifier := oauth2.GenerateVerifier()
		authURL := rp.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))
		cb := ti.pickPersona(t, authURL, "persona-"+persona.Subject)
		tok, err := rp.oauth.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("%s: Exchange: %v", persona.Subject, err)
		}
		idt, err := rp.verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatalf("%s: Verify: %v", persona.Subject, err)
		}
		var c personaClaims
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if idt.Subject != persona.Subject || !slices.Equal(c.Groups, persona.Groups) || c.Nonce != "" {
			t.Errorf("%s: sub=%q groups=%v nonce=%q", persona.Subject, idt.Subject, c.Groups, c.Nonce)
		}
	}
}

// A real RP's verifier must reject a token once the provider's clock says it
// has expired; this pins TokenTTL to the exp claim.
func TestIDTokenExpiresAfterTokenTTL(t *testing.T) {
	t.Parallel()
	ti := newTestIDP(t, func(c *Config) { c.TokenTTL = time.Minute })
	rp := newRP(t, ti)
	ctx := oidc.ClientContext(t.Context(), ti.srv.Client())
	verifier := oauth2.GenerateVerifier()
	cb := ti.pickPersona(t, rp.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), "persona-ada")
	tok, err := rp.oauth.Exchange(ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresIn != 60 {
		t.Errorf("expires_in = %d, want 60", tok.ExpiresIn)
	}
	ti.clock.Advance(time.Minute + time.Second)
	if _, err := rp.verifier.Verify(ctx, tok.Extra("id_token").(string)); err == nil {
		t.Fatal("Verify accepted an ID token 1 s after its exp")
	}
	req, _ := http.NewRequest(http.MethodGet, ti.url("/userinfo"), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := ti.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("userinfo with expired access token: %d, want 401", resp.StatusCode)
	}
}
