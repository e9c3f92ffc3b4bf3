package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/config"
	casequeue "github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/retention"
	"github.com/countersign/countersign/internal/sandbox"
)

func runServe(ctx context.Context, args []string) error {
	fs := newFlags("serve", "[--migrate] [--web-only | --workers-only]",
		"Run the console in production mode. Every required variable must be set; nothing is generated.")
	migrate := fs.Bool("migrate", false, "apply pending migrations before serving (or COUNTERSIGN_AUTO_MIGRATE=true)")
	webOnly := fs.Bool("web-only", false, "serve HTTP only; run no job workers")
	workersOnly := fs.Bool("workers-only", false, "run job workers only; serve only /healthz, /readyz and /metrics")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *webOnly && *workersOnly {
		return usageError{"--web-only and --workers-only exclude each other"}
	}
	cfg, err := config.Load(os.Getenv, config.Serve)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogFormat, cfg.LogLevel)
	db, err := database.Open(ctx, cfg.DatabaseURL, database.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if *migrate || cfg.AutoMigrate {
		if err := database.Migrate(ctx, db.SQL, log); err != nil {
			return err
		}
	} else if err := database.CheckCurrent(ctx, db.SQL); err != nil {
		log.Warn("schema is not current; /readyz answers 503 until it is", "reason", err.Error())
	}
	return serveConsole(ctx, console{cfg: cfg, db: db, log: log, web: !*workersOnly, workers: !*webOnly})
}

// console is one running instance: HTTP and/or job workers over one database.
type console struct {
	cfg     *config.Config
	db      *database.DB
	log     *slog.Logger
	web     bool
	workers bool
	extra   map[string]http.Handler
	ln      net.Listener
	onReady func(url string)
	// sandbox holds the connector fakes dev started (setupSandbox); nil in serve.
	sandbox *sandbox.Sandbox
}

// serveMemoryLimit is the Go runtime's soft memory limit for a serving process
// unless GOMEMLIMIT is set.
const serveMemoryLimit = 180 << 20

func serveConsole(ctx context.Context, c console) error {
	srv, err := newServer(serverOptions{cfg: c.cfg, db: c.db, log: c.log, sb: c.sandbox, extra: c.extra, opsOnly: !c.web})
	if err != nil {
		return err
	}
	defer srv.graph.Close()
	if c.workers {
		stop, err := srv.graph.StartWorkers(ctx)
		if err != nil {
			return err
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if err := stop(stopCtx); err != nil {
				c.log.Warn("job workers stopped with an error", "err", err)
			}
		}()
	}
	ln := c.ln
	if ln == nil {
		if ln, err = net.Listen("tcp", c.cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w (is another countersign running? set COUNTERSIGN_ADDR)", c.cfg.Addr, err)
		}
	}
	startPprof(c.log)
	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit under the 250 MB the server must stay within at any offered
		// load: near it the collector runs sooner instead of letting GOGC=200 triple
		// the live heap (admission control bounds the live heap itself).
		debug.SetMemoryLimit(serveMemoryLimit)
	}
	// Monthly partitions of calls and audit_log exist three months ahead: made now and
	// checked daily by every process (an advisory lock makes them take turns).
	partsCtx, stopParts := context.WithCancel(ctx)
	defer stopParts()
	go keepPartitions(partsCtx, c)
	// Every process seals the audit chain; sealers take turns through an advisory lock.
	sealCtx, stopSealer := context.WithCancel(context.WithoutCancel(ctx))
	sealed := make(chan struct{})
	// Both slow down while this process is taking a burst of webhooks (internal/load).
	busy := srv.graph.Load.Busy
	go func() {
		defer close(sealed)
		audit.RunSealerWith(sealCtx, c.db.Gorm, audit.SealerOptions{Log: c.log, Busy: busy})
	}()
	defer func() { stopSealer(); <-sealed }()
	// Every process also keeps the full-text vectors of new and changed cases current.
	indexCtx, stopIndexer := context.WithCancel(ctx)
	defer stopIndexer()
	go casequeue.RunIndexerWith(indexCtx, c.db.Gorm, casequeue.IndexerOptions{Log: c.log, Busy: busy})
	// During a burst webhooks are acknowledged from the inbox; this files them into
	// calls and cases, and on the way out what is left once the listener has closed
	// (internal/ingest/inbox.go).
	if c.web {
		inboxCtx, stopInbox := context.WithCancel(context.WithoutCancel(ctx))
		filed := make(chan struct{})
		go func() {
			defer close(filed)
			srv.graph.App.Ingest.RunInbox(inboxCtx, ingest.InboxOptions{Log: c.log, Busy: busy})
		}()
		defer func() { stopInbox(); <-filed }()
	}
	c.log.Info("countersign listening", "addr", ln.Addr().String(), "url", c.cfg.BaseURL.String(), "version", version)
	if c.onReady != nil {
		c.onReady(c.cfg.BaseURL.String())
	}
	err = srv.web.Run(ctx, ln)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// keepPartitions runs retention.EnsurePartitions at once and then daily until ctx
// ends. A failure is logged, never fatal: rows of a month without its partition land
// in the default partition, which loses nothing but cannot be dropped by retention.
func keepPartitions(ctx context.Context, c console) {
	for {
		wait := 24 * time.Hour
		if n, err := retention.EnsurePartitions(ctx, c.db.Gorm, time.Now()); err != nil {
			if ctx.Err() != nil {
				return
			}
			wait = time.Hour
			c.log.Warn("monthly partitions of calls and audit_log not ensured; retrying in an hour", "err", err.Error())
		} else if n > 0 {
			c.log.Info("monthly partitions created", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
