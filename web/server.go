// Package web assembles the console: the one route table (routes.go), middleware,
// sessions, the OIDC client, server timeouts and graceful shutdown.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/countersign/countersign/handlers"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/load"
)

// Services is the object graph the server serves: cmd (and tests) assemble it with
// internal/wire and hand it over, so web builds no connector, job or sandbox itself.
type Services interface {
	// Handlers is what the routes run.
	Handlers() *handlers.App
	// Gauge counts webhook deliveries (fed by the ingest path).
	Gauge() *load.Gauge
	// Collectors are extra metrics served on /metrics (the connector meter).
	Collectors() []prometheus.Collector
}

// Deps are what the server is built from.
type Deps struct {
	Config *config.Config
	DB     *database.DB
	Log    *slog.Logger
	// Services is the assembled object graph (internal/wire.Graph).
	Services Services
	// Extra mounts handlers outside the route table under a path prefix with public
	// access (the dev identity provider under /dev-idp/). Only dev sets it.
	Extra map[string]http.Handler
	// OpsOnly serves only /healthz, /readyz and /metrics (serve --workers-only).
	OpsOnly bool
}

// Server is the console's HTTP server.
type Server struct {
	cfg     *config.Config
	db      *database.DB
	log     *slog.Logger
	app     *handlers.App
	metrics *metrics
	https   bool
	csp     string
	handler http.Handler
	routes  []Route
	auth    *authenticator
	// load counts webhook deliveries; background maintenance slows down while it is busy.
	load *load.Gauge
}

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	if d.Services == nil || d.Services.Handlers() == nil {
		return nil, errors.New("web: Deps.Services is required (build it with internal/wire)")
	}
	s := &Server{cfg: d.Config, db: d.DB, log: d.Log, https: d.Config.BaseURL.Scheme == "https", load: d.Services.Gauge()}
	s.metrics = newMetrics(d.DB.Pool)
	s.metrics.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "countersign_webhooks_last_second",
		Help: "Webhook deliveries this process took in the last second; from 100 on, audit sealing, " +
			"search indexing and job dispatch slow down until the burst is over.",
	}, func() float64 { return float64(s.load.PerSecond()) }))
	s.csp = contentSecurityPolicy(d.Config)
	s.app = d.Services.Handlers()
	if in := s.app.Ingest; in != nil {
		s.metrics.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "countersign_webhook_inbox_pending",
			Help: "Webhook deliveries acknowledged during a burst and not yet filed into calls and cases.",
		}, func() float64 { return float64(in.InboxPending()) }))
	}
	for _, c := range d.Services.Collectors() {
		s.metrics.registry.MustRegister(c)
	}
	a, err := newAuthenticator(s)
	if err != nil {
		return nil, err
	}
	s.auth = a
	inflight := d.Config.WebhookMaxInflight
	if inflight == 0 {
		inflight = DefaultWebhookInflight
	}
	mux := http.NewServeMux()
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		h := s.guard(rt)
		if !rt.Access.Webhook { // webhook handlers set their own limit and answer 413
			h = limitBody(maxFormBody, h)
		} else if rt.Pattern == "POST /webhooks/dialnexa" {
			h = admit(inflight, "dialnexa", h)
		}
		mux.Handle(rt.Pattern, h)
	}
	for prefix, h := range d.Extra {
		mux.Handle(prefix, h)
	}
	csrf := http.NewCrossOriginProtection()
	csrf.AddInsecureBypassPattern("POST /webhooks/")
	for prefix := range d.Extra {
		csrf.AddInsecureBypassPattern(prefix)
	}
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Cross-origin request refused: this form must be submitted from the Countersign console itself.", http.StatusForbidden)
	}))
	s.handler = s.observe(s.secure(csrf.Handler(mux)))
	if d.OpsOnly {
		s.handler = opsOnly(s.handler)
	}
	return s, nil
}

// Handler is the whole console, for tests and for embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// Routes is the route table (for the route × role test).
func (s *Server) Routes() []Route { return s.routes }

func contentSecurityPolicy(c *config.Config) string {
	formAction := "'self'"
	if c.OIDCIssuer != "" {
		if u, err := url.Parse(c.OIDCIssuer); err == nil && u.Host != c.BaseURL.Host {
			formAction += " " + u.Scheme + "://" + u.Host
		}
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action " + formAction
}

// Run listens on the configured address until ctx is cancelled, then drains in-flight
// requests for up to 25 seconds.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	maxConns := s.cfg.MaxConnections
	if maxConns == 0 {
		maxConns = config.DefaultMaxConnections
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(limitConnections(ln, maxConns)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// opsOnly answers 404 for everything but health, readiness and metrics.
func opsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			next.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}
