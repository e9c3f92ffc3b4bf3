package audit

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"
)

// BundleMagic is the "bundle" value of an evidence bundle's header line.
const BundleMagic = "countersign-audit"

// BundleVersion is the bundle format written and read. Version 2 records carry the
// row id, which the hash covers; version 1 (before two-phase sealing) is not read.
const BundleVersion = 2

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

// BundleObject names the object a bundle is about.
type BundleObject struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// maxBundleLine bounds one line of a bundle read back.
const maxBundleLine = 16 << 20

// Bundle writes the evidence bundle for one object as JSON lines: a BundleHeader,
// then every record of the chain from the object's first sealed entry to its last
// (entries not sealed yet are not in the chain yet, so not in the bundle), other
// objects' entries included, so that the segment verifies offline: each hash
// recomputes from its content and prev_hash, and each prev_hash links to the line
// before. ErrNotFound when the object has no sealed entries.
func Bundle(ctx context.Context, db *gorm.DB, w io.Writer, objectType, objectID string) error {
	var from, to sql.NullInt64
	err := db.WithContext(ctx).Raw("SELECT min(seq), max(seq) FROM audit_log WHERE object_type = ? AND object_id = ?",
		objectType, objectID).Row().Scan(&from, &to)
	if err != nil {
		return fmt.Errorf("audit: bundle %s:%s: %w", objectType, objectID, err)
	}
	if !from.Valid {
		return fmt.Errorf("%w: no sealed audit entries for %s:%s", ErrNotFound, objectType, objectID)
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err = enc.Encode(BundleHeader{Bundle: BundleMagic, Version: BundleVersion, Object: BundleObject{objectType, objectID},
		FromSeq: from.Int64, ToSeq: to.Int64, GeneratedAt: time.Now().UTC()})
	if err == nil {
		err = scanSeq(ctx, db, Filter{AfterSeq: from.Int64 - 1, BeforeSeq: to.Int64 + 1},
			func(r *Record) error { return enc.Encode(r) })
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("audit: bundle %s:%s: %w", objectType, objectID, err)
	}
	return nil
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
	var h BundleHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Bundle != BundleMagic || h.Version != BundleVersion || h.FromSeq < 1 || h.ToSeq < h.FromSeq {
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
		var rec Record
		if err := decodeRecord(b, &rec, true); err != nil {
			c.problem(c.prevSeq+1, KindMalformed, "line %d is not a record: %v", line, err)
			continue
		}
		if (rec.Seq == h.FromSeq || rec.Seq == h.ToSeq) && (rec.ObjectType != h.Object.Type || rec.ObjectID != h.Object.ID) {
			c.problem(rec.Seq, KindBundleHeader, "seq %d is not an entry of %s:%s as the header says", rec.Seq, h.Object.Type, h.Object.ID)
		}
		c.add(&rec)
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("audit: read bundle: %w", err)
	}
	rep := c.finish()
	if rep.Last < h.ToSeq {
		c.problem(max(rep.Last+1, h.FromSeq), KindTruncated, "bundle ends at seq %d, its header says %d: lines removed", rep.Last, h.ToSeq)
	} else if rep.Last > h.ToSeq {
		c.problem(h.ToSeq+1, KindBundleHeader, "bundle runs past seq %d, the header's to_seq", h.ToSeq)
	}
	return c.rep, nil
}
