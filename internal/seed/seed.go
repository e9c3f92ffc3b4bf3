// Package seed fills a database with a realistic, deterministic history of calls and
// cases, for load tests, benchmarks and demos at volume (a million calls in a few
// minutes on two cores).
//
// Rows go in with COPY (pgx CopyFrom) in batches, each batch in its own transaction
// with its calls and their cases, so an interrupted run leaves whole batches. Call ids
// are reserved from calls_id_seq up front so cases can point at their calls without a
// round trip. Indexes and triggers stay in place (the cases search trigger fires per
// row, which is most of the cost). Everything random comes from PCG streams keyed by
// the seed and the batch (or customer) number, so the same seed gives the same data
// whatever the batch interleaving; only times are relative to Options.Now.
package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/database"
)

// Options say how much to generate and where in time.
type Options struct {
	Calls   int       // number of calls (required, > 0)
	Days    int       // history length; default 90
	Batch   int       // calls per COPY batch; default 10000
	Seed    uint64    // default 1
	Workers int       // concurrent batches; default 2
	Now     time.Time // end of the history; default time.Now()
	// Progress, when set, is called after every batch with the calls written so far
	// (from the worker goroutines, one call at a time).
	Progress func(done, total int)
	// SkipAnalyze leaves out the final ANALYZE (tests seeding tiny volumes).
	SkipAnalyze bool
}

// Result counts what was written.
type Result struct {
	Calls, Cases int
	FirstCallID  int64
	Elapsed      time.Duration
}

