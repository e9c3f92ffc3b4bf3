package audit_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// seedMixed appends and seals 6 entries by two actors on two object types, then
// appends a 7th (system, webhook) left unsealed. It returns all 7, in id order.
func seedMixed(t *testing.T, db *gorm.DB) []audit.Record {
	t.Helper()
	sys := audit.Entry{Actor: "system", Action: "webhook.stored", ObjectType: "webhook", ObjectID: "w1"}
	fiona := entry(1)
	note := entry(1)
	note.Action = "note.added"
	mallory := entry(2)
	mallory.Actor, mallory.ActorID = "=HYPERLINK(\"http://evil\")", ptr(int64(8))
	for _, e := range []audit.Entry{sys, fiona, note, mallory, sys, fiona} {
		appendTx(t, db, e)
	}
	seal(t, db)
	return append(sealed(t, db), appendTx(t, db, sys))
}

// ids lists the records' ids.
func ids(recs []audit.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	recs := seedMixed(t, db)
	// n is the id of the n-th seeded entry; 7 is unsealed.
	n := func(ns ...int) []int64 {
		out := []int64{}
		for _, i := range ns {
			out = append(out, recs[i-1].ID)
		}
		return out
	}
	hourAgo, inAnHour := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, c := range []struct {
		name string
		f    audit.Filter
		want []int64
	}{
		{"all, newest first, unsealed too", audit.Filter{}, n(7, 6, 5, 4, 3, 2, 1)},
		{"page", audit.Filter{Limit: 2}, n(7, 6)},
		{"next page", audit.Filter{Limit: 2, BeforeID: recs[4].ID}, n(4, 3)},
		{"actor token", audit.Filter{Actor: "user:7"}, n(6, 3, 2)},
		{"whole actor", audit.Filter{Actor: "system"}, n(7, 5, 1)},
		{"actor id", audit.Filter{ActorID: ptr(int64(8))}, n(4)},
		{"object", audit.Filter{ObjectType: "case", ObjectID: "1"}, n(6, 3, 2)},
		{"action", audit.Filter{Action: "note.added"}, n(3)},
		{"action prefix", audit.Filter{Action: "case.*"}, n(6, 4, 2)},
		{"time window, sealed after seq 4", audit.Filter{From: &hourAgo, To: &inAnHour, AfterSeq: 4}, n(6, 5)},
		{"before seq 3", audit.Filter{BeforeSeq: 3}, n(2, 1)},
		{"future", audit.Filter{From: &inAnHour}, n()},
	} {
		got, err := audit.List(ctx, db, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(ids(got), c.want) {
			t.Errorf("%s: ids %v, want %v", c.name, ids(got), c.want)
		}
	}
	all, err := audit.List(ctx, db, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 7 {
		t.Fatalf("listed %d, want 7", len(all))
	}
	for i, r := range all {
		wantSeq := int64(7 - i) // ids 6..1 are seq 6..1
		if i == 0 {
			wantSeq = 0 // id 7 is unsealed
		}
		if r.Seq != wantSeq || r.Sealed() != (wantSeq > 0) || r.Sealed() != (r.Hash != nil) {
			t.Errorf("listed id %d: seq %d, hash %x; want seq %d", r.ID, r.Seq, r.Hash, wantSeq)
		}
	}
}

func TestExportJSONLinesVerifiesOffline(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedMixed(t, db)
	head, err := audit.CurrentHead(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := audit.Export(ctx, db, &buf, audit.Filter{}, "jsonl"); err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var r audit.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if len(recs) != 6 {
		t.Fatalf("export has %d records, want the 6 sealed", len(recs))
	}
	if rep := audit.VerifyRecords(slices.Values(recs), &head); !rep.OK() || rep.Entries != 6 {
		t.Fatalf("offline verify of a full export: %+v", rep)
	}
	recs[2].Outcome = "denied"
	rep := audit.VerifyRecords(slices.Values(recs), &head)
	if rep.OK() || rep.Problems[0].Seq != 3 || rep.Problems[0].Kind != audit.KindHashMismatch {
		t.Fatalf("modified export record: %+v", rep.Problems)
	}
	rep = audit.VerifyRecords(slices.Values(recs[:4]), &head)
	if rep.OK() || rep.Problems[len(rep.Problems)-1].Kind != audit.KindTruncated {
		t.Fatalf("cut export against head: %+v", rep.Problems)
	}

	buf.Reset()
	if err := audit.Export(ctx, db, &buf, audit.Filter{AfterSeq: 2, Limit: 3}, "jsonl"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 3 || !strings.HasPrefix(buf.String(), `{"seq":3,"id":`) {
		t.Fatalf("export after 2, limit 3: %d lines:\n%s", n, buf.String())
	}
}

func TestExportCSV(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedMixed(t, db)
	var buf bytes.Buffer
	if err := audit.Export(ctx, db, &buf, audit.Filter{ObjectType: "case"}, "csv"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][0] != "seq" || rows[0][1] != "id" || rows[1][0] != "2" {
		t.Fatalf("csv rows: %v", rows)
	}
	if got := rows[3][3]; got != `'=HYPERLINK("http://evil")` {
		t.Fatalf("formula cell not defused: %q", got)
	}
	if err := audit.Export(ctx, db, &buf, audit.Filter{}, "xml"); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("unknown format: %v", err)
	}
}
