package devidp

import (
	"net/http"
	"net/url"
	"slices"
)

// handleLogout implements RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0). The provider keeps no session, so there is nothing to end
// here; it only validates the request and sends the browser back.
func (p *Provider) handleLogout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.renderError(w, http.StatusBadRequest, "The logout request could not be read.")
		return
	}
	v := r.Form
	clientID := v.Get("client_id")
	if hint := v.Get("id_token_hint"); hint != "" {
		// An expired hint is fine (the user may have been idle); a forged one
		// is not.
		var claims idTokenClaims
		if err := p.key.verify(hint, &claims); err != nil || claims.Issuer != p.issuer {
			p.renderError(w, http.StatusBadRequest, "id_token_hint was not issued by this provider.")
			return
		}
		if clientID != "" && clientID != claims.Audience {
			p.renderError(w, http.StatusBadRequest, "client_id does not match id_token_hint.")
			return
		}
		clientID = claims.Audience
	}
	target := v.Get("post_logout_redirect_uri")
	if target == "" {
		p.renderSignedOut(w)
		return
	}
	client, ok := p.clients[clientID]
	if !ok {
		p.renderError(w, http.StatusBadRequest, "post_logout_redirect_uri needs a known client_id or an id_token_hint.")
		return
	}
	if !slices.Contains(client.PostLogoutRedirectURIs, target) {
		p.renderError(w, http.StatusBadRequest, "post_logout_redirect_uri is not registered for this client.")
		return
	}
	q := url.Values{}
	if state := v.Get("state"); state != "" {
		q.Set("state", state)
	}
	p.redirectWith(w, r, target, q)
}