func (o *Options) defaults() error {
	if o.Calls <= 0 {
		return errors.New("seed: Calls must be positive")
	}
	if o.Days <= 0 {
		o.Days = 90
	}
	if o.Batch <= 0 {
		o.Batch = 10000
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC()
	return nil
}

var callColumns = []string{"id", "dialnexa_id", "direction", "call_type", "status", "category",
	"from_number", "to_number", "customer_number", "agent_id", "initiated_at", "ended_at",
	"duration_seconds", "hangup_reason", "summary", "transcript", "transcript_text",
	"recording_url", "recording_expires_at", "fields", "amount_minor", "currency",
	"customer_name", "customer_email", "customer_ref", "vip", "received_at", "updated_at"}

// callKeyCols are the positions in callColumns of call_keys' dialnexa_id, call_id
// and received_at.
var callKeyCols = [3]int{slices.Index(callColumns, "dialnexa_id"), slices.Index(callColumns, "id"),
	slices.Index(callColumns, "received_at")}

var caseColumns = []string{"call_id", "kind", "status", "urgency", "vip", "confidence", "reasons",
	"suspected_kind", "amount_minor", "currency", "destination_type", "destination_ref",
	"customer_label", "owner", "assignee_id", "next_step", "follow_up_deadline", "record_url",
	"tags", "reviewed", "created_at", "updated_at"}

// Run generates opt.Calls calls (and their cases) into db.
func Run(ctx context.Context, db *database.DB, opt Options) (Result, error) {
	if err := opt.defaults(); err != nil {
		return Result{}, err
	}
	start := time.Now()
	first, err := reserveCallIDs(ctx, db, opt.Calls)
	if err != nil {
		return Result{}, err
	}
	// Calls older than the current month need their monthly partitions first, or
	// they would all land in the default partition and could never be dropped by
	// retention.
	if _, err := db.Pool.Exec(ctx, `SELECT cs_ensure_month_partitions('calls', $1::date, $2::date)`,
		opt.Now.AddDate(0, 0, -opt.Days-1), opt.Now.AddDate(0, 3, 0)); err != nil {
		return Result{}, fmt.Errorf("seed: partitions: %w", err)
	}
	users, err := assignees(ctx, db)
	if err != nil {
		return Result{}, err
	}
	g := newGenerator(opt, first, users)
	batches := (opt.Calls + opt.Batch - 1) / opt.Batch
	var next, doneCalls, doneCases atomic.Int64
	var progressMu sync.Mutex
	errc := make(chan error, opt.Workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range opt.Workers {
		go func() {
			for {
				b := int(next.Add(1) - 1)
				if b >= batches || ctx.Err() != nil {
					errc <- ctx.Err()
					return
				}
				calls, cases := g.batch(b)
				if err := writeBatch(ctx, db, calls, cases); err != nil {
					cancel()
					errc <- fmt.Errorf("seed: batch %d: %w", b, err)
					return
				}
				n := doneCalls.Add(int64(len(calls)))
				doneCases.Add(int64(len(cases)))
				if opt.Progress != nil {
					progressMu.Lock()
					opt.Progress(int(n), opt.Calls)
					progressMu.Unlock()
				}
			}
		}()
	}
	var firstErr error
	for range opt.Workers {
		if err := <-errc; err != nil && firstErr == nil {
			firstErr = err
		}
	}
	res := Result{Calls: int(doneCalls.Load()), Cases: int(doneCases.Load()), FirstCallID: first}
	if firstErr != nil {
		res.Elapsed = time.Since(start)
		return res, firstErr
	}
	// The search vectors of the new cases are stale; fill them here rather than leave
	// a million rows to the background indexer.
	if err := indexAll(ctx, db); err != nil {
		return res, err
	}
	if !opt.SkipAnalyze {
		if _, err := db.Pool.Exec(ctx, "VACUUM (ANALYZE) calls, call_keys, cases, case_search"); err != nil {
			return res, fmt.Errorf("seed: analyze: %w", err)
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// reserveCallIDs moves calls_id_seq past n ids and returns the first of them, so the
// seeder can set calls.id itself while live inserts keep drawing fresh ids.
func reserveCallIDs(ctx context.Context, db *database.DB, n int) (int64, error) {
	var first int64
	err := db.Pool.QueryRow(ctx, `
		WITH f AS (SELECT nextval(pg_get_serial_sequence('calls', 'id')) AS first)
		SELECT first FROM f, LATERAL (SELECT setval(pg_get_serial_sequence('calls', 'id'), f.first + $1 - 1)) s`,
		int64(n)).Scan(&first)
	if err != nil {
		return 0, fmt.Errorf("seed: reserve call ids: %w", err)
	}
	return first, nil
}

// assignees are the enabled users cases may be assigned to.
func assignees(ctx context.Context, db *database.DB) ([]int64, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id FROM users WHERE NOT disabled ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("seed: list users: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("seed: list users: %w", err)
	}
	return ids, nil
}

// writeBatch copies one batch of calls and their cases in one transaction.
func writeBatch(ctx context.Context, db *database.DB, calls, cases [][]any) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	// A batch is bulk work: do not wait for the WAL flush of every commit.
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"calls"}, callColumns, pgx.CopyFromRows(calls)); err != nil {
		return fmt.Errorf("copy calls: %w", err)
	}
	keys := make([][]any, len(calls))
	for i, c := range calls {
		keys[i] = []any{c[callKeyCols[0]], c[callKeyCols[1]], c[callKeyCols[2]]}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"call_keys"}, []string{"dialnexa_id", "call_id", "received_at"}, pgx.CopyFromRows(keys)); err != nil {
		return fmt.Errorf("copy call keys: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cases"}, caseColumns, pgx.CopyFromRows(cases)); err != nil {
		return fmt.Errorf("copy cases: %w", err)
	}
	return tx.Commit(ctx)
}

// rng returns the deterministic stream for (seed, stream, n).
func rng(seed uint64, stream, n uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^(stream*0x9E3779B97F4A7C15), n))
}

// indexAll computes every stale case search vector, two workers at a time.
func indexAll(ctx context.Context, db *database.DB) error {
	errc := make(chan error, 2)
	for range 2 {
		go func() {
			for {
				n, err := console.IndexPending(ctx, db.Gorm, 20*console.IndexBatch)
				if err != nil || n == 0 {
					errc <- err
					return
				}
			}
		}()
	}
	err1, err2 := <-errc, <-errc
	if err1 != nil {
		return fmt.Errorf("seed: search vectors: %w", err1)
	}
	if err2 != nil {
		return fmt.Errorf("seed: search vectors: %w", err2)
	}
	return nil
}
