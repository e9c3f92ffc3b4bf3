package devidp

import (
	"encoding/json"
	"net/http"
	"net/url"
)

// writeJSON sends v with the no-store headers that token and userinfo
// responses require (RFC 6749 section 5.1).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError is the JSON error body of RFC 6749 section 5.2.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, oauthError{Error: code, Description: description})
}

// redirectWith sends the browser to target with params added to its query.
// target must already have been checked against a client's registration.
func (p *Provider) redirectWith(w http.ResponseWriter, r *http.Request, target string, params url.Values) {
	u, err := url.Parse(target)
	if err != nil {
		// Registered URIs were parsed by New, so this cannot happen.
		p.renderError(w, http.StatusInternalServerError, "The registered redirect URI is not a valid URL.")
		return
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}
