// Package handlers holds the console's HTTP handlers, one file per area. A handler
// parses the request, calls one domain function, maps the result to a view model and
// renders it. Errors become HTTP statuses in exactly one place (Fail).
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/a-h/templ"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/internal/sandbox"
)

// App holds what the handlers need. It is built once by the web package.
type App struct {
	DB      *database.DB
	Log     *slog.Logger
	Version string
	// Ready reports whether the schema is current; nil error means ready.
	SchemaCurrent func(ctx context.Context) error
	// Nav fills the sidebar; see NavSource.
	Nav NavSource
	// Counts caches the sidebar's queue counts for the whole process (nil: count on
	// every page).
	Counts *console.CountCache
	// Ingest stores verified webhook deliveries.
	Ingest *ingest.Service
	// DialNexaSecrets verify webhook signatures: current first, previous ones after.
	DialNexaSecrets []string
	// Approvals runs decisions (approve, reject, plan, policy, reveal).
	Approvals *approval.Service

	// connector jobs
	// Jobs runs connector actions, alerts, enrichment and Stripe events.
	Jobs *jobs.Service
	// Sandbox is the running connector fakes (nil when every connector is real).
	Sandbox *sandbox.Sandbox
	// StripeWebhookSecrets verify Stripe-Signature: configured ones, plus the
	// sandbox's generated one in dev.
	StripeWebhookSecrets []string
}

// StatusOf maps an error (possibly wrapped) to its HTTP status: the one place the
// apperr kinds become statuses. Fail, the console pages and the decision panel
// all answer with it.
func StatusOf(err error) int {
	switch {
	case errors.Is(err, apperr.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, apperr.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, apperr.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, apperr.ErrValidation):
		return http.StatusBadRequest
	case errors.Is(err, apperr.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Fail writes err as a plain response: the message for client errors, a generic text
// with the request id for server errors (details only in the log).
func Fail(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	info := reqlog.From(r.Context())
	msg := err.Error()
	if status >= 500 {
		info.Logger.Error("request failed", "err", err)
		msg = "Something went wrong on our side. Reference: " + info.RequestID
		if status == http.StatusServiceUnavailable {
			msg = "Temporarily unavailable, please retry. Reference: " + info.RequestID
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}

// Render writes a templ component as an HTML page with the given status.
func Render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		reqlog.Logger(r.Context()).Error("render", "err", err)
	}
}

// Healthz answers 200 while the process is alive.
func (a *App) Healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// Readyz answers 200 when the database answers and the schema is current, else 503
// with the reason.
func (a *App) Readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := a.DB.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: database unreachable\n"))
		return
	}
	if a.SchemaCurrent != nil {
		if err := a.SchemaCurrent(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}
