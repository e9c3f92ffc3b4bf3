package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/vault"
)

// Queues.
const (
	QueueActions     = "actions"
	QueueAlerts      = "alerts"
	QueueEnrich      = "enrich"
	QueueMaintenance = "maintenance"
)

// Timeouts: a connector call (20 s, COUNTERSIGN_CONNECTOR_TIMEOUT) always ends before
// its job (90 s); a job still running after RescueStuckJobsAfter is presumed dead and
// run again.
const (
	JobTimeout           = config.DefaultJobTimeout
	RescueStuckJobsAfter = 10 * time.Minute
)

// Enricher checks a new case's claim and backfills calls; internal/enrich implements it.
type Enricher interface {
	Check(ctx context.Context, caseID int64) error
	// GiveUp is told when a claim check's look-ups failed on every attempt; the
	// enricher fails closed (the case goes to review with the reason).
	GiveUp(ctx context.Context, caseID int64, cause error) error
	Backfill(ctx context.Context, callID int64) error
}

// Options tune a Service. The zero value is production.
type Options struct {
	Log      *slog.Logger
	Enricher Enricher
	// Fingerprint computes the plan fingerprint (internal/approval's
	// CurrentFingerprint); PlanFingerprint when nil.
	Fingerprint FingerprintFunc
	// BaseURL prefixes case links in alerts.
	BaseURL string
	// AfterCall runs after the other system answered and before the completion
	// transaction. Tests return an error or panic here to simulate a crash.
	AfterCall func(ctx context.Context, actionID int64) error
	// FetchCooldown and FetchPollInterval: 50 ms and 1 s by default; new jobs are
	// announced with LISTEN/NOTIFY, polling finds retries and snoozes that came due
	// (COUNTERSIGN_JOB_POLL_INTERVAL).
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// MaxWorkers per queue; 10 by default.
	MaxWorkers int
	// NoPeriodic leaves out the periodic jobs (reconciliation, pruning).
	NoPeriodic bool
	// RescueAfter replaces RescueStuckJobsAfter: how long a job may stay running
	// before River presumes its worker dead and runs it again. Below 2×JobTimeout
	// the job timeout shrinks to half of it (River needs rescue ≥ timeout).
	// COUNTERSIGN_JOB_RESCUE_AFTER; the crash tests use seconds.
	RescueAfter time.Duration
	// RetryPolicy overrides River's default backoff (tests use a fast one).
	RetryPolicy river.ClientRetryPolicy
	// RetryDelay, when RetryPolicy is nil, replaces River's backoff (attempt^4 s)
	// with a fixed wait before every next attempt. COUNTERSIGN_JOB_RETRY_DELAY; the
	// attempt caps (MaxAttempts) are sized to the default, so only tests set it.
	RetryDelay time.Duration
	// Now is time.Now by default.
	Now func() time.Time
	// Busy, when set and true, means this process is taking a burst of webhooks: the
	// outbox dispatcher then moves at most BusyOutboxBatch rows a second into River,
	// and claim checks and backfills start at BusyLookupRate a second; both catch up
	// once the burst is over. The rows wait, durable, in job_outbox and river_job.
	Busy func() bool
	// BusyEvery is the dispatcher's wait between rounds while busy; 1 s when 0.
	BusyEvery time.Duration
	// AlertApprovalWithin: a case waiting on approval this close to its deadline
	// raises an alert (DefaultAlertApprovalWithin when 0).
	AlertApprovalWithin time.Duration
	// AlertApprovalAmounts: from this amount (major units per currency, "" for
	// any other) a case waiting on approval raises an alert; nil keeps
	// DefaultAlertApprovalAmounts.
	AlertApprovalAmounts map[string]int64
	// RefundPoll is how long a refund Stripe reports as pending waits before the
	// worker reads it again (charge.refund.updated usually settles it first); 1
	// minute when 0.
	RefundPoll time.Duration
	// Vault opens the tax id a billing correction adds to the Stripe customer;
	// without it such an action fails with not_configured.
	Vault *vault.Keyring
}

// Service owns the two River clients and runs the workers.
type Service struct {
	db     *database.DB
	conns  *Connectors
	log    *slog.Logger
	opts   Options
	meter  *Meter
	fp     FingerprintFunc
	insert *river.Client[*sql.Tx]
	work   *river.Client[pgx.Tx]

	// busyPace spaces claim checks while opts.Busy reports true (stepAside).
	busyPace *connector.Pacer

	outboxWake chan struct{}
	outboxStop context.CancelFunc
	outboxDone chan struct{}
}

