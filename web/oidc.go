package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/countersign/countersign/internal/config"
)

// signingAlgs are the ID token algorithms accepted: asymmetric only. "none" and the
// HMAC family (a client secret is not a signing key) are refused whatever the
// provider's discovery document says.
var signingAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512}

// oidcClient is the relying party. Discovery runs lazily on the first sign-in and is
// retried on the next attempt after a failure: the provider may start after us (the
// dev provider is served by this very process, so it is not up before we listen).
type oidcClient struct {
	cfg  *config.Config
	log  *slog.Logger
	http *http.Client
	now  func() time.Time

	mu    sync.Mutex
	ready *oidcProvider
}

// oidcProvider is the result of a successful discovery.
type oidcProvider struct {
	issuer     string
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	oauth      oauth2.Config
	endSession string
}

func newOIDCClient(cfg *config.Config, log *slog.Logger) *oidcClient {
	return &oidcClient{cfg: cfg, log: log, http: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
}

// provider returns the discovered provider, discovering it first if needed.
func (c *oidcClient) provider(ctx context.Context) (*oidcProvider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ready != nil {
		return c.ready, nil
	}
	if c.cfg.OIDCIssuer == "" {
		return nil, errors.New("oidc: no issuer configured (COUNTERSIGN_OIDC_ISSUER)")
	}
	dctx, cancel := context.WithTimeout(oidc.ClientContext(context.WithoutCancel(ctx), c.http), 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, c.cfg.OIDCIssuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery at %s: %w", c.cfg.OIDCIssuer, err)
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&meta)
	c.ready = &oidcProvider{
		issuer: c.cfg.OIDCIssuer, provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: c.cfg.OIDCClientID, SupportedSigningAlgs: signingAlgs,
			Now: func() time.Time { return c.now() }}),
		oauth: oauth2.Config{ClientID: c.cfg.OIDCClientID, ClientSecret: c.cfg.OIDCClientSecret,
			Endpoint: p.Endpoint(), RedirectURL: c.cfg.BaseURL.String() + "/auth/callback", Scopes: c.cfg.OIDCScopes},
		endSession: meta.EndSession,
	}
	c.log.Info("oidc provider discovered", "issuer", c.cfg.OIDCIssuer, "end_session", meta.EndSession != "")
	return c.ready, nil
}

// exchange redeems code with the PKCE verifier and returns the token response and
// its raw ID token; the access token is kept for the userinfo endpoint.
func (c *oidcClient) exchange(ctx context.Context, p *oidcProvider, code, verifier string) (*oauth2.Token, string, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.http)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, "", fmt.Errorf("oidc: token exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, "", errors.New("oidc: token response has no id_token")
	}
	return tok, raw, nil
}

// userinfo reads the userinfo endpoint with the access token. The answer is about
// subject only: a response for anyone else is refused (OIDC Core 5.3.2).
func (c *oidcClient) userinfo(ctx context.Context, p *oidcProvider, tok *oauth2.Token, subject string) (map[string]any, error) {
	if tok == nil || tok.AccessToken == "" {
		return nil, errors.New("oidc: userinfo: no access token")
	}
	uctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, c.http), 10*time.Second)
	defer cancel()
	info, err := p.provider.UserInfo(uctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return nil, fmt.Errorf("oidc: userinfo: %w", err)
	}
	if info.Subject != subject {
		return nil, errors.New("oidc: userinfo: subject differs from the ID token's")
	}
	var claims map[string]any
	if err := info.Claims(&claims); err != nil {
		return nil, fmt.Errorf("oidc: userinfo: %w", err)
	}
	return claims, nil
}

// logoutURL is the provider's end-session URL that returns the browser to
// /signed-out, or "" when the provider has none. Nothing about the session is sent:
// the client id identifies the registration the post-logout URL is checked against.
func (c *oidcClient) logoutURL(p *oidcProvider) string {
	if p == nil || p.endSession == "" {
		return ""
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("client_id", c.cfg.OIDCClientID)
	q.Set("post_logout_redirect_uri", c.cfg.BaseURL.String()+"/signed-out")
	u.RawQuery = q.Encode()
	return u.String()
}

// randomToken is 32 random bytes, base64url: state and nonce (256 bits each).
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func equalSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
