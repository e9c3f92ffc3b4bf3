package devidp

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// authRequest is a validated authorization request (OIDC Core 3.1.2.1).
type authRequest struct {
	client        Client
	redirectURI   string
	scope         string
	state         string
	nonce         string
	codeChallenge string
	promptNone    bool
}

// authError is a rejected authorization request. When redirect is false the
// redirect URI could not be trusted and the user gets a 400 page instead.
type authError struct {
	redirect    bool
	redirectURI string
	code        string
	description string
	state       string
}

// echoedParams are carried from the picker page to POST /authorize in
// hidden fields, and validated again there.
var echoedParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "state",
	"nonce", "code_challenge", "code_challenge_method",
}

// RFC 7636 section 4.2: BASE64URL(SHA256(verifier)) is 43 characters.
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// parseAuthRequest checks the client and redirect URI first, because only
// once both are known may errors be sent back to the redirect URI.
func (p *Provider) parseAuthRequest(v url.Values) (authRequest, *authError) {
	page := func(desc string) *authError { return &authError{description: desc} }
	if len(v["client_id"]) != 1 || len(v["redirect_uri"]) != 1 {
		return authRequest{}, page("client_id and redirect_uri must each be given exactly once.")
	}
	client, ok := p.clients[v.Get("client_id")]
	if !ok {
		return authRequest{}, page("Unknown client_id.")
	}
	redirectURI := v.Get("redirect_uri")
	if !slices.Contains(client.RedirectURIs, redirectURI) {
		return authRequest{}, page("redirect_uri is not registered for this client.")
	}
	req := authRequest{client: client, redirectURI: redirectURI, state: v.Get("state")}
	fail := func(code, desc string) (authRequest, *authError) {
		return authRequest{}, &authError{redirect: true, redirectURI: redirectURI, code: code, description: desc, state: req.state}
	}
	for k, vs := range v {
		if len(vs) > 1 {
			return fail("invalid_request", "parameter "+k+" given more than once")
		}
	}
	switch {
	case v.Has("request"):
		return fail("request_not_supported", "request objects are not supported")
	case v.Has("request_uri"):
		return fail("request_uri_not_supported", "request_uri is not supported")
	case v.Has("response_mode") && v.Get("response_mode") != "query":
		return fail("invalid_request", "only response_mode=query is supported")
	case v.Get("response_type") != "code":
		return fail("unsupported_response_type", "only response_type=code is supported")
	case !slices.Contains(strings.Fields(v.Get("scope")), "openid"):
		return fail("invalid_scope", "scope must contain openid")
	case req.state == "":
		return fail("invalid_request", "state is required")
	case v.Get("code_challenge") == "" || v.Get("code_challenge_method") != "S256":
		return fail("invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256")
	case !s256Challenge.MatchString(v.Get("code_challenge")):
		return fail("invalid_request", "code_challenge must be 43 base64url characters")
	}
	if raw := v.Get("max_age"); raw != "" {
		if n, err := strconv.Atoi(raw); err != nil || n < 0 {
			return fail("invalid_request", "max_age must be a non-negative integer")
		}
	}
	prompts := strings.Fields(v.Get("prompt"))
	if slices.Contains(prompts, "none") {
		if len(prompts) > 1 {
			return fail("invalid_request", "prompt=none cannot be combined with other values")
		}
		req.promptNone = true
	}
	req.scope = v.Get("scope")
	req.nonce = v.Get("nonce")
	req.codeChallenge = v.Get("code_challenge")
	return req, nil
}

// errorParams is the query of an error redirect (RFC 6749 4.1.2.1, RFC 9207).
func (p *Provider) errorParams(e *authError) url.Values {
	q := url.Values{"error": {e.code}, "error_description": {e.description}, "iss": {p.issuer}}
	if e.state != "" {
		q.Set("state", e.state)
	}
	return q
}