// New builds the clients; nothing runs until Start.
func New(db *database.DB, conns *Connectors, opts Options) (*Service, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FetchCooldown == 0 {
		opts.FetchCooldown = 50 * time.Millisecond
	}
	if opts.FetchPollInterval == 0 {
		opts.FetchPollInterval = time.Second
	}
	if opts.MaxWorkers == 0 {
		opts.MaxWorkers = 10
	}
	if opts.RefundPoll == 0 {
		opts.RefundPoll = time.Minute
	}
	if opts.BusyEvery == 0 {
		opts.BusyEvery = time.Second
	}
	if conns == nil {
		conns = &Connectors{Modes: map[string]Mode{}}
	}
	s := &Service{db: db, conns: conns, log: opts.Log, opts: opts, meter: NewMeter(db.Gorm), fp: opts.Fingerprint,
		outboxWake: make(chan struct{}, 1), busyPace: connector.NewPacer(BusyLookupRate, 1)}
	if s.fp == nil {
		s.fp = PlanFingerprint
	}
	riverLog := slog.New(levelFloor{opts.Log.Handler(), slog.LevelWarn})
	var err error
	// Insert-only: given gorm's *sql.Tx, so a job commits or rolls back with the
	// decision that caused it.
	s.insert, err = river.NewClient(riverdatabasesql.New(db.SQL), &river.Config{Logger: riverLog})
	if err != nil {
		return nil, fmt.Errorf("jobs: insert client: %w", err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &actionWorker{s: s})
	river.AddWorker(workers, &alertWorker{s: s})
	river.AddWorker(workers, &enrichWorker{s: s})
	river.AddWorker(workers, &backfillWorker{s: s})
	river.AddWorker(workers, &reconcileWorker{s: s})
	river.AddWorker(workers, &pruneWorker{s: s})
	river.AddWorker(workers, &ticketUpdateWorker{s: s})
	river.AddWorker(workers, &caseAlertsWorker{s: s})
	river.AddWorker(workers, &postCaseAlertWorker{s: s})
	river.AddWorker(workers, &postAlertUpdateWorker{s: s})
	river.AddWorker(workers, &alertSweepWorker{s: s})
	river.AddWorker(workers, &syncExceptionWorker{s: s})
	n := opts.MaxWorkers
	timeout, rescue := config.JobTimeout(opts.RescueAfter), RescueStuckJobsAfter
	if opts.RescueAfter > 0 {
		rescue = opts.RescueAfter
	}
	retry := opts.RetryPolicy
	if retry == nil && opts.RetryDelay > 0 {
		retry = fixedRetry(opts.RetryDelay)
	}
	cfg := &river.Config{
		Logger:               riverLog,
		Workers:              workers,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		FetchCooldown:        opts.FetchCooldown,
		FetchPollInterval:    opts.FetchPollInterval,
		RetryPolicy:          retry,
		Queues: map[string]river.QueueConfig{
			QueueActions: {MaxWorkers: n}, QueueAlerts: {MaxWorkers: 2},
			QueueEnrich: {MaxWorkers: n}, QueueMaintenance: {MaxWorkers: 1},
		},
	}
	if !opts.NoPeriodic {
		cfg.PeriodicJobs = []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return ReconcileArgs{}, nil }, nil),
			river.NewPeriodicJob(river.PeriodicInterval(24*time.Hour),
				func() (river.JobArgs, *river.InsertOpts) { return PruneArgs{}, nil }, nil),
			river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
				func() (river.JobArgs, *river.InsertOpts) { return AlertSweepArgs{}, nil }, nil),
		}
	}
	s.work, err = river.NewClient(riverpgxv5.New(db.Pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: work client: %w", err)
	}
	return s, nil
}

// Start runs the workers and the job outbox dispatcher until Stop (or ctx ends).
func (s *Service) Start(ctx context.Context) error {
	if err := s.work.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start workers: %w", err)
	}
	octx, cancel := context.WithCancel(ctx)
	s.outboxStop, s.outboxDone = cancel, make(chan struct{})
	go func() {
		defer close(s.outboxDone)
		s.runOutbox(octx, 20*time.Millisecond, s.opts.FetchPollInterval)
	}()
	return nil
}

// Stop stops the outbox dispatcher, lets running jobs finish (up to ctx's
// deadline), then cancels them.
func (s *Service) Stop(ctx context.Context) error {
	if s.outboxStop != nil {
		s.outboxStop()
		<-s.outboxDone
	}
	err := s.work.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		hard, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.work.StopAndCancel(hard)
	}
	return err
}

// Connectors returns the clients the workers use.
func (s *Service) Connectors() *Connectors { return s.conns }

// Meter returns the connector call metrics.
func (s *Service) Meter() *Meter { return s.meter }

// insertTx inserts a job inside tx, a gorm transaction.
func (s *Service) insertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("jobs: a job must be inserted inside a transaction")
	}
	if _, err := s.insert.InsertTx(ctx, sqlTx, args, opts); err != nil {
		return fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return nil
}

// fixedRetry schedules every next attempt after the same wait (Options.RetryDelay).
type fixedRetry time.Duration

func (d fixedRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(time.Duration(d)) }

// levelFloor drops River's records below a level (its info logs are chatty).
type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
