package audit

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"iter"
	"time"

	"gorm.io/gorm"
)

// Problem kinds.
const (
	KindHashMismatch = "hash_mismatch" // a field of the entry was modified
	KindGap          = "gap"           // entries are missing (deleted)
	KindPrevMismatch = "prev_mismatch" // prev_hash does not link: entries swapped or inserted
	KindTruncated    = "truncated"     // the chain stops before the exported head
	KindHeadMismatch = "head_mismatch" // the entry at the head's seq has another hash: chain rewritten
	KindMalformed    = "malformed"     // a bundle line that is not a record
	KindBundleHeader = "bundle_header" // a bundle whose records do not match its header
	KindUnsealed     = "unsealed"      // entries left unsealed past sealGrace: no sealer is running
)

// sealGrace is how long an entry may wait for sealing before Verify reports it. A
// running sealer takes DefaultSealEvery; anything much older means none is running,
// and until sealed an entry is guarded by the triggers but not by the chain.
const sealGrace = time.Minute

// maxProblems bounds a report; the first problem is what matters.
const maxProblems = 100

// Problem is one break in the chain, at the first entry where it shows. Seq is 0 for
// KindUnsealed, which is about entries not in the chain yet.
type Problem struct {
	Seq    int64
	Kind   string
	Detail string
}

// Report is the outcome of a verification. Problems is empty when the chain is intact
// and nothing has waited for sealing longer than a minute.
type Report struct {
	Entries     int64 // sealed entries checked
	First, Last int64
	Head        Head  // the last entry checked, as a head to export
	Unsealed    int64 // entries appended but not sealed yet (Verify only)
	Problems    []Problem
}

// OK says no problem was found.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// checker is the verification logic shared by the database, record and bundle paths.
// It sees records one at a time and keeps only the previous one.
type checker struct {
	head     *Head
	headHash []byte
	from     int64 // the seq the records must start at
	segment  bool  // a bundle segment: anchored at its first prev_hash, head optional
	prevSeq  int64
	prevHash []byte
	headSeen bool
	rep      Report
}

func newChecker(head *Head, from int64, segment bool) (*checker, error) {
	c := &checker{head: head, from: from, segment: segment}
	if head != nil {
		h, err := hex.DecodeString(head.Hash)
		if err != nil || len(h) != len(genesis) {
			return nil, fmt.Errorf("audit: head hash %q is not a hex SHA-256", head.Hash)
		}
		c.headHash = h
	}
	return c, nil
}

