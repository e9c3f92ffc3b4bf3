package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/reqlog"
)

// authenticator loads the signed-in principal from the session cookie, enforces
// route roles, and runs the OpenID Connect sign-in (oidc.go).
type authenticator struct {
	s          *Server
	store      *sessionStore
	cookieName string
	oidc       *oidcClient
}

func newAuthenticator(s *Server) (*authenticator, error) {
	if len(s.cfg.SessionKeys) == 0 {
		return nil, errors.New("web: no session keys configured (COUNTERSIGN_SESSION_KEYS)")
	}
	a := &authenticator{s: s, store: newSessionStore(s.db.Gorm, s.cfg), cookieName: auth.SessionCookieName(s.https)}
	a.oidc = newOIDCClient(s.cfg, s.log)
	return a, nil
}

// session returns the request's session (loaded once per request). Errors are
// logged and the session is anonymous: a bad or stale cookie must never be a 500.
func (a *authenticator) session(r *http.Request) (*sessions.Session, *auth.Principal, bool) {
	_, err := r.Cookie(a.cookieName)
	present := err == nil
	s, err := a.store.Get(r, a.cookieName)
	switch {
	case err == nil, errors.Is(err, auth.ErrNoSession):
	case errors.Is(err, errBadCookie):
		reqlog.Logger(r.Context()).Info("session cookie rejected: tampered, expired or signed by a removed key")
	default:
		reqlog.Logger(r.Context()).Error("session load failed", "err", err)
	}
	if s == nil {
		return nil, nil, present
	}
	p, _ := s.Values[valPrincipal].(*auth.Principal)
	return s, p, present
}

// withPrincipal attaches p to the request (context and request logger) and marks the
// response private.
func (a *authenticator) withPrincipal(w http.ResponseWriter, r *http.Request, p *auth.Principal) *http.Request {
	info := reqlog.From(r.Context())
	if info.Logger != nil {
		info.Logger = info.Logger.With("user_id", p.UserID)
	}
	w.Header().Set("Cache-Control", "no-store")
	return r.WithContext(auth.WithPrincipal(r.Context(), p))
}

// optional attaches the principal when the request has a live session, and lets
// every request through: public pages can still show who is signed in.
func (a *authenticator) optional(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie(a.cookieName); err != nil {
			next.ServeHTTP(w, r)
			return
		}
		if _, p, _ := a.session(r); p != nil {
			r = a.withPrincipal(w, r, p)
		}
		next.ServeHTTP(w, r)
	})
}

// require lets through requests whose principal holds one of roles. Anonymous page
// requests (GET/HEAD accepting HTML) are sent to sign in and come back; anything else
// gets a plain 401. A principal without the role gets a 403 page naming the roles.
func (a *authenticator) require(roles []string, next, refused http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, p, present := a.session(r)
		if p == nil {
			a.unauthorized(w, r, present)
			return
		}
		r = a.withPrincipal(w, r, p)
		if !p.HasAny(roles...) {
			reqlog.Logger(r.Context()).Info("forbidden", "route", r.Pattern, "needs", strings.Join(roles, ","))
			if refused != nil {
				refused.ServeHTTP(w, r)
				return
			}
			a.s.app.Forbidden(w, r, roles)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *authenticator) unauthorized(w http.ResponseWriter, r *http.Request, hadCookie bool) {
	if hadCookie {
		a.clearCookie(w)
	}
	w.Header().Set("Cache-Control", "no-store")
	if wantsPage(r) {
		http.Redirect(w, r, "/login?return="+url.QueryEscape(auth.SafeReturn(r.URL.RequestURI())), http.StatusSeeOther)
		return
	}
	w.Header().Set("WWW-Authenticate", `Cookie realm="countersign"`)
	http.Error(w, "Sign in required.", http.StatusUnauthorized)
}

// wantsPage reports whether r is a browser page load that can be redirected to the
// sign-in flow and back.
func wantsPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	accept := r.Header.Get("Accept")
	return accept == "" || strings.Contains(accept, "text/html")
}

func (a *authenticator) clearCookie(w http.ResponseWriter) {
	opts := a.store.options
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(a.cookieName, "", &opts))
}

// RecentLogin reports whether p's identity provider sign-in is at most within old:
// the step-up check for high-value actions (see StepUp).
func (a *authenticator) RecentLogin(p *auth.Principal, within time.Duration) bool {
	return auth.RecentLogin(p, within)
}
