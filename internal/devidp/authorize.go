package devidp

import (
	"net/http"
	"net/url"
)

// handleAuthorizePage validates the request and shows the persona picker.
// There is no provider-side session, so the picker is always shown and
// prompt=login and max_age are satisfied by construction.
func (p *Provider) handleAuthorizePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req, aerr := p.parseAuthRequest(q)
	if aerr != nil {
		p.rejectAuthRequest(w, r, aerr)
		return
	}
	if req.promptNone {
		p.rejectAuthRequest(w, r, req.deny("login_required",
			"the development identity provider always asks which persona to use"))
		return
	}
	hidden := make([]hiddenField, 0, len(echoedParams))
	for _, name := range echoedParams {
		if q.Has(name) {
			hidden = append(hidden, hiddenField{Name: name, Value: q.Get(name)})
		}
	}
	p.renderPicker(w, pickerData{
		ClientID: req.client.ID,
		Action:   p.issuerPath + "/authorize",
		Hidden:   hidden,
		Personas: p.personas,
	}, req.redirectURI)
}

// handleAuthorizeDecision receives the picked persona (or a denial) together
// with the original request parameters, validates them again, and redirects
// back to the client with a code or an error.
func (p *Provider) handleAuthorizeDecision(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	form := r.PostForm
	req, aerr := p.parseAuthRequest(form)
	if aerr != nil {
		p.rejectAuthRequest(w, r, aerr)
		return
	}
	if form.Has("deny") {
		p.rejectAuthRequest(w, r, req.deny("access_denied", "the user declined to sign in"))
		return
	}
	persona, ok := p.bySubject[form.Get("persona")]
	if !ok {
		p.rejectAuthRequest(w, r, req.deny("invalid_request", "unknown persona"))
		return
	}
	code := p.issueCode(&authCode{
		clientID:      req.client.ID,
		redirectURI:   req.redirectURI,
		codeChallenge: req.codeChallenge,
		nonce:         req.nonce,
		scope:         req.scope,
		persona:       persona,
		authTime:      p.now(),
	})
	p.redirectWith(w, r, req.redirectURI, url.Values{"code": {code}, "state": {req.state}, "iss": {p.issuer}})
}

// rejectAuthRequest redirects to the client when its redirect URI was
// verified, and otherwise shows a 400 page: an unverified redirect URI is
// never followed (open redirector, RFC 6749 section 4.1.2.1).
func (p *Provider) rejectAuthRequest(w http.ResponseWriter, r *http.Request, e *authError) {
	if !e.redirect {
		p.renderError(w, http.StatusBadRequest, e.description)
		return
	}
	p.redirectWith(w, r, e.redirectURI, p.errorParams(e))
}

// deny turns a valid request into an error sent back to the client.
func (req authRequest) deny(code, desc string) *authError {
	return &authError{redirect: true, redirectURI: req.redirectURI, code: code, description: desc, state: req.state}
}
