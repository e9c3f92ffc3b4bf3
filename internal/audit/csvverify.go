package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvFirstColumns starts the header row of a CSV export; verify --bundle reads such
// a file as CSV.
const csvFirstColumns = "seq,id,at,actor,"

// verifyCSV checks a CSV export offline (the header row is read already): each
// row's hash recomputes from its cells, and consecutive rows link by prev_hash;
// entries the export's filter left out are gaps it declares by their seq numbers.
func verifyCSV(sc *bufio.Scanner, head *Head) (Report, error) {
	var buf bytes.Buffer
	for sc.Scan() {
		buf.Write(sc.Bytes())
		buf.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("audit: read csv export: %w", err)
	}
	cr := csv.NewReader(&buf)
	cr.FieldsPerRecord = len(csvHeader)
	var c *checker
	for line := 2; ; line++ {
		cells, err := cr.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if c == nil {
				return Report{}, fmt.Errorf("%w: row %d: %v", ErrNotBundle, line, err)
			}
			c.problem(c.prevSeq+1, KindMalformed, "row %d is not a record: %v", line, err)
			continue
		}
		rec, err := csvRecord(cells)
		if c == nil {
			if err != nil {
				return Report{}, fmt.Errorf("%w: row %d: %v", ErrNotBundle, line, err)
			}
			if c, err = newChecker(head, rec.Seq, true); err != nil {
				return Report{}, err
			}
		}
		if err != nil {
			c.problem(c.prevSeq+1, KindMalformed, "row %d is not a record: %v", line, err)
			continue
		}
		if c.rep.Entries > 0 && rec.Seq > c.prevSeq+1 {
			// Left out by the export's filter: the row continues the chain from its own prev_hash.
			c.prevSeq, c.prevHash = rec.Seq-1, rec.PrevHash
		}
		c.add(&rec)
	}
	if c == nil {
		return Report{}, fmt.Errorf("%w: a CSV export with no rows", ErrNotBundle)
	}
	return c.finish(), nil
}

// csvRecord reads one CSV row back into the Record it was written from.
func csvRecord(cells []string) (Record, error) {
	var r Record
	var err error
	if r.Seq, err = strconv.ParseInt(cells[0], 10, 64); err != nil {
		return r, fmt.Errorf("seq: %w", err)
	}
	if r.ID, err = strconv.ParseInt(cells[1], 10, 64); err != nil {
		return r, fmt.Errorf("id: %w", err)
	}
	if r.At, err = time.Parse(time.RFC3339Nano, cells[2]); err != nil {
		return r, fmt.Errorf("at: %w", err)
	}
	if cells[4] != "" {
		id, err := strconv.ParseInt(cells[4], 10, 64)
		if err != nil {
			return r, fmt.Errorf("actor_id: %w", err)
		}
		r.ActorID = &id
	}
	if r.Summary, err = decodeSummary(cells[9]); err != nil {
		return r, fmt.Errorf("summary: %w", err)
	}
	if r.PrevHash, err = hex.DecodeString(cells[13]); err != nil {
		return r, fmt.Errorf("prev_hash: %w", err)
	}
	if r.Hash, err = hex.DecodeString(cells[14]); err != nil {
		return r, fmt.Errorf("hash: %w", err)
	}
	r.At = r.At.UTC()
	r.Actor, r.Action, r.ObjectType, r.ObjectID = uncell(cells[3]), uncell(cells[5]), uncell(cells[6]), uncell(cells[7])
	r.Outcome, r.RequestID, r.IP, r.UserAgent = uncell(cells[8]), uncell(cells[10]), uncell(cells[11]), uncell(cells[12])
	return r, nil
}

// uncell undoes cell: a leading apostrophe is always cell's own.
func uncell(s string) string { return strings.TrimPrefix(s, "'") }
