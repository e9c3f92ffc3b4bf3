package console

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// IndexBatch is how many stale case vectors one statement computes.
const IndexBatch = 500

// IndexPending computes the full-text vectors of cases whose vector is stale (a new
// case, or its call's text changed), up to limit of them, and returns how many it did.
// Concurrent indexers (one per process) skip each other's rows.
func IndexPending(ctx context.Context, db *gorm.DB, limit int) (int, error) {
	done := 0
	for done < limit {
		n := min(IndexBatch, limit-done)
		res := db.WithContext(ctx).Exec(`UPDATE cases c SET search = console_case_search(c.call_id, c.customer_label, c.destination_ref)
			WHERE c.id IN (SELECT id FROM cases WHERE search IS NULL ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)`, n)
		if res.Error != nil {
			return done, fmt.Errorf("console: index search vectors: %w", res.Error)
		}
		done += int(res.RowsAffected)
		if int(res.RowsAffected) < n {
			break
		}
	}
	return done, nil
}

// RunIndexer keeps search vectors current until ctx ends: new and changed cases become
// searchable within about `every`. Errors are logged, never fatal; the indexer backs
// off while the database is unreachable.
func RunIndexer(ctx context.Context, db *gorm.DB, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	wait := every
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		_, err := IndexPending(ctx, db, 20*IndexBatch)
		switch {
		case err == nil:
			wait = every
		case ctx.Err() != nil:
			return
		default:
			log.Warn("search indexer", "err", err)
			wait = min(wait*2, 10*time.Second)
		}
	}
}
