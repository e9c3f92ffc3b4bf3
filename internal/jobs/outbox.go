package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// The webhook path does not insert River jobs itself: it writes job_outbox rows in
// its own transaction (and so does a case move its Zendesk ticket follows,
// approval.QueueTicketUpdateTx) (migrations/00014_job_outbox.sql). The dispatcher below turns
// them into jobs: one transaction deletes a batch of rows (SKIP LOCKED, so several
// processes share the work without waiting on each other) and inserts their jobs,
// so each committed row becomes exactly one job, whichever process takes it and
// whenever it crashes.

// outboxBatch bounds one dispatch transaction.
const outboxBatch = 500

// BusyOutboxBatch is how many outbox rows the dispatcher moves a round (one round a
// second by default) while Options.Busy reports true.
const BusyOutboxBatch = 100

// DispatchOutbox moves up to limit outbox rows into River jobs in one transaction and
// returns how many rows it took. Backfill rows are dropped without a job when no
// DialNexa connector is configured (there is nothing to fetch the call from).
func (s *Service) DispatchOutbox(ctx context.Context, limit int) (int, error) {
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("jobs: outbox: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `DELETE FROM job_outbox WHERE id IN (
			SELECT id FROM job_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING kind, COALESCE(case_id, 0), COALESCE(call_id, 0), COALESCE(event, '')`, limit)
	if err != nil {
		return 0, fmt.Errorf("jobs: outbox: %w", err)
	}
	var params []river.InsertManyParams
	// The jobs are unique by args: the same args twice in one insert would fail the
	// whole batch (one row cannot be upserted twice), so a repeat is dropped here.
	seen := map[river.JobArgs]bool{}
	n := 0
	for rows.Next() {
		var kind, event string
		var caseID, callID int64
		if err := rows.Scan(&kind, &caseID, &callID, &event); err != nil {
			rows.Close()
			return 0, fmt.Errorf("jobs: outbox: %w", err)
		}
		n++
		var args river.JobArgs
		switch kind {
		case "enrich":
			args = EnrichArgs{CaseID: caseID}
		case "alerts":
			args = CaseAlertsArgs{CaseID: caseID}
		case "backfill":
			if s.conns.DialNexa != nil {
				args = BackfillArgs{CallID: callID}
			}
		case "ticket":
			args = TicketUpdateArgs{CaseID: caseID, Event: event}
		}
		if args != nil && !seen[args] {
			seen[args] = true
			params = append(params, river.InsertManyParams{Args: args})
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("jobs: outbox: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if len(params) > 0 {
		if _, err := s.insert.InsertManyTx(ctx, tx, params); err != nil {
			return 0, fmt.Errorf("jobs: outbox: insert %d jobs: %w", len(params), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("jobs: outbox: %w", err)
	}
	return n, nil
}

// WakeOutbox asks the dispatcher to run now; it never blocks (ingest.Service.Queued).
func (s *Service) WakeOutbox() {
	select {
	case s.outboxWake <- struct{}{}:
	default:
	}
}

// runOutbox dispatches until ctx ends: shortly after a wake-up (a short pause lets
// a burst of deliveries share one transaction), and every poll interval for rows
// other processes wrote. While Options.Busy reports true it takes one batch of
// BusyOutboxBatch rows every Options.BusyEvery instead, sleeping through the
// wake-ups. Errors are logged and retried on the next round.
func (s *Service) runOutbox(ctx context.Context, pause, poll time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	var quietUntil time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.outboxWake:
			if time.Now().Before(quietUntil) {
				continue // the timer starts the next round
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
		case <-t.C:
		}
		wait := poll
		if s.opts.Busy != nil && s.opts.Busy() {
			s.dispatchLogged(ctx, BusyOutboxBatch)
			wait = s.opts.BusyEvery
			quietUntil = time.Now().Add(wait)
		} else {
			for ctx.Err() == nil {
				if n, ok := s.dispatchLogged(ctx, outboxBatch); !ok || n < outboxBatch {
					break
				}
			}
		}
		t.Reset(wait)
	}
}

// dispatchLogged is DispatchOutbox that logs its error; ok is false after one.
func (s *Service) dispatchLogged(ctx context.Context, limit int) (int, bool) {
	n, err := s.DispatchOutbox(ctx, limit)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("job outbox dispatch failed; retrying", "err", err)
		}
		return n, false
	}
	return n, true
}
