// Package wire assembles Countersign's object graph: the connector clients (real, or
// the loopback sandbox for those without credentials), enrichment, the job service
// with its River clients, ingest and approvals, and the hooks between them (ingest
// wakes the outbox, an approval enqueues its actions). cmd calls Build for serve, dev
// and the bench commands, and tests that start a server call it too; web receives the
// result and builds none of it.
//
// wire is the composition root, so it is the one internal package allowed to import
// handlers (to fill handlers.App); it never imports web (internal/archtest keeps both).
package wire

import (
	"context"
	"fmt"
	"log/slog"
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
	"github.com/countersign/countersign/internal/triage"
)

// Options are what the graph is built from.
type Options struct {
	Config  *config.Config
	DB      *database.DB
	Log     *slog.Logger
	Version string
	// Sandbox is the running connector fakes dev started (seeded with demo data);
	// when nil, Build starts fakes for the connectors without credentials and Close
	// stops them.
	Sandbox *sandbox.Sandbox
}

// Graph is the assembled object graph. web serves App; cmd starts the workers.
type Graph struct {
	// App is what the handlers run on.
	App *handlers.App
	// Load counts webhook deliveries; background maintenance (the audit sealer, the
	// search indexer, the outbox dispatcher) slows down while it reports busy.
	Load *load.Gauge
	// Jobs runs connector actions, alerts, enrichment and Stripe events.
	Jobs *jobs.Service
	// Sandbox is the connector fakes in use (empty when every connector is real).
	Sandbox *sandbox.Sandbox

	log        *slog.Logger
	cfg        *config.Config
	ownSandbox bool
}

// Build assembles the graph. Call Close when done with it.
func Build(o Options) (*Graph, error) {
	mapping, err := triage.ParseMapping(o.Config.FieldMapping)
	if err != nil {
		return nil, config.Errors{fmt.Errorf("COUNTERSIGN_FIELD_MAPPING: %w", err)}
	}
	routes, err := ingest.ParseRoutes(o.Config.OwnerRoutes)
	if err != nil {
		return nil, config.Errors{fmt.Errorf("COUNTERSIGN_OWNER_ROUTES: %w", err)}
	}
	g := &Graph{Load: &load.Gauge{}, log: o.Log, cfg: o.Config}
	db := o.DB
	g.App = &handlers.App{DB: db, Log: o.Log, Version: o.Version,
		SchemaCurrent:   func(ctx context.Context) error { return database.CheckCurrent(ctx, db.SQL) },
		DialNexaSecrets: o.Config.DialNexaSecrets,
		Ingest: &ingest.Service{Pool: db.Pool, Mapping: mapping, BaseURL: o.Config.BaseURL.String(),
			Owners: ingest.DefaultOwners, Routes: routes, Load: g.Load, CriticalAmounts: o.Config.CriticalAmounts,
			Vault: o.Config.VaultKeys},
		Approvals: &approval.Service{DB: db.Gorm, Vault: o.Config.VaultKeys},
		Counts:    console.NewCountCache(),
	}
	g.App.Nav = g.App.ConsoleNav
	if err := g.connectors(o); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

// connectors builds the connector clients, enrichment and the job service, and wires
// the hooks: ingest wakes the outbox, approvals enqueue actions.
func (g *Graph) connectors(o Options) error {
	sb := o.Sandbox
	if sb == nil {
		var err error
		if sb, err = sandbox.Start(o.Config.Connectors, sandbox.Options{Names: o.Config.Sandbox}); err != nil {
			return err
		}
		g.ownSandbox = true
	}
	g.Sandbox = sb
	conns, err := jobs.NewConnectors(sb.Connectors, sb.Sandboxed, sb.Recorder)
	if err != nil {
		return config.Errors{err}
	}
	en := &enrich.Service{DB: o.DB.Gorm, Stripe: conns.Stripe, TokenMetrics: conns.TokenMetrics,
		DialNexa: conns.DialNexa, Ingest: g.App.Ingest, AmountToleranceBPS: o.Config.ClaimToleranceBPS}
	if sb.Sandboxed[jobs.Stripe] {
		en.Source = "sandbox"
	}
	g.Jobs, err = jobs.New(o.DB, conns, jobs.Options{Log: o.Log, Enricher: en,
		Fingerprint: approval.CurrentFingerprint, BaseURL: o.Config.BaseURL.String(), RescueAfter: o.Config.JobRescueAfter,
		RetryDelay: o.Config.JobRetryDelay, FetchPollInterval: o.Config.JobPollInterval, Busy: g.Load.Busy,
		AlertApprovalAmounts: o.Config.AlertApprovalAmounts, AlertApprovalWithin: o.Config.AlertApprovalWithin, Vault: o.Config.VaultKeys})
	if err != nil {
		return err
	}
	en.Observe = func(ctx context.Context, name, op string, start time.Time, err error) {
		g.Jobs.Meter().Observe(ctx, name, op, conns.Sandboxed(name), start, err)
	}
	g.App.Ingest.Queued = g.Jobs.WakeOutbox
	g.App.Approvals.OnApproved = g.Jobs.OnApproved
	g.App.Approvals.ConnectorMode = func(name string) string { return string(conns.Modes[name]) }
	if conns.Slack != nil {
		// Plans store channel ids; with Slack off the alert stays by kind and the
		// plan cannot be approved (ConnectorMode), so nothing asks Slack.
		g.App.Approvals.Slack = conns
	}
	g.App.Jobs, g.App.Sandbox = g.Jobs, sb
	g.App.StripeWebhookSecrets = o.Config.StripeWebhookSecrets
	if sb.StripeWebhookSecret != "" {
		g.App.StripeWebhookSecrets = append(append([]string(nil), g.App.StripeWebhookSecrets...), sb.StripeWebhookSecret)
	}
	return nil
}

// Handlers is the App web serves.
func (g *Graph) Handlers() *handlers.App { return g.App }

// Gauge is the webhook delivery gauge web's ingest path feeds.
func (g *Graph) Gauge() *load.Gauge { return g.Load }

// Collectors are the graph's Prometheus metrics, served on /metrics.
func (g *Graph) Collectors() []prometheus.Collector {
	if g.Jobs == nil {
		return nil
	}
	return []prometheus.Collector{g.Jobs.Meter()}
}

// StartWorkers runs the job workers until the returned stop is called; stop lets
// running jobs finish for up to its context's deadline.
func (g *Graph) StartWorkers(ctx context.Context) (stop func(context.Context) error, err error) {
	if err := g.Jobs.Start(ctx); err != nil {
		return nil, err
	}
	g.log.Info("job workers started", "sandboxed", g.Sandbox.Names())
	if names := g.Sandbox.Names(); len(names) > 0 {
		// A sandboxed connector means approved actions move no real money: say so.
		g.log.Warn("COUNTERSIGN_SANDBOX: these connectors run against loopback fakes; their approved actions are recorded, not sent",
			"connectors", names)
	}
	var off []string
	for _, name := range jobs.AllConnectors {
		if g.Jobs.Connectors().Modes[name] == jobs.Off {
			off = append(off, name)
		}
	}
	if len(off) > 0 {
		g.log.Warn("connectors without credentials are OFF: plans that need them cannot be approved", "connectors", off)
	}
	return g.Jobs.Stop, nil
}

// Close stops the sandbox fakes Build started.
func (g *Graph) Close() {
	if g.ownSandbox && g.Sandbox != nil {
		g.Sandbox.Close()
	}
}
