package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/load"
)

// DefaultSealEvery is how often RunSealer seals when given no interval: an entry is
// outside the chain for about this long after its transaction commits.
const DefaultSealEvery = 200 * time.Millisecond

// sealBatch bounds the entries one sealing round reads, hashes and updates.
var sealBatch = 1000

// sealSQL writes one round's seqs and hashes in one statement. The trigger on
// audit_log lets exactly this change through, once per row.
const sealSQL = `UPDATE audit_log a
	SET seq = v.seq, prev_hash = v.prev, hash = v.hash, sealed_at = now()
	FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[]) AS v(id, seq, prev, hash)
	WHERE a.id = v.id AND a.seq IS NULL`

// Seal gives committed unsealed entries their place in the chain, oldest id first,
// and returns how many it sealed. Each round is one transaction holding LockKey, so
// sealers in any number of processes take turns and never fork the chain. A round
// sees only committed entries: one whose transaction is still open when the round
// reads is sealed by a later round, after entries with higher ids, so the chain's
// order is sealing order, not id order. Seal stops after a round that found fewer
// entries than it could take: everything committed before Seal was called is then
// sealed.
func Seal(ctx context.Context, db *gorm.DB) (int, error) {
	total := 0
	for {
		n, err := sealRound(ctx, db)
		total += n
		if err != nil || n < sealBatch {
			return total, err
		}
	}
}

// sealRound seals up to sealBatch entries in one transaction.
func sealRound(ctx context.Context, db *gorm.DB) (int, error) {
	var n int
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		n, err = sealIn(ctx, tx)
		return err
	}, &sql.TxOptions{Isolation: sql.LevelReadCommitted}) // each statement sees the last sealer's commit
	if err != nil {
		return 0, fmt.Errorf("audit: seal: %w", err)
	}
	return n, nil
}

// sealIn seals up to sealBatch entries inside tx, which must be READ COMMITTED, under
// LockKey (held until tx ends), and returns how many.
func sealIn(ctx context.Context, tx *gorm.DB) (int, error) {
	if err := tx.WithContext(ctx).Exec("SELECT pg_advisory_xact_lock(?)", LockKey).Error; err != nil {
		return 0, fmt.Errorf("lock chain: %w", err)
	}
	lastSeq, lastHash, err := sealedHead(tx.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	var rows []row
	err = selectRows(ctx, tx).Where("seq IS NULL").Order("id").Limit(sealBatch).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	ids, seqs := make([]int64, len(rows)), make([]int64, len(rows))
	prevs, hashes := make([][]byte, len(rows)), make([][]byte, len(rows))
	prev := lastHash
	for i := range rows {
		rec, err := rows[i].record()
		if err != nil {
			return 0, err
		}
		rec.Seq, rec.PrevHash = lastSeq+int64(i)+1, prev
		if rec.Hash, err = computeHash(&rec); err != nil {
			return 0, err
		}
		ids[i], seqs[i], prevs[i], hashes[i] = rec.ID, rec.Seq, rec.PrevHash, rec.Hash
		prev = rec.Hash
	}
	// Straight to the driver: gorm would expand the slices into value lists, and
	// pgx sends them as the arrays unnest wants.
	res, err := tx.Statement.ConnPool.ExecContext(ctx, sealSQL, ids, seqs, prevs, hashes)
	if isUniqueViolation(err) {
		return 0, fmt.Errorf("%w: seq %d..%d: %v", ErrChainMoved, seqs[0], seqs[len(seqs)-1], err)
	}
	if err != nil {
		return 0, fmt.Errorf("write seq %d..%d: %w", seqs[0], seqs[len(seqs)-1], err)
	}
	if got, err := res.RowsAffected(); err != nil || got != int64(len(rows)) {
		return 0, fmt.Errorf("%w: sealed %d of %d rows (%v)", ErrChainMoved, got, len(rows), err)
	}
	// seq is not UNIQUE on the partitioned table (00013_audit_by_month.sql): the lock
	// is what keeps the chain single. Re-count, as a second guard, that no one else
	// committed these seqs meanwhile (a writer that bypassed LockKey).
	var n int64
	err = tx.WithContext(ctx).Raw("SELECT count(*) FROM audit_log WHERE seq BETWEEN ? AND ?", seqs[0], seqs[len(seqs)-1]).Row().Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("re-count seq %d..%d: %w", seqs[0], seqs[len(seqs)-1], err)
	}
	if n != int64(len(rows)) {
		return 0, fmt.Errorf("%w: seq %d..%d is held by %d entries, %d sealed now", ErrChainMoved, seqs[0], seqs[len(seqs)-1], n, len(rows))
	}
	return len(rows), nil
}

