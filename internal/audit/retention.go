package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// RetentionAction is the action of the entry `countersign retention` appends when it
// drops a month of audit_log (internal/retention). Its summary is a RetentionSummary.
// It is appended and sealed in the transaction that detaches and drops the partition,
// so the drop and its record commit together, and the entry is itself in the chain.
const RetentionAction = "audit.retention"

// RetentionSummary is the summary of an audit.retention entry: the month it dropped,
// and, cumulatively, everything verification needs to accept the gaps retention left:
//
//   - Dropped lists every month dropped so far (this one included) with the exact seqs
//     it held. Months are sealed in commit order, so a month's seqs are mostly one
//     range, with a few entries of the next month interleaved near the boundary: those
//     stay, and Seqs leaves them out.
//   - Bridges holds, for every dropped entry that a kept entry follows in the chain
//     (and for the chain's head, if it was dropped), its seq and hash: the prev_hash
//     the kept entry must carry.
//
// Both are cumulative because a later retention run may drop the month holding an
// earlier audit.retention entry; the newest entry then still carries all of it.
//
// Hashes are written as lower-case hex in groups of eight separated by ':' (see
// HashText): every summary string passes through Redact, and 13 or more digits in a
// row that pass Luhn (as a plain hex SHA-256 sometimes has) would be masked as a card
// number.
type RetentionSummary struct {
	Month     string         `json:"month"` // 2006-01
	Partition string         `json:"partition"`
	Rows      int64          `json:"rows"`
	FirstSeq  int64          `json:"first_seq"` // 0 when the month was empty
	LastSeq   int64          `json:"last_seq"`
	File      string         `json:"file"`   // the export's file name
	SHA256    string         `json:"sha256"` // of the export file, HashText form
	Dropped   []DroppedMonth `json:"dropped"`
	Bridges   []Bridge       `json:"bridges"`
}

// DroppedMonth is one month of audit_log that retention exported and dropped.
type DroppedMonth struct {
	Month     string     `json:"month"`
	Partition string     `json:"partition"`
	Rows      int64      `json:"rows"`
	Seqs      []SeqRange `json:"seqs"` // exactly the seqs the partition held, ascending
	File      string     `json:"file"`
	SHA256    string     `json:"sha256"`
}

// SeqRange is an inclusive range of seqs, written [first, last].
type SeqRange [2]int64

