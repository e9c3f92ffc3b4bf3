package web

import (
	"net/http"

	"github.com/countersign/countersign/internal/auth"
)

// authenticator loads the signed-in principal from the session cookie.
type authenticator struct{ s *Server }

func newAuthenticator(s *Server) (*authenticator, error) { return &authenticator{s: s}, nil }

// require lets through requests whose principal holds one of roles.
func (a *authenticator) require(roles []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if p == nil {
			http.Error(w, "Sign in required.", http.StatusUnauthorized)
			return
		}
		if !p.HasAny(roles...) {
			http.Error(w, "Forbidden.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
