package jobs_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/jobs"
)

// TestOutboxBecomesExactlyOneJobPerRow: rows written by ingest become one River job
// each, however many dispatchers run at once, and leave the outbox empty. Backfill
// rows become jobs only when a DialNexa connector exists.
func TestOutboxBecomesExactlyOneJobPerRow(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	const n = 1200
	for range 800 {
		e.newCase("refund")
	}
	for _, q := range []string{
		`INSERT INTO job_outbox (kind, call_id) SELECT 'backfill', 1000000 + g FROM generate_series(1, 400) g`,
		`INSERT INTO job_outbox (kind, case_id) SELECT 'enrich', id FROM cases`,
	} {
		if err := e.db.Gorm.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, err := e.svc.DispatchOutbox(e.ctx, 100)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				taken += k
				mu.Unlock()
				if k == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if taken != n {
		t.Errorf("dispatchers took %d rows, want %d", taken, n)
	}
	if left := e.scalar(`SELECT count(*) FROM job_outbox`); left != 0 {
		t.Errorf("%d rows left in the outbox", left)
	}
	enrich := e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'enrich_case'`)
	distinct := e.scalar(`SELECT count(DISTINCT args->>'case_id') FROM river_job WHERE kind = 'enrich_case'`)
	backfill := e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'backfill_call'`)
	wantBackfill := int64(0) // no DialNexa connector here: nothing to fetch from, the rows are dropped
	if e.svc.Connectors().DialNexa != nil {
		wantBackfill = 400
	}
	if enrich != 800 || distinct != 800 || backfill != wantBackfill {
		t.Errorf("jobs: %d enrich (%d distinct cases), %d backfill; want 800, 800, %d", enrich, distinct, backfill, wantBackfill)
	}
}

// TestOutboxSlowsDownWhileBusy: while the process is taking a burst of webhooks the
// dispatcher moves BusyOutboxBatch rows per BusyEvery; the rest wait in the outbox.
func TestOutboxSlowsDownWhileBusy(t *testing.T) {
	e := newEnv(t, jobs.Options{Busy: func() bool { return true }, BusyEvery: time.Hour})
	for range jobs.BusyOutboxBatch + 50 {
		e.newCase("refund")
	}
	if err := e.db.Gorm.Exec(`INSERT INTO job_outbox (kind, case_id) SELECT 'enrich', id FROM cases`).Error; err != nil {
		t.Fatal(err)
	}
	e.start()
	left := func() int64 { return e.scalar(`SELECT count(*) FROM job_outbox`) }
	for deadline := time.Now().Add(10 * time.Second); left() > 50; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no busy round within 10 s: %d rows left", left())
		}
	}
	e.svc.WakeOutbox() // a wake-up during the quiet time changes nothing
	time.Sleep(200 * time.Millisecond)
	if n := left(); n != 50 {
		t.Errorf("busy: %d rows left after one round, want 50", n)
	}
	if n := e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'enrich_case'`); n != jobs.BusyOutboxBatch {
		t.Errorf("%d enrich jobs, want %d", n, jobs.BusyOutboxBatch)
	}
}

// checkTimes is an Enricher that records when each claim check started.
type checkTimes struct {
	mu sync.Mutex
	at []time.Time
}

func (c *checkTimes) Check(context.Context, int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = append(c.at, time.Now())
	return nil
}

func (c *checkTimes) Backfill(context.Context, int64) error { return nil }

func (c *checkTimes) GiveUp(context.Context, int64, error) error { return nil }

func (c *checkTimes) times() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.at)
}

// TestClaimChecksStepAsideWhileBusy: while the process is taking a burst of webhooks,
// claim checks start at no more than BusyLookupRate a second.
func TestClaimChecksStepAsideWhileBusy(t *testing.T) {
	checks := &checkTimes{}
	e := newEnv(t, jobs.Options{Enricher: checks, Busy: func() bool { return true }})
	const n = 11
	for range n {
		e.newCase("refund")
	}
	if err := e.db.Gorm.Exec(`INSERT INTO job_outbox (kind, case_id) SELECT 'enrich', id FROM cases`).Error; err != nil {
		t.Fatal(err)
	}
	e.start()
	for deadline := time.Now().Add(30 * time.Second); len(checks.times()) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d claim checks ran within 30 s", len(checks.times()), n)
		}
	}
	at := checks.times()
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	// n checks at 5 a second are n-1 intervals of 200 ms apart, at the least.
	if took, least := at[n-1].Sub(at[0]), time.Duration(n-1)*time.Second/jobs.BusyLookupRate; took < least-50*time.Millisecond {
		t.Errorf("%d claim checks while busy started within %v, want at least %v apart", n, took, least)
	}
}
