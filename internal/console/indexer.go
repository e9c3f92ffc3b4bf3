package console

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/load"
)

// IndexBatch is how many stale case vectors one statement computes.
const IndexBatch = 200

// IndexPending computes the full-text vectors of cases whose vector is stale (a new
// case, or its call's text changed), up to limit of them, and returns how many it did.
// Each batch takes its ids off case_search_stale and upserts their vectors in one
// statement; concurrent indexers (one per process) skip each other's rows, and no
// case row is locked.
func IndexPending(ctx context.Context, db *gorm.DB, limit int) (int, error) {
	done := 0
	for done < limit {
		n := min(IndexBatch, limit-done)
		var got int
		err := db.WithContext(ctx).Raw(`WITH s AS (DELETE FROM case_search_stale WHERE case_id IN (
					SELECT case_id FROM case_search_stale ORDER BY case_id LIMIT ? FOR UPDATE SKIP LOCKED)
				RETURNING case_id),
			i AS (INSERT INTO case_search (case_id, search)
				SELECT c.id, console_case_search(c.call_id, c.customer_label, c.destination_ref)
				FROM s JOIN cases c ON c.id = s.case_id
				ON CONFLICT (case_id) DO UPDATE SET search = EXCLUDED.search)
			SELECT count(*) FROM s`, n).Scan(&got).Error
		if err != nil {
			return done, fmt.Errorf("console: index search vectors: %w", err)
		}
		done += got
		if got < n {
			break
		}
	}
	return done, nil
}

// RunIndexer keeps search vectors current until ctx ends: new and changed cases become
// searchable within about `every`. Errors are logged, never fatal; the indexer backs
// off while the database is unreachable.
func RunIndexer(ctx context.Context, db *gorm.DB, every time.Duration, log *slog.Logger) {
	RunIndexerWith(ctx, db, IndexerOptions{Every: every, Log: log})
}

// IndexerOptions tune RunIndexerWith.
type IndexerOptions struct {
	Every time.Duration // between rounds; 500 ms when 0
	Log   *slog.Logger
	// Busy, when set and true, means the foreground (webhook ingestion) is in a burst:
	// the indexer then steps aside, indexing nothing for up to BusyDefer and then one
	// batch of IndexBatch cases, leaving the CPU to the requests. New cases are in
	// their queues at once either way; only search finds them later, and the indexer
	// catches up once the burst is over.
	Busy      func() bool
	BusyEvery time.Duration // between checks while busy; BusyIndexEvery when 0
	BusyDefer time.Duration // the longest it indexes nothing while busy; load.DefaultMaxDefer when 0
}

// BusyIndexEvery is the wait between rounds while IndexerOptions.Busy reports true.
const BusyIndexEvery = 2 * time.Second

// RunIndexerWith is RunIndexer with options.
func RunIndexerWith(ctx context.Context, db *gorm.DB, o IndexerOptions) {
	every, log := o.Every, o.Log
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	if log == nil {
		log = slog.Default()
	}
	if o.BusyEvery <= 0 {
		o.BusyEvery = BusyIndexEvery
	}
	aside := load.NewDeferral(o.Busy, o.BusyDefer)
	wait := every
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if aside.Skip() {
			wait = o.BusyEvery
			continue
		}
		limit, next := 20*IndexBatch, every
		if o.Busy != nil && o.Busy() {
			limit, next = IndexBatch, o.BusyEvery
		}
		_, err := IndexPending(ctx, db, limit)
		switch {
		case err == nil:
			wait = next
		case ctx.Err() != nil:
			return
		default:
			log.Warn("search indexer", "err", err)
			wait = min(wait*2, 10*time.Second)
		}
	}
}
