package devidp

import (
	"net/http"
	"strings"
)

type userinfoResponse struct {
	Subject       string   `json:"sub"`
	Name          string   `json:"name,omitempty"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	Groups        []string `json:"groups"`
}

// handleUserinfo answers for a Bearer access token from the Authorization
// header only; tokens in query strings end up in logs.
func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	t, ok := accessToken{}, false
	if strings.EqualFold(scheme, "Bearer") && tok != "" {
		t, ok = p.lookupAccessToken(strings.TrimSpace(tok))
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token", "missing, unknown or expired access token")
		return
	}
	writeJSON(w, http.StatusOK, userinfoResponse{
		Subject:       t.persona.Subject,
		Name:          t.persona.Name,
		Email:         t.persona.Email,
		EmailVerified: t.persona.Email != "",
		Groups:        t.persona.Groups,
	})
}
