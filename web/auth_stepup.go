package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

// StepUp guards a sensitive route (a high-value approval): when the principal's
// identity-provider sign-in is older than within, the browser is sent through a
// forced re-authentication (prompt=login, max_age) that ends on a new session and
// returns here. A GET returns to its own URL; another method cannot be replayed, so
// it returns to the page the form was on (a same-origin Referer) and the user submits
// again. Use it inside the route table after the role check:
//
//	{"POST /approvals/{id}/approve", finance, StepUp(10*time.Minute, h(a.Approve))},
//
// Handlers that decide per request (e.g. only above an amount) can do the same with
// auth.RecentLogin and auth.StepUpURL.
func StepUp(within time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if auth.RecentLogin(auth.FromContext(r.Context()), within) {
			next.ServeHTTP(w, r)
			return
		}
		http.Redirect(w, r, auth.StepUpURL(stepUpReturn(r), within), http.StatusSeeOther)
	})
}

func stepUpReturn(r *http.Request) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r.URL.RequestURI()
	}
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host {
		return "/"
	}
	return ref.RequestURI()
}
