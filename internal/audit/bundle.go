package audit

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"
)

// BundleMagic is the "bundle" value of an evidence bundle's header line.
const BundleMagic = "countersign-audit"

// BundleVersion is the bundle format written. Version 3 carries only the object's
// own records, and between them link lines that hold the hashes of the entries left
// out; version 2 carried every entry of the range in full and is still read.
const BundleVersion = 3

// ErrNotBundle says a file is not an evidence bundle at all.
var ErrNotBundle = errors.New("audit: not a countersign audit bundle")

// BundleHeader is the first line of an evidence bundle.
type BundleHeader struct {
	Bundle      string       `json:"bundle"`
	Version     int          `json:"version"`
	Object      BundleObject `json:"object"`
	FromSeq     int64        `json:"from_seq"`
	ToSeq       int64        `json:"to_seq"`
	GeneratedAt time.Time    `json:"generated_at"`
}

// BundleObject names the object a bundle is about. Type "export" is a filtered
// export of the audit log (ID holds the filter): its records need not share one object.
type BundleObject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ExportObject is the BundleObject type of a filtered export.
const ExportObject = "export"

// Link stands for the entries from FromSeq to ToSeq that a bundle leaves out (other
// objects' entries): PrevHash is the first one's prev_hash, Hash the last one's hash,
// so the records around it still chain.
type Link struct {
	FromSeq  int64  `json:"from_seq"`
	ToSeq    int64  `json:"to_seq"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
}

type linkLine struct {
	Link *Link `json:"link"`
}

// maxBundleLine bounds one line of a bundle read back.
const maxBundleLine = 16 << 20

// Bundle writes the evidence bundle for one object as JSON lines: a BundleHeader,
// then the object's sealed records in seq order (entries not sealed yet are not in
// the chain yet, so not in the bundle), with a Link line for each run of other
// entries between them. No other object's content is in it; the bundle verifies
// offline: each record's hash recomputes from its content, and each prev_hash links
// to the record or link before. ErrNotFound when the object has no sealed entries.
func Bundle(ctx context.Context, db *gorm.DB, w io.Writer, objectType, objectID string) error {
	err := writeBundle(ctx, db, w, Filter{ObjectType: objectType, ObjectID: objectID}, BundleObject{objectType, objectID})
	if err != nil {
		return fmt.Errorf("audit: bundle %s:%s: %w", objectType, objectID, err)
	}
	return nil
}

// ExportBundle writes the sealed entries matching f as a bundle (Object type
// "export", ID filter): what `countersign audit verify --bundle` checks. Entries
// that do not match become Link lines. ErrNotFound when nothing matches.
func ExportBundle(ctx context.Context, db *gorm.DB, w io.Writer, f Filter, filter string) error {
	if err := writeBundle(ctx, db, w, f, BundleObject{ExportObject, filter}); err != nil {
		return fmt.Errorf("audit: export bundle: %w", err)
	}
	return nil
}

func writeBundle(ctx context.Context, db *gorm.DB, w io.Writer, f Filter, obj BundleObject) error {
	var from, to sql.NullInt64
	q := f.apply(db.WithContext(ctx).Table("audit_log").Select("min(seq), max(seq)").Where("seq IS NOT NULL"))
	if err := q.Row().Scan(&from, &to); err != nil {
		return err
	}
	if !from.Valid {
		return fmt.Errorf("%w: no sealed audit entries", ErrNotFound)
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := enc.Encode(BundleHeader{Bundle: BundleMagic, Version: BundleVersion, Object: obj,
		FromSeq: from.Int64, ToSeq: to.Int64, GeneratedAt: time.Now().UTC()})
	var prev *Record
	if err == nil {
		f.AfterSeq, f.BeforeSeq = from.Int64-1, to.Int64+1
		err = scanSeq(ctx, db, f, func(r *Record) error {
			if prev != nil && r.Seq > prev.Seq+1 {
				l := Link{FromSeq: prev.Seq + 1, ToSeq: r.Seq - 1, PrevHash: hex.EncodeToString(prev.Hash), Hash: hex.EncodeToString(r.PrevHash)}
				if err := enc.Encode(linkLine{&l}); err != nil {
					return err
				}
			}
			c := *r
			prev = &c
			return enc.Encode(r)
		})
	}
	if err == nil {
		err = bw.Flush()
	}
	return err
}

// VerifyBundle checks an evidence bundle offline. Broken or unparsable record lines
// are Problems; an error means the input could not be read or is not a bundle.
func VerifyBundle(r io.Reader) (Report, error) { return verifyBundle(r, nil) }

// verifyBundle is VerifyBundle that also compares against an exported head when the
// head's seq falls inside the bundle.
func verifyBundle(r io.Reader, head *Head) (Report, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxBundleLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return Report{}, fmt.Errorf("audit: read bundle: %w", err)
		}
		return Report{}, fmt.Errorf("%w: empty input", ErrNotBundle)
	}
	if bytes.HasPrefix(sc.Bytes(), []byte(csvFirstColumns)) {
		return verifyCSV(sc, head)
	}
	var h BundleHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Bundle != BundleMagic || (h.Version != 2 && h.Version != 3) || h.FromSeq < 1 || h.ToSeq < h.FromSeq {
		return Report{}, fmt.Errorf("%w: bad header line", ErrNotBundle)
	}
	c, err := newChecker(head, h.FromSeq, true)
	if err != nil {
		return Report{}, err
	}
	for line := 2; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if h.Version >= 3 && bytes.HasPrefix(b, []byte(`{"link":`)) {
			c.addLink(b, line)
			continue
		}
		var rec Record
		if err := decodeRecord(b, &rec, true); err != nil {
			c.problem(c.prevSeq+1, KindMalformed, "line %d is not a record: %v", line, err)
			continue
		}
		mine := rec.ObjectType == h.Object.Type && rec.ObjectID == h.Object.ID
		switch {
		case h.Object.Type == ExportObject:
		case h.Version >= 3 && !mine:
			c.problem(rec.Seq, KindBundleHeader, "seq %d is an entry of %s:%s, not of %s:%s as the header says", rec.Seq, rec.ObjectType, rec.ObjectID, h.Object.Type, h.Object.ID)
		case (rec.Seq == h.FromSeq || rec.Seq == h.ToSeq) && !mine:
			c.problem(rec.Seq, KindBundleHeader, "seq %d is not an entry of %s:%s as the header says", rec.Seq, h.Object.Type, h.Object.ID)
		}
		c.add(&rec)
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("audit: read bundle: %w", err)
	}
	rep := c.finish()
	if end := max(rep.Last, c.prevSeq); end < h.ToSeq {
		c.problem(max(end+1, h.FromSeq), KindTruncated, "bundle ends at seq %d, its header says %d: lines removed", end, h.ToSeq)
	} else if rep.Last > h.ToSeq {
		c.problem(h.ToSeq+1, KindBundleHeader, "bundle runs past seq %d, the header's to_seq", h.ToSeq)
	}
	return c.rep, nil
}

// addLink checks a Link line: it must start right after the previous record and
// continue its hash; the record after it must continue the link's hash.
func (c *checker) addLink(b []byte, line int) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var l linkLine
	if err := dec.Decode(&l); err != nil || l.Link == nil || l.Link.ToSeq < l.Link.FromSeq {
		c.problem(c.prevSeq+1, KindMalformed, "line %d is not a link: %v", line, err)
		return
	}
	prev, err1 := hex.DecodeString(l.Link.PrevHash)
	hash, err2 := hex.DecodeString(l.Link.Hash)
	switch {
	case err1 != nil || err2 != nil:
		c.problem(l.Link.FromSeq, KindMalformed, "line %d: link hashes are not hex", line)
		return
	case c.rep.Entries == 0:
		c.problem(l.Link.FromSeq, KindBundleHeader, "line %d: a bundle starts with a record, not a link", line)
		return
	case l.Link.FromSeq != c.prevSeq+1:
		c.problem(c.prevSeq+1, KindGap, "link starts at seq %d, expected %d: entries deleted", l.Link.FromSeq, c.prevSeq+1)
	case !bytes.Equal(prev, c.prevHash):
		c.problem(l.Link.FromSeq, KindPrevMismatch, "link's prev_hash does not match the hash of seq %d: entries swapped or inserted", c.prevSeq)
	}
	c.prevSeq, c.prevHash = l.Link.ToSeq, hash
}
