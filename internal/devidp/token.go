package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// tokenResponse is the successful token endpoint body (RFC 6749 5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	IDToken     string `json:"id_token"`
	Scope       string `json:"scope,omitempty"`
}

// idTokenClaims are the claims of every ID token this provider signs.
type idTokenClaims struct {
	Issuer        string   `json:"iss"`
	Subject       string   `json:"sub"`
	Audience      string   `json:"aud"`
	Expiry        int64    `json:"exp"`
	IssuedAt      int64    `json:"iat"`
	AuthTime      int64    `json:"auth_time"`
	Nonce         string   `json:"nonce,omitempty"`
	AccessHash    string   `json:"at_hash,omitempty"`
	Name          string   `json:"name,omitempty"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	Groups        []string `json:"groups"`
}

// RFC 7636 section 4.1.
var codeVerifierSyntax = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	form := r.PostForm
	client, ok := p.authenticateClient(w, r, form)
	if !ok {
		return
	}
	bad := func(code, desc string) { writeOAuthError(w, http.StatusBadRequest, code, desc) }
	switch {
	case form.Get("grant_type") != "authorization_code":
		bad("unsupported_grant_type", "only grant_type=authorization_code is supported")
		return
	case form.Get("code") == "" || form.Get("redirect_uri") == "":
		bad("invalid_request", "code and redirect_uri are required")
		return
	case !codeVerifierSyntax.MatchString(form.Get("code_verifier")):
		bad("invalid_request", "code_verifier is required: 43 to 128 unreserved characters (PKCE)")
		return
	}
	code, err := p.redeemCode(form.Get("code"), client.ID)
	if err != nil {
		bad("invalid_grant", err.Error())
		return
	}
	if form.Get("redirect_uri") != code.redirectURI {
		bad("invalid_grant", "redirect_uri does not match the authorization request")
		return
	}
	challenge := s256(form.Get("code_verifier"))
	if subtle.ConstantTimeCompare([]byte(challenge), []byte(code.codeChallenge)) != 1 {
		bad("invalid_grant", "code_verifier does not match code_challenge")
		return
	}
	p.issueTokens(w, form.Get("code"), code)
}

func (p *Provider) issueTokens(w http.ResponseWriter, rawCode string, code authCode) {
	now := p.now()
	expires := now.Add(p.tokenTTL)
	access := p.issueAccessToken(rawCode, &accessToken{
		clientID: code.clientID, persona: code.persona, scope: code.scope, expires: expires,
	})
	claims := idTokenClaims{
		Issuer:     p.issuer,
		Subject:    code.persona.Subject,
		Audience:   code.clientID,
		Expiry:     expires.Unix(),
		IssuedAt:   now.Unix(),
		AuthTime:   code.authTime.Unix(),
		Nonce:      code.nonce,
		AccessHash: halfHash(access),
		Name:       code.persona.Name,
		Email:      code.persona.Email,
		Groups:     code.persona.Groups,
	}
	claims.EmailVerified = claims.Email != ""
	idToken, err := p.key.sign(claims)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", "could not sign the ID token")
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: access,
		TokenType:   "Bearer",
		ExpiresIn:   int64(p.tokenTTL / time.Second),
		IDToken:     idToken,
		Scope:       code.scope,
	})
}

// authenticateClient accepts exactly one of client_secret_basic and
// client_secret_post. On failure it has already written the response.
func (p *Provider) authenticateClient(w http.ResponseWriter, r *http.Request, form url.Values) (Client, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 2.3.1: both halves are form-urlencoded before base64.
		id, secret = formUnescape(id), formUnescape(secret)
		if form.Has("client_secret") {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "use only one client authentication method")
			return Client{}, false
		}
		if form.Has("client_id") && form.Get("client_id") != id {
			writeOAuthError(w, http.StatusBadRequest, "invalid_request", "client_id does not match the Authorization header")
			return Client{}, false
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	client, known := p.clients[id]
	// Compare even for unknown clients, so timing does not tell them apart.
	want := client.Secret
	if !known {
		want = "\x00unknown client"
	}
	if id == "" || secret == "" || !known || subtle.ConstantTimeCompare([]byte(secret), []byte(want)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp", charset="UTF-8"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return Client{}, false
	}
	return client, true
}

func formUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// s256 is the PKCE S256 transform: BASE64URL(SHA256(verifier)).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
