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

	"github.com/countersign/countersign/handlers"
	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/ingest"
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
}

// New builds the server and its route table.
func New(d Deps) (*Server, error) {
	s := &Server{cfg: d.Config, db: d.DB, log: d.Log, https: d.Config.BaseURL.Scheme == "https"}
	s.metrics = newMetrics(d.DB.Pool)
	s.csp = contentSecurityPolicy(d.Config)
	mapping, err := casekind.ParseMapping(d.Config.FieldMapping)
	if err != nil {
		return nil, config.Errors{fmt.Errorf("COUNTERSIGN_FIELD_MAPPING: %w", err)}
	}
	s.app = &handlers.App{DB: d.DB, Log: d.Log, Version: d.Version,
		SchemaCurrent:   func(ctx context.Context) error { return database.CheckCurrent(ctx, d.DB.SQL) },
		DialNexaSecrets: d.Config.DialNexaSecrets,
		Ingest: &ingest.Service{DB: d.DB.Gorm, Mapping: mapping, BaseURL: d.Config.BaseURL.String(),
			Owners: ingest.DefaultOwners},
		// OnApproved (the connector jobs' enqueuer) is set by the lead when jobs land.
		Approvals: &approval.Service{DB: d.DB.Gorm},
	}
	s.app.Nav = s.app.ConsoleNav
	a, err := newAuthenticator(s)
	if err != nil {
		return nil, err
	}
	s.auth = a
	mux := http.NewServeMux()
	s.routes = s.routeTable()
	for _, rt := range s.routes {
		mux.Handle(rt.Pattern, s.guard(rt))
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
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
