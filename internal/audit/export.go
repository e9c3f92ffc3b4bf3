package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// wireRecord is a Record as one JSON-lines export or bundle line: every stored field,
// hashes in hex, so the line verifies offline.
type wireRecord struct {
	Seq        int64          `json:"seq"`
	ID         int64          `json:"id"`
	At         string         `json:"at"`
	Actor      string         `json:"actor"`
	ActorID    *int64         `json:"actor_id"`
	Action     string         `json:"action"`
	ObjectType string         `json:"object_type"`
	ObjectID   string         `json:"object_id"`
	Outcome    string         `json:"outcome"`
	Summary    map[string]any `json:"summary"`
	RequestID  string         `json:"request_id"`
	IP         string         `json:"ip"`
	UserAgent  string         `json:"user_agent"`
	PrevHash   string         `json:"prev_hash"`
	Hash       string         `json:"hash"`
}

// MarshalJSON writes the export form: snake_case keys, at in RFC 3339 UTC, hex hashes.
func (r Record) MarshalJSON() ([]byte, error) {
	summary := r.Summary
	if summary == nil {
		summary = map[string]any{}
	}
	return encodeCanonical(wireRecord{
		Seq: r.Seq, ID: r.ID, At: r.At.UTC().Format(time.RFC3339Nano), Actor: r.Actor, ActorID: r.ActorID,
		Action: r.Action, ObjectType: r.ObjectType, ObjectID: r.ObjectID, Outcome: r.Outcome,
		Summary: summary, RequestID: r.RequestID, IP: r.IP, UserAgent: r.UserAgent,
		PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash),
	})
}

// UnmarshalJSON reads the export form, keeping summary numbers as json.Number.
func (r *Record) UnmarshalJSON(b []byte) error { return decodeRecord(b, r, false) }

// decodeRecord parses one export line; strict refuses unknown keys (bundles).
func decodeRecord(b []byte, r *Record, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	var w wireRecord
	if err := dec.Decode(&w); err != nil {
		return err
	}
	at, err := time.Parse(time.RFC3339Nano, w.At)
	if err != nil {
		return fmt.Errorf("at: %w", err)
	}
	prev, err := hex.DecodeString(w.PrevHash)
	if err != nil {
		return fmt.Errorf("prev_hash: %w", err)
	}
	hash, err := hex.DecodeString(w.Hash)
	if err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	*r = Record{ID: w.ID, Seq: w.Seq, At: at.UTC(), PrevHash: prev, Hash: hash, Entry: Entry{
		Actor: w.Actor, ActorID: w.ActorID, Action: w.Action, ObjectType: w.ObjectType,
		ObjectID: w.ObjectID, Outcome: w.Outcome, Summary: w.Summary,
		RequestID: w.RequestID, IP: w.IP, UserAgent: w.UserAgent,
	}}
	return nil
}

// Export streams the sealed entries matching f in seq order, as "jsonl" (one Record per
// line, verifiable offline) or "csv" (for spreadsheets: cells that a spreadsheet
// would run as a formula get a leading apostrophe, so CSV is for reading, JSON lines
// for verifying).
func Export(ctx context.Context, db *gorm.DB, w io.Writer, f Filter, format string) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "jsonl", "":
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		err = scanSeq(ctx, db, f, func(r *Record) error { return enc.Encode(r) })
	case "csv":
		err = exportCSV(ctx, db, bw, f)
	default:
		return fmt.Errorf("%w: export format %q (want jsonl or csv)", ErrInvalid, format)
	}
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

var csvHeader = []string{"seq", "id", "at", "actor", "actor_id", "action", "object_type", "object_id",
	"outcome", "summary", "request_id", "ip", "user_agent", "prev_hash", "hash"}

func exportCSV(ctx context.Context, db *gorm.DB, w io.Writer, f Filter) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	err := scanSeq(ctx, db, f, func(r *Record) error {
		summary, err := encodeCanonical(r.Summary)
		if err != nil {
			return err
		}
		actorID := ""
		if r.ActorID != nil {
			actorID = strconv.FormatInt(*r.ActorID, 10)
		}
		return cw.Write([]string{strconv.FormatInt(r.Seq, 10), strconv.FormatInt(r.ID, 10), r.At.UTC().Format(time.RFC3339Nano),
			cell(r.Actor), actorID, cell(r.Action), cell(r.ObjectType), cell(r.ObjectID),
			cell(r.Outcome), string(summary), cell(r.RequestID), cell(r.IP), cell(r.UserAgent),
			hex.EncodeToString(r.PrevHash), hex.EncodeToString(r.Hash)})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// cell defuses spreadsheet formula injection (OWASP "CSV injection"). A leading
// apostrophe is escaped too, so that uncell can undo it and the row verifies.
func cell(s string) string {
	if s != "" && bytes.IndexByte([]byte("=+-@'"), s[0]) >= 0 {
		return "'" + s
	}
	return s
}