func (c *checker) problem(seq int64, kind, format string, args ...any) {
	if len(c.rep.Problems) < maxProblems {
		c.rep.Problems = append(c.rep.Problems, Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
}

func (c *checker) add(r *Record) {
	switch {
	case c.rep.Entries == 0 && r.Seq != c.from:
		c.problem(c.from, KindGap, "chain starts at seq %d, expected %d: entries deleted", r.Seq, c.from)
	case c.rep.Entries == 0 && !c.segment && !bytes.Equal(r.PrevHash, genesis):
		c.problem(r.Seq, KindPrevMismatch, "first entry's prev_hash is not the genesis hash")
	case c.rep.Entries == 0:
		// A segment is anchored at its first prev_hash.
	case r.Seq <= c.prevSeq:
		c.problem(r.Seq, KindPrevMismatch, "seq %d follows seq %d: entries out of order", r.Seq, c.prevSeq)
	case r.Seq != c.prevSeq+1:
		c.problem(c.prevSeq+1, KindGap, "seq %d..%d missing: entries deleted", c.prevSeq+1, r.Seq-1)
	case !bytes.Equal(r.PrevHash, c.prevHash):
		c.problem(r.Seq, KindPrevMismatch, "prev_hash does not match the hash of seq %d: entries swapped or inserted", c.prevSeq)
	}
	if h, err := computeHash(r); err != nil || !bytes.Equal(h, r.Hash) {
		c.problem(r.Seq, KindHashMismatch, "stored hash does not match the entry's content: entry modified")
	}
	if c.head != nil && r.Seq == c.head.Seq {
		c.headSeen = true
		if !bytes.Equal(r.Hash, c.headHash) {
			c.problem(r.Seq, KindHeadMismatch, "hash differs from the exported head %s: chain rewritten", c.head.Hash)
		}
	}
	if c.rep.Entries == 0 {
		c.rep.First = r.Seq
	}
	c.rep.Entries++
	c.rep.Last = r.Seq
	c.rep.Head = Head{Seq: r.Seq, Hash: hex.EncodeToString(r.Hash), At: r.At}
	c.prevSeq, c.prevHash = r.Seq, r.Hash
}

// finish applies the head checks that need the whole input.
func (c *checker) finish() Report {
	h := c.head
	if h == nil || h.Seq == 0 || c.headSeen {
		return c.rep
	}
	switch {
	case c.segment && (c.rep.Entries == 0 || h.Seq < c.rep.First || h.Seq > c.rep.Last):
		// The head lies outside this segment: nothing to compare.
	case c.rep.Last < h.Seq:
		c.problem(c.rep.Last+1, KindTruncated, "chain ends at seq %d but the exported head is seq %d: tail deleted", c.rep.Last, h.Seq)
	default:
		c.problem(h.Seq, KindHeadMismatch, "the exported head's entry (seq %d) is missing", h.Seq)
	}
	return c.rep
}

// VerifyRecords checks records given in seq order: the whole chain when the first is
// seq 1, otherwise a segment anchored at the first record's prev_hash (an evidence
// bundle). With head, the records must reach head.Seq (whole chain) and the entry at
// head.Seq must carry head.Hash. Summary numbers must be json.Number, as Record's
// UnmarshalJSON leaves them.
func VerifyRecords(recs iter.Seq[Record], head *Head) Report {
	var c *checker
	for r := range recs {
		if c == nil {
			var err error
			if c, err = newChecker(head, r.Seq, r.Seq != 1); err != nil {
				return Report{Problems: []Problem{{Kind: KindHeadMismatch, Detail: err.Error()}}}
			}
		}
		c.add(&r)
	}
	if c == nil {
		c, _ = newChecker(head, 1, false)
	}
	return c.finish()
}

// batchSize is how many rows Verify, Export and Bundle read per query.
var batchSize = 5000

// Verify walks the sealed chain from seq 1 in batches, never holding more than one
// batch, and reports where it breaks. With head (exported earlier), the chain must
// reach head.Seq and the entry there must have head.Hash. It then counts the entries
// still waiting for the sealer (Report.Unsealed) and reports those older than a
// minute as KindUnsealed. Verify only reads: it never seals.
func Verify(ctx context.Context, db *gorm.DB, head *Head) (Report, error) {
	return verify(ctx, db, head, nil)
}

// verify is Verify with a progress callback, called after each batch.
func verify(ctx context.Context, db *gorm.DB, head *Head, progress func(Report)) (Report, error) {
	c, err := newChecker(head, 1, false)
	if err != nil {
		return Report{}, err
	}
	err = scanSeq(ctx, db, Filter{}, func(r *Record) error {
		c.add(r)
		if progress != nil && c.rep.Entries%int64(batchSize) == 0 {
			progress(c.rep)
		}
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	c.finish()
	if err := c.checkUnsealed(ctx, db); err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	return c.rep, nil
}

// checkUnsealed counts entries waiting for the sealer, after the walk, so that an
// entry sealed during the walk is counted once (in Entries) or not at all.
func (c *checker) checkUnsealed(ctx context.Context, db *gorm.DB) error {
	var (
		stale  int64
		oldest sql.NullTime
	)
	err := db.WithContext(ctx).Raw(`SELECT count(*), count(*) FILTER (WHERE at < now() - make_interval(secs => ?)), min(at)
		FROM audit_log WHERE seq IS NULL`, sealGrace.Seconds()).Row().Scan(&c.rep.Unsealed, &stale, &oldest)
	if err != nil {
		return fmt.Errorf("count unsealed: %w", err)
	}
	if stale > 0 {
		c.problem(0, KindUnsealed, "%d of %d unsealed entries are older than %s (oldest at %s): is the sealer running?",
			stale, c.rep.Unsealed, sealGrace, oldest.Time.UTC().Format(time.RFC3339))
	}
	return nil
}