// sealedHead reads the last sealed seq and hash; 0 and the genesis hash when none.
func sealedHead(tx *gorm.DB) (int64, []byte, error) {
	var (
		seq  int64
		hash []byte
	)
	err := tx.Raw("SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").Row().Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, genesis, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read chain head: %w", err)
	}
	return seq, hash, nil
}

// maxSealBackoff bounds the wait between failed rounds of RunSealer.
const maxSealBackoff = 10 * time.Second

// RunSealer seals every interval (DefaultSealEvery when every is 0) until ctx is done,
// then seals once more, so that a clean shutdown leaves nothing unsealed. Errors are
// logged, never returned or panicked; after a failure the wait doubles, up to 10 s,
// so a database outage does not flood the log. Run it in every process that serves
// or works: sealers take turns on LockKey, and one is enough to keep up.
func RunSealer(ctx context.Context, db *gorm.DB, every time.Duration, log *slog.Logger) {
	RunSealerWith(ctx, db, SealerOptions{Every: every, Log: log})
}

// SealerOptions tune RunSealerWith.
type SealerOptions struct {
	Every time.Duration // between rounds; DefaultSealEvery when 0
	Log   *slog.Logger
	// Busy, when set and true, means the foreground (webhook ingestion) is in a burst:
	// the sealer then steps aside, sealing nothing for up to BusyDefer and then one
	// round of up to sealBatch entries, leaving the CPU to the requests. It catches
	// up once the burst is over; entries are never lost, only sealed later.
	Busy      func() bool
	BusyEvery time.Duration // between checks while busy; BusySealEvery when 0
	BusyDefer time.Duration // the longest it seals nothing while busy; load.DefaultMaxDefer when 0
}

// finalSealTimeout bounds the seal a stopping sealer makes on its way out.
const finalSealTimeout = 5 * time.Second

// BusySealEvery is the wait between rounds while SealerOptions.Busy reports true.
const BusySealEvery = time.Second

// RunSealerWith is RunSealer with options.
func RunSealerWith(ctx context.Context, db *gorm.DB, o SealerOptions) {
	every, log := o.Every, o.Log
	if every <= 0 {
		every = DefaultSealEvery
	}
	if log == nil {
		log = slog.Default()
	}
	busy := func() bool { return o.Busy != nil && o.Busy() }
	if o.BusyEvery <= 0 {
		o.BusyEvery = BusySealEvery
	}
	aside := load.NewDeferral(o.Busy, o.BusyDefer)
	wait, failures := every, 0
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalSealTimeout)
			defer cancel()
			// Running out of time here loses nothing: the entries are written, only not
			// yet sealed, and the next start (or another instance) seals them.
			if n, err := safeSeal(final, db); errors.Is(err, context.DeadlineExceeded) || final.Err() != nil {
				log.Warn("audit: shutting down with entries not yet sealed; the next start seals them",
					"sealed_now", n, "took", finalSealTimeout)
			} else if err != nil {
				log.Error("audit: final seal failed", "err", err.Error(), "sealed", n)
			}
			return
		case <-t.C:
		}
		if aside.Skip() {
			t.Reset(o.BusyEvery)
			continue
		}
		seal, next := safeSeal, every
		if busy() {
			seal, next = safeSealRound, o.BusyEvery
		}
		if _, err := seal(ctx, db); err != nil && ctx.Err() == nil {
			failures++
			wait = min(wait*2, maxSealBackoff)
			log.Error("audit: seal failed", "err", err.Error(), "failures", failures, "retry_in", wait)
		} else {
			wait, failures = next, 0
		}
		t.Reset(wait)
	}
}

// safeSeal is Seal that turns a panic into an error: a bug in the sealer must not
// take the server down with it.
func safeSeal(ctx context.Context, db *gorm.DB) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("audit: seal panicked: %v", p)
		}
	}()
	return Seal(ctx, db)
}

// safeSealRound is safeSeal for a single round of up to sealBatch entries.
func safeSealRound(ctx context.Context, db *gorm.DB) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("audit: seal panicked: %v", p)
		}
	}()
	return sealRound(ctx, db)
}
