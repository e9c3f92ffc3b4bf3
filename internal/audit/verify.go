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
	KindRetention    = "retention"     // an audit.retention entry that cannot be used, or a row it says was dropped is back
	KindHeadUnproven = "head_unproven" // the exported head's entry was dropped by retention and nothing given proves its hash
	KindExport       = "export"        // a retention export file that does not match what its retention entry recorded
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
	// Dropped counts the missing seqs between First and Last, or before First, that
	// sealed audit.retention entries account for; Retention is how many such entries
	// were read (Verify only).
	Dropped   int64
	Retention int
	// HeadProof says how an exported head whose entry retention dropped was proved:
	// "bridge" or the export file's name; empty otherwise.
	HeadProof string
	Exports   []ExportResult // the --export files checked (VerifyWith only)
	Problems  []Problem
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
	fromHead bool  // anchored at head: entries before it are not checked
	cov      *coverage
	prevSeq  int64
	prevHash []byte
	headSeen bool
	// exportHashes holds hashes read from verified export files, for the head's seq.
	exportHashes map[int64]exportHash
	problems     int // problems found, including those past maxProblems
	rep          Report
}

type exportHash struct {
	hash []byte
	file string
}

func newChecker(head *Head, from int64, segment bool) (*checker, error) {
	c := &checker{head: head, from: from, segment: segment, prevSeq: from - 1, prevHash: genesis}
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
	c.problems++
	if len(c.rep.Problems) < maxProblems {
		c.rep.Problems = append(c.rep.Problems, Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
}

func (c *checker) add(r *Record) {
	first := c.rep.Entries == 0
	switch {
	case first && c.segment:
		if r.Seq != c.from {
			c.problem(c.from, KindGap, "chain starts at seq %d, expected %d: entries deleted", r.Seq, c.from)
		}
		// A segment is anchored at its first prev_hash.
	case first && c.fromHead && r.Seq == c.head.Seq:
		// The exported head's own entry: what came before it was checked when the head
		// was exported; its hash is compared below.
	default:
		c.link(r, first)
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
	if d := c.cov.find(r.Seq); d != nil {
		c.problem(r.Seq, KindRetention, "seq %d is present, but retention entry seq %d recorded it as dropped with %s: entry re-inserted",
			r.Seq, d.month.entrySeq, d.month.Month)
	}
	if first {
		c.rep.First = r.Seq
	}
	c.rep.Entries++
	c.rep.Last = r.Seq
	c.rep.Head = Head{Seq: r.Seq, Hash: hex.EncodeToString(r.Hash), At: r.At}
	c.prevSeq, c.prevHash = r.Seq, r.Hash
}

// link checks that r continues the chain after prevSeq: directly, or across a gap
// that sealed retention entries account for, through the hash they recorded.
func (c *checker) link(r *Record, first bool) {
	next := c.prevSeq + 1
	switch {
	case r.Seq < next:
		c.problem(r.Seq, KindPrevMismatch, "seq %d follows seq %d: entries out of order", r.Seq, c.prevSeq)
	case r.Seq > next:
		lo, hi, gap := c.cov.uncovered(next, r.Seq-1)
		switch {
		case gap && first && !c.fromHead && lo == next && hi == r.Seq-1:
			c.problem(next, KindGap, "chain starts at seq %d, expected %d: entries deleted", r.Seq, next)
		case gap:
			c.problem(lo, KindGap, "seq %d..%d missing: entries deleted", lo, hi)
		default:
			c.rep.Dropped += r.Seq - next
			b, ok := c.cov.bridges[r.Seq-1]
			if !ok {
				c.problem(r.Seq, KindPrevMismatch, "seq %d..%d were dropped by retention, but no bridge hash was recorded for seq %d: the link to seq %d is unproved",
					next, r.Seq-1, r.Seq-1, r.Seq)
			} else if !bytes.Equal(r.PrevHash, b) {
				c.problem(r.Seq, KindPrevMismatch, "prev_hash does not match the hash retention recorded for dropped seq %d: entries swapped or inserted", r.Seq-1)
			}
		}
	case !bytes.Equal(r.PrevHash, c.prevHash):
		if r.Seq == 1 {
			c.problem(r.Seq, KindPrevMismatch, "first entry's prev_hash is not the genesis hash")
		} else {
			c.problem(r.Seq, KindPrevMismatch, "prev_hash does not match the hash of seq %d: entries swapped or inserted", c.prevSeq)
		}
	}
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
	case c.cov.find(h.Seq) != nil:
		c.droppedHead()
	default:
		c.problem(h.Seq, KindHeadMismatch, "the exported head's entry (seq %d) is missing", h.Seq)
	}
	return c.rep
}

// droppedHead checks an exported head whose entry retention dropped, against the
// bridge hash retention recorded for it or an export file given to verify.
func (c *checker) droppedHead() {
	h := c.head
	d := c.cov.find(h.Seq)
	if b, ok := c.cov.bridges[h.Seq]; ok {
		if !bytes.Equal(b, c.headHash) {
			c.problem(h.Seq, KindHeadMismatch, "hash differs from the exported head %s (retention recorded %s): chain rewritten", h.Hash, hex.EncodeToString(b))
			return
		}
		c.rep.HeadProof = "bridge"
		return
	}
	if e, ok := c.exportHashes[h.Seq]; ok {
		if !bytes.Equal(e.hash, c.headHash) {
			c.problem(h.Seq, KindHeadMismatch, "hash in export %s differs from the exported head %s: chain rewritten", e.file, h.Hash)
			return
		}
		c.rep.HeadProof = e.file
		return
	}
	c.problem(h.Seq, KindHeadUnproven, "the exported head's entry (seq %d) was dropped with %s by retention entry seq %d: give its export (%s, sha256 %s) with --export to prove it",
		h.Seq, d.month.Month, d.month.entrySeq, d.month.File, hex.EncodeToString(d.month.sha))
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
//
// Gaps that sealed audit.retention entries account for (months retention exported
// and dropped) are accepted when the entry after each gap carries the prev_hash
// retention recorded for the dropped entry before it; any other gap is KindGap.
func Verify(ctx context.Context, db *gorm.DB, head *Head) (Report, error) {
	return verify(ctx, db, VerifyOptions{Head: head}, nil)
}

// VerifyOptions is what VerifyWith checks besides the chain.
type VerifyOptions struct {
	// Head is an exported head: the chain must reach it and carry its hash. If
	// retention dropped its entry, the bridge retention recorded, or an export in
	// Exports, must show that hash.
	Head *Head
	// FromHead starts the walk at Head instead of seq 1: the entries before it were
	// checked when the head was exported (it is how an operator checks a chain whose
	// beginning retention dropped, against a head kept since). Needs Head.
	FromHead bool
	// Exports are retention export files (JSON lines) to check against the
	// audit.retention entries that recorded them.
	Exports []string
}

// VerifyWith is Verify with options: an incremental walk from an exported head, and
// retention exports checked offline against their recorded sha256 and hashes.
func VerifyWith(ctx context.Context, db *gorm.DB, opts VerifyOptions) (Report, error) {
	return verify(ctx, db, opts, nil)
}

// verify is VerifyWith with a progress callback, called after each batch.
func verify(ctx context.Context, db *gorm.DB, opts VerifyOptions, progress func(Report)) (Report, error) {
	if opts.FromHead && opts.Head == nil {
		return Report{}, fmt.Errorf("%w: verify from a head needs the head", ErrInvalid)
	}
	c, err := newChecker(opts.Head, 1, false)
	if err != nil {
		return Report{}, err
	}
	var after int64
	if opts.FromHead && opts.Head.Seq > 0 {
		// Only retention entries sealed after the head can account for gaps after it,
		// or for its own entry: those are walked, hence checked, below.
		c.fromHead, after = true, opts.Head.Seq
		c.prevSeq, c.prevHash = opts.Head.Seq, c.headHash
	}
	if err := c.loadCoverage(ctx, db, after); err != nil {
		return Report{}, fmt.Errorf("audit: verify: %w", err)
	}
	c.rep.Retention = c.cov.entries
	for _, path := range opts.Exports {
		if err := c.checkExportFile(path); err != nil {
			return Report{}, fmt.Errorf("audit: verify: %w", err)
		}
	}
	f := Filter{}
	if c.fromHead {
		f.AfterSeq = opts.Head.Seq - 1
	}
	err = scanSeq(ctx, db, f, func(r *Record) error {
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
