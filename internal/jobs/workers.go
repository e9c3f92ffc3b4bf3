package jobs

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"

	"github.com/countersign/countersign/internal/connector"
)

type enrichWorker struct {
	river.WorkerDefaults[EnrichArgs]
	s *Service
}

func (w *enrichWorker) Work(ctx context.Context, job *river.Job[EnrichArgs]) error {
	if w.s.opts.Enricher == nil {
		return nil
	}
	if err := w.s.stepAside(ctx); err != nil {
		return err
	}
	err := w.s.opts.Enricher.Check(ctx, job.Args.CaseID)
	if err != nil && job.Attempt >= job.MaxAttempts && !connector.IsPermanent(err) {
		if gerr := w.s.opts.Enricher.GiveUp(ctx, job.Args.CaseID, err); gerr != nil {
			return gerr
		}
		return river.JobCancel(err)
	}
	return readOnly(err)
}

type backfillWorker struct {
	river.WorkerDefaults[BackfillArgs]
	s *Service
}

func (w *backfillWorker) Work(ctx context.Context, job *river.Job[BackfillArgs]) error {
	if w.s.opts.Enricher == nil {
		return nil
	}
	if err := w.s.stepAside(ctx); err != nil {
		return err
	}
	return readOnly(w.s.opts.Enricher.Backfill(ctx, job.Args.CallID))
}

// BusyLookupRate is how many claim checks and backfills a second the process starts
// while Options.Busy reports true (instead of as many as the Stripe pacing allows).
const BusyLookupRate = 5

// stepAside holds a claim check or backfill back while the process is taking a burst
// of webhooks: they start at BusyLookupRate a second until it is over. The job stays
// running meanwhile (at most a couple of seconds: 10 workers at 5 a second).
func (s *Service) stepAside(ctx context.Context) error {
	if s.opts.Busy == nil || !s.opts.Busy() {
		return nil
	}
	return s.busyPace.Wait(ctx)
}

// readOnly maps a look-up failure to River: wait as asked on 429, stop on a
// permanent error (the enricher records what it could not check), retry otherwise.
func readOnly(err error) error {
	if err == nil {
		return nil
	}
	if d, ok := connector.RetryAfter(err); ok {
		return river.JobSnooze(d)
	}
	if connector.IsPermanent(err) {
		return river.JobCancel(err)
	}
	return err
}

type pruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	s *Service
}

func (w *pruneWorker) Work(ctx context.Context, job *river.Job[PruneArgs]) error {
	err := w.s.db.Gorm.WithContext(ctx).Exec(`DELETE FROM connector_calls WHERE at < now() - interval '7 days'`).Error
	if err != nil {
		return fmt.Errorf("jobs: prune connector calls: %w", err)
	}
	return nil
}