// Bridge is the seq and hash (HashText form) of a dropped entry that a kept entry's
// prev_hash must equal.
type Bridge struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// Map is s as an Entry summary.
func (s RetentionSummary) Map() (map[string]any, error) {
	if s.Dropped == nil {
		s.Dropped = []DroppedMonth{}
	}
	if s.Bridges == nil {
		s.Bridges = []Bridge{}
	}
	for i := range s.Dropped {
		if s.Dropped[i].Seqs == nil {
			s.Dropped[i].Seqs = []SeqRange{}
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return decodeSummary(string(b))
}

// ParseRetentionSummary reads the summary of an audit.retention entry.
func ParseRetentionSummary(summary map[string]any) (RetentionSummary, error) {
	b, err := encodeCanonical(summary)
	if err != nil {
		return RetentionSummary{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s RetentionSummary
	if err := dec.Decode(&s); err != nil {
		return RetentionSummary{}, err
	}
	return s, nil
}

// HashText writes a hash as lower-case hex in groups of eight separated by ':', the
// form retention summaries use (no run of digits long enough to look like a card).
func HashText(h []byte) string {
	x := hex.EncodeToString(h)
	var b strings.Builder
	for i := 0; i < len(x); i += 8 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(x[i:min(i+8, len(x))])
	}
	return b.String()
}

// ParseHashText reads HashText (or plain hex).
func ParseHashText(s string) ([]byte, error) {
	return hex.DecodeString(strings.ReplaceAll(s, ":", ""))
}

// AppendSealed appends e inside tx and seals it there, with every other entry tx can
// see unsealed, under LockKey: when tx commits, e is already in the chain. Sealers of
// other processes wait on LockKey until tx ends, so keep tx short after this call.
// tx must be READ COMMITTED (the default). Retention uses it so that the entry
// recording a dropped month, and its bridges, are in the chain the moment the month
// is gone.
func AppendSealed(ctx context.Context, tx *gorm.DB, e Entry) (Record, error) {
	rec, err := Append(ctx, tx, e)
	if err != nil {
		return Record{}, err
	}
	for {
		n, err := sealIn(ctx, tx)
		if err != nil {
			return Record{}, fmt.Errorf("audit: seal: %w", err)
		}
		if n < sealBatch {
			break
		}
	}
	var r row
	if err := selectRows(ctx, tx).Where("id = ? AND at = ?", rec.ID, rec.At).Take(&r).Error; err != nil {
		return Record{}, fmt.Errorf("audit: read sealed entry %d: %w", rec.ID, err)
	}
	out, err := r.record()
	if err != nil {
		return Record{}, err
	}
	if !out.Sealed() {
		return Record{}, fmt.Errorf("audit: entry %d was not sealed", rec.ID)
	}
	return out, nil
}

// LatestRetention returns the newest sealed audit.retention entry and its summary;
// ErrNotFound when there is none.
func LatestRetention(ctx context.Context, db *gorm.DB) (Record, RetentionSummary, error) {
	var rows []row
	err := selectRows(ctx, db).Where("action = ? AND seq IS NOT NULL", RetentionAction).
		Order("seq DESC").Limit(1).Find(&rows).Error
	if err != nil {
		return Record{}, RetentionSummary{}, fmt.Errorf("audit: latest retention entry: %w", err)
	}
	if len(rows) == 0 {
		return Record{}, RetentionSummary{}, ErrNotFound
	}
	rec, err := rows[0].record()
	if err != nil {
		return Record{}, RetentionSummary{}, err
	}
	s, err := ParseRetentionSummary(rec.Summary)
	if err != nil {
		return Record{}, RetentionSummary{}, fmt.Errorf("audit: retention entry seq %d: %w", rec.Seq, err)
	}
	return rec, s, nil
}

// droppedRange is a SeqRange with the month that held it.
type droppedRange struct {
	lo, hi int64
	month  *droppedInfo
}

// droppedInfo is a DroppedMonth with the seq of the entry that recorded it.
type droppedInfo struct {
	DroppedMonth
	entrySeq int64
	sha      []byte
}

// coverage is what sealed retention entries say was dropped: the gaps verification
// accepts, and the hashes that bridge them.
type coverage struct {
	ranges  []droppedRange // sorted, disjoint
	bridges map[int64][]byte
	bySHA   map[string]*droppedInfo
	entries int
}

// loadCoverage reads every sealed audit.retention entry with seq > after. Entries it
// cannot use are Problems (c.problem), and are skipped; the walk then also finds
// their gaps uncovered.
func (c *checker) loadCoverage(ctx context.Context, db *gorm.DB, after int64) error {
	cov := &coverage{bridges: map[int64][]byte{}, bySHA: map[string]*droppedInfo{}}
	c.cov = cov
	byMonth := map[string]*droppedInfo{}
	var rows []row
	err := selectRows(ctx, db).Where("action = ? AND seq > ?", RetentionAction, after).Order("seq").Find(&rows).Error
	if err != nil {
		return fmt.Errorf("read retention entries: %w", err)
	}
	type rng struct {
		lo, hi int64
		info   *droppedInfo
	}
	var all []rng
	for i := range rows {
		rec, err := rows[i].record()
		if err != nil {
			return err
		}
		s, err := ParseRetentionSummary(rec.Summary)
		if err == nil {
			err = checkRetentionSummary(rec.Seq, s)
		}
		if err != nil {
			c.problem(rec.Seq, KindRetention, "retention entry cannot be used: %v", err)
			continue
		}
		cov.entries++
		for _, d := range s.Dropped {
			sha, _ := ParseHashText(d.SHA256)
			info := byMonth[d.Month]
			if info == nil {
				// Each month is recorded again by every later (cumulative) entry: the
				// first record is the one used.
				info = &droppedInfo{DroppedMonth: d, entrySeq: rec.Seq, sha: sha}
				byMonth[d.Month] = info
				if key := hex.EncodeToString(sha); cov.bySHA[key] == nil {
					cov.bySHA[key] = info
				}
				for _, r := range d.Seqs {
					all = append(all, rng{r[0], r[1], info})
				}
			} else if !slices.Equal(info.Seqs, d.Seqs) || info.Rows != d.Rows || !bytes.Equal(info.sha, sha) {
				c.problem(rec.Seq, KindRetention, "retention entry describes the export of %s (%s) differently from entry seq %d",
					d.Month, d.File, info.entrySeq)
			}
		}
		for _, b := range s.Bridges {
			h, _ := ParseHashText(b.Hash)
			if old, ok := cov.bridges[b.Seq]; ok && !bytes.Equal(old, h) {
				c.problem(rec.Seq, KindRetention, "retention entry records another hash for seq %d than an earlier one", b.Seq)
				continue
			}
			cov.bridges[b.Seq] = h
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].lo < all[j].lo })
	for _, r := range all {
		if n := len(cov.ranges); n > 0 && r.lo <= cov.ranges[n-1].hi {
			prev := cov.ranges[n-1]
			if prev.month != r.info {
				c.problem(r.lo, KindRetention, "retention entries record seq %d..%d as dropped with both %s and %s",
					r.lo, min(r.hi, prev.hi), prev.month.Month, r.info.Month)
			}
			if r.hi > prev.hi {
				cov.ranges = append(cov.ranges, droppedRange{prev.hi + 1, r.hi, r.info})
			}
			continue
		}
		cov.ranges = append(cov.ranges, droppedRange{r.lo, r.hi, r.info})
	}
	return nil
}

// checkRetentionSummary refuses a summary whose ranges could not have been dropped
// before the entry was sealed, or that is malformed.
func checkRetentionSummary(seq int64, s RetentionSummary) error {
	found := false
	for _, d := range s.Dropped {
		if d.Month == s.Month {
			found = true
		}
		sha, err := ParseHashText(d.SHA256)
		if err != nil || len(sha) != len(genesis) {
			return fmt.Errorf("month %s: sha256 %q is not a SHA-256", d.Month, d.SHA256)
		}
		var n, last int64
		for _, r := range d.Seqs {
			if r[0] < 1 || r[1] < r[0] || r[0] <= last || r[1] >= seq {
				return fmt.Errorf("month %s: seq range %d..%d is not ascending, or not before the entry itself", d.Month, r[0], r[1])
			}
			n += r[1] - r[0] + 1
			last = r[1]
		}
		if n != d.Rows {
			return fmt.Errorf("month %s: %d rows but its seq ranges hold %d", d.Month, d.Rows, n)
		}
	}
	if !found {
		return fmt.Errorf("month %s is not among the dropped months it lists", s.Month)
	}
	for _, b := range s.Bridges {
		if h, err := ParseHashText(b.Hash); err != nil || len(h) != len(genesis) || b.Seq < 1 || b.Seq >= seq {
			return fmt.Errorf("bridge for seq %d is malformed", b.Seq)
		}
	}
	return nil
}

// find returns the dropped range holding seq, or nil.
func (cov *coverage) find(seq int64) *droppedRange {
	if cov == nil {
		return nil
	}
	i := sort.Search(len(cov.ranges), func(i int) bool { return cov.ranges[i].hi >= seq })
	if i < len(cov.ranges) && cov.ranges[i].lo <= seq {
		return &cov.ranges[i]
	}
	return nil
}

// uncovered returns the first sub-range of lo..hi that no dropped range covers; ok
// false when retention covers all of it.
func (cov *coverage) uncovered(lo, hi int64) (int64, int64, bool) {
	for s := lo; s <= hi; {
		r := cov.find(s)
		if r == nil {
			end := hi
			if cov != nil {
				i := sort.Search(len(cov.ranges), func(i int) bool { return cov.ranges[i].lo > s })
				if i < len(cov.ranges) && cov.ranges[i].lo-1 < end {
					end = cov.ranges[i].lo - 1
				}
			}
			return s, end, true
		}
		s = r.hi + 1
	}
	return 0, 0, false
}

// ExportResult is one retention export file checked by VerifyWith.
type ExportResult struct {
	Path        string
	SHA256      string // hex, of the file as read
	Month       string // the month the matching retention entry recorded; empty when none matched
	EntrySeq    int64  // that retention entry's seq
	Rows        int64  // records read
	First, Last int64
	OK          bool
}

// checkExportFile checks one retention export: every record's hash recomputes and
// each record links to the one before it where their seqs are consecutive; the
// file's sha256 is one a sealed retention entry recorded; it holds exactly the seqs
// that entry recorded for its month; and every bridge hash recorded for those seqs
// is the hash of the record there. The hash it holds for the exported head's seq, if
// any, is kept to prove a dropped head (droppedHead).
func (c *checker) checkExportFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sum := sha256.New()
	sc := bufio.NewScanner(io.TeeReader(f, sum))
	sc.Buffer(make([]byte, 0, 64<<10), maxBundleLine)
	name := filepath.Base(path)
	res := ExportResult{Path: path}
	problems := c.problems
	var (
		runs     []SeqRange
		prevHash []byte
		headHash []byte
	)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := decodeRecord(b, &rec, true); err != nil {
			c.problem(0, KindExport, "%s line %d is not an audit record: %v", name, line, err)
			continue
		}
		n := len(runs)
		switch {
		case n > 0 && rec.Seq <= runs[n-1][1]:
			c.problem(rec.Seq, KindExport, "%s line %d: seq %d after seq %d: not in chain order", name, line, rec.Seq, runs[n-1][1])
			continue
		case n > 0 && rec.Seq == runs[n-1][1]+1:
			if !bytes.Equal(rec.PrevHash, prevHash) {
				c.problem(rec.Seq, KindPrevMismatch, "in %s: prev_hash does not match the hash of seq %d: entries swapped or inserted", name, rec.Seq-1)
			}
			runs[n-1][1] = rec.Seq
		default:
			runs = append(runs, SeqRange{rec.Seq, rec.Seq})
		}
		if h, err := computeHash(&rec); err != nil || !bytes.Equal(h, rec.Hash) {
			c.problem(rec.Seq, KindHashMismatch, "in %s: stored hash does not match the entry's content: entry modified", name)
		}
		if bh, ok := c.cov.bridges[rec.Seq]; ok && !bytes.Equal(bh, rec.Hash) {
			c.problem(rec.Seq, KindExport, "in %s: hash of seq %d differs from the bridge hash retention recorded", name, rec.Seq)
		}
		if c.head != nil && rec.Seq == c.head.Seq {
			headHash = rec.Hash
		}
		if res.Rows == 0 {
			res.First = rec.Seq
		}
		res.Rows++
		res.Last = rec.Seq
		prevHash = rec.Hash
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	res.SHA256 = hex.EncodeToString(sum.Sum(nil))
	info := c.cov.bySHA[res.SHA256]
	switch {
	case info == nil:
		c.problem(0, KindExport, "%s: sha256 %s is not one a sealed retention entry recorded: file altered, or not a retention export of this chain",
			name, res.SHA256)
	case !slices.Equal(runs, info.Seqs) || res.Rows != info.Rows:
		res.Month, res.EntrySeq = info.Month, info.entrySeq
		c.problem(0, KindExport, "%s: holds %d entries (seq %v), but retention entry seq %d recorded %d for %s (seq %v)",
			name, res.Rows, runs, info.entrySeq, info.Rows, info.Month, info.Seqs)
	default:
		res.Month, res.EntrySeq = info.Month, info.entrySeq
		if headHash != nil && c.problems == problems {
			if c.exportHashes == nil {
				c.exportHashes = map[int64]exportHash{}
			}
			c.exportHashes[c.head.Seq] = exportHash{hash: headHash, file: name}
		}
	}
	res.OK = info != nil && c.problems == problems
	c.rep.Exports = append(c.rep.Exports, res)
	return nil
}
