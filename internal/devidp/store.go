package devidp

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"time"
)

// authCode is what an authorization code stands for.
type authCode struct {
	clientID      string
	redirectURI   string
	codeChallenge string
	nonce         string
	scope         string
	persona       Persona
	authTime      time.Time
	expires       time.Time
	used          bool
	replayed      bool
	accessToken   string // issued from this code; revoked if the code is replayed
}

type accessToken struct {
	clientID string
	persona  Persona
	scope    string
	expires  time.Time
}

var (
	errCodeUnknown = errors.New("authorization code is unknown or expired")
	errCodeReused  = errors.New("authorization code was already used")
	errCodeClient  = errors.New("authorization code was issued to another client")
)

// randomToken returns 32 random bytes, base64url encoded. crypto/rand.Read
// never fails (it aborts the program instead), so there is no error.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// issueCode stores c under a fresh code and returns the code.
func (p *Provider) issueCode(c *authCode) string {
	now := p.now()
	c.expires = now.Add(codeTTL)
	code := randomToken()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked(now)
	p.codes[code] = c
	return code
}

// redeemCode marks code used and returns a copy of what it stands for. Any
// presentation by the client it was issued to burns the code, even if the
// caller later rejects the request (e.g. a wrong PKCE verifier), so a verifier
// cannot be guessed over several attempts. A replay revokes the access token
// issued from the first redemption (RFC 6749 section 4.1.2).
func (p *Provider) redeemCode(code, clientID string) (authCode, error) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked(now)
	c, ok := p.codes[code]
	switch {
	case !ok || !now.Before(c.expires):
		return authCode{}, errCodeUnknown
	case c.clientID != clientID:
		return authCode{}, errCodeClient
	case c.used:
		c.replayed = true
		delete(p.tokens, c.accessToken)
		return authCode{}, errCodeReused
	}
	c.used = true
	return *c, nil
}

// issueAccessToken stores an access token and links it to the code it was
// redeemed from. If the code was replayed while the first redemption was in
// flight, the token is returned but never becomes valid.
func (p *Provider) issueAccessToken(code string, t *accessToken) string {
	tok := randomToken()
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.codes[code]
	if ok && c.replayed {
		return tok
	}
	p.tokens[tok] = t
	if ok {
		c.accessToken = tok
	}
	return tok
}

func (p *Provider) lookupAccessToken(tok string) (accessToken, bool) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sweepLocked(now)
	t, ok := p.tokens[tok]
	if !ok || !now.Before(t.expires) {
		return accessToken{}, false
	}
	return *t, true
}

// sweepLocked drops expired codes and tokens. Used codes stay until they
// expire, so that a replay is recognised as one. The maps stay small in
// development, so a full scan per call is cheap.
func (p *Provider) sweepLocked(now time.Time) {
	for k, c := range p.codes {
		if !now.Before(c.expires) {
			delete(p.codes, k)
		}
	}
	for k, t := range p.tokens {
		if !now.Before(t.expires) {
			delete(p.tokens, k)
		}
	}
}
