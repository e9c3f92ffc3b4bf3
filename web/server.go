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
	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/enrich"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/load"
	"github.com/countersign/countersign/internal/sandbox"
	casekind "github.com/countersign/countersign/internal/triage"
)

// Deps are what the server is built from.
type Deps struct {
	Config  *config.Config
	DB      *database.DB
	Log     *slog.Logger
	Version string
	// Extra mounts handlers outside the route table under a path prefix with public
	// access (the dev identity provider under /dev-idp/). Only dev sets it.
	Extra map[string]http.Handler

	// connector jobs
	// Sandbox is the running connector fakes dev started (seeded with demo data);
	// when nil, New starts fakes for the connectors without credentials.
	Sandbox *sandbox.Sandbox
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
	// connector jobs
	jobs       *jobs.Service
	sandbox    *sandbox.Sandbox
	ownSandbox bool
	// load counts webhook deliveries; background maintenance slows down while it is busy.
	load *load.Gauge
}

// Load is the webhook delivery gauge: background maintenance run beside this server
// (the audit sealer, the search indexer) slows down while it reports busy.
func (s *Server) Load() *load.Gauge { return s.load }

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	s := &Server{cfg: d.Config, db: d.DB, log: d.Log, https: d.Config.BaseURL.Scheme == "https", load: &load.Gauge{}}
	s.metrics = newMetrics(d.DB.Pool)
	s.metrics.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "countersign_webhooks_last_second",
		Help: "Webhook deliveries this process took in the last second; from 100 on, audit sealing, " +
			"search indexing and job dispatch slow down until the burst is over.",
	}, func() float64 { return float64(s.load.PerSecond()) }))
	s.csp = contentSecurityPolicy(d.Config)
	mapping, err := casekind.ParseMapping(d.Config.FieldMapping)
	if err != nil {
		return nil, config.Errors{fmt.Errorf("COUNTERSIGN_FIELD_MAPPING: %w", err)}
	}
	routes, err := ingest.ParseRoutes(d.Config.OwnerRoutes)
	if err != nil {
		return nil, config.Errors{fmt.Errorf("COUNTERSIGN_OWNER_ROUTES: %w", err)}
	}
	s.app = &handlers.App{DB: d.DB, Log: d.Log, Version: d.Version,
		SchemaCurrent:   func(ctx context.Context) error { return database.CheckCurrent(ctx, d.DB.SQL) },
		DialNexaSecrets: d.Config.DialNexaSecrets,
		Ingest: &ingest.Service{Pool: d.DB.Pool, Mapping: mapping, BaseURL: d.Config.BaseURL.String(),
			Owners: ingest.DefaultOwners, Routes: routes, Load: s.load, CriticalAmounts: d.Config.CriticalAmounts,
			Vault: d.Config.VaultKeys},
		// OnApproved (the connector jobs' enqueuer) is set by the lead when jobs land.
		Approvals: &approval.Service{DB: d.DB.Gorm, Vault: d.Config.VaultKeys},
	}
	s.app.Nav = s.app.ConsoleNav
	s.app.Counts = console.NewCountCache()
	if err := s.setupConnectors(d); err != nil {
		return nil, err
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

// setupConnectors builds the connector clients (real, or the loopback sandbox for
// those without credentials), the job service with its River clients, enrichment,
// and wires the hooks: ingest enqueues claim checks, approvals enqueue actions.
func (s *Server) setupConnectors(d Deps) error {
	sb := d.Sandbox
	if sb == nil {
		var err error
		if sb, err = sandbox.Start(d.Config.Connectors, sandbox.Options{Names: d.Config.Sandbox}); err != nil {
			return err
		}
		s.ownSandbox = true
	}
	s.sandbox = sb
	conns, err := jobs.NewConnectors(sb.Connectors, sb.Sandboxed, sb.Recorder)
	if err != nil {
		return config.Errors{err}
	}
	en := &enrich.Service{DB: d.DB.Gorm, Stripe: conns.Stripe, TokenMetrics: conns.TokenMetrics,
		DialNexa: conns.DialNexa, Ingest: s.app.Ingest, AmountToleranceBPS: d.Config.ClaimToleranceBPS}
	if sb.Sandboxed[jobs.Stripe] {
		en.Source, en.InvoiceCharge = "sandbox", sb.InvoiceCharge
	}
	s.jobs, err = jobs.New(d.DB, conns, jobs.Options{Log: d.Log, Enricher: en,
		Fingerprint: approval.CurrentFingerprint, BaseURL: d.Config.BaseURL.String(), RescueAfter: d.Config.JobRescueAfter,
		RetryDelay: d.Config.JobRetryDelay, FetchPollInterval: d.Config.JobPollInterval, Busy: s.load.Busy,
		AlertApprovalAmounts: d.Config.AlertApprovalAmounts, AlertApprovalWithin: d.Config.AlertApprovalWithin})
	if err != nil {
		return err
	}
	en.Observe = func(ctx context.Context, name, op string, start time.Time, err error) {
		s.jobs.Meter().Observe(ctx, name, op, conns.Sandboxed(name), start, err)
	}
	s.app.Ingest.Queued = s.jobs.WakeOutbox
	s.app.Approvals.OnApproved = s.jobs.OnApproved
	s.app.Approvals.ConnectorMode = func(name string) string { return string(conns.Modes[name]) }
	if conns.Slack != nil {
		// Plans store channel ids; with Slack off the alert stays by kind and the
		// plan cannot be approved (ConnectorMode), so nothing asks Slack.
		s.app.Approvals.Slack = conns
	}
	s.app.Jobs, s.app.Sandbox = s.jobs, sb
	s.app.StripeWebhookSecrets = d.Config.StripeWebhookSecrets
	if sb.StripeWebhookSecret != "" {
		s.app.StripeWebhookSecrets = append(append([]string(nil), s.app.StripeWebhookSecrets...), sb.StripeWebhookSecret)
	}
	s.metrics.registry.MustRegister(s.jobs.Meter())
	return nil
}

// startWorkers runs the job workers until the returned stop is called; stop lets
// running jobs finish for up to its context's deadline.
func (s *Server) startWorkers(ctx context.Context) (stop func(context.Context) error, err error) {
	if err := s.jobs.Start(ctx); err != nil {
		return nil, err
	}
	s.log.Info("job workers started", "sandboxed", s.sandbox.Names())
	if names := s.sandbox.Names(); len(names) > 0 {
		// A sandboxed connector means approved actions move no real money: say so.
		s.log.Warn("COUNTERSIGN_SANDBOX: these connectors run against loopback fakes; their approved actions are recorded, not sent",
			"connectors", names)
	}
	var off []string
	for _, name := range jobs.AllConnectors {
		if s.jobs.Connectors().Modes[name] == jobs.Off {
			off = append(off, name)
		}
	}
	if len(off) > 0 {
		s.log.Warn("connectors without credentials are OFF: plans that need them cannot be approved", "connectors", off)
	}
	return s.jobs.Stop, nil
}

// StartWorkers is startWorkers for cmd: serve runs it unless --web-only.
func (s *Server) StartWorkers(ctx context.Context) (stop func(context.Context) error, err error) {
	return s.startWorkers(ctx)
}

// Jobs is the connector job service (OnApproved, RetryAction, ...).
func (s *Server) Jobs() *jobs.Service { return s.jobs }

// Close stops the sandbox fakes New started.
func (s *Server) Close() {
	if s.ownSandbox {
		s.sandbox.Close()
	}
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
