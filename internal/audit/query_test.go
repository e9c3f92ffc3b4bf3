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

// seedMixed appends 6 entries by two actors on two object types.
func seedMixed(t *testing.T, db *gorm.DB) []audit.Record {
	t.Helper()
	sys := audit.Entry{Actor: "system", Action: "webhook.stored", ObjectType: "webhook", ObjectID: "w1"}
	fiona := entry(1)
	note := entry(1)
	note.Action = "note.added"
	mallory := entry(2)
	mallory.Actor, mallory.ActorID = "=HYPERLINK(\"http://evil\")", ptr(int64(8))
	var recs []audit.Record
	for _, e := range []audit.Entry{sys, fiona, note, mallory, sys, fiona} {
		recs = append(recs, appendTx(t, db, e))
	}
	return recs
}

func seqs(recs []audit.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	seedMixed(t, db)
	hourAgo, inAnHour := time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	for _, c := range []struct {
		name string
		f    audit.Filter
		want []int64
	}{
		{"all, newest first", audit.Filter{}, []int64{6, 5, 4, 3, 2, 1}},
		{"page", audit.Filter{Limit: 2}, []int64{6, 5}},
		{"next page", audit.Filter{Limit: 2, BeforeSeq: 5}, []int64{4, 3}},
		{"actor token", audit.Filter{Actor: "user:7"}, []int64{6, 3, 2}},
		{"whole actor", audit.Filter{Actor: "system"}, []int64{5, 1}},
		{"actor id", audit.Filter{ActorID: ptr(int64(8))}, []int64{4}},
		{"object", audit.Filter{ObjectType: "case", ObjectID: "1"}, []int64{6, 3, 2}},
		{"action", audit.Filter{Action: "note.added"}, []int64{3}},
		{"action prefix", audit.Filter{Action: "case.*"}, []int64{6, 4, 2}},
		{"time window", audit.Filter{From: &hourAgo, To: &inAnHour, AfterSeq: 4}, []int64{6, 5}},
		{"future", audit.Filter{From: &inAnHour}, []int64{}},
	} {
		got, err := audit.List(ctx, db, c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(seqs(got), c.want) {
			t.Errorf("%s: seqs %v, want %v", c.name, seqs(got), c.want)
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
	if n := strings.Count(buf.String(), "\n"); n != 3 || !strings.HasPrefix(buf.String(), `{"seq":3,`) {
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
	if len(rows) != 5 || rows[0][0] != "seq" || rows[1][0] != "2" {
		t.Fatalf("csv rows: %v", rows)
	}
	if got := rows[3][2]; got != `'=HYPERLINK("http://evil")` {
		t.Fatalf("formula cell not defused: %q", got)
	}
	if err := audit.Export(ctx, db, &buf, audit.Filter{}, "xml"); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("unknown format: %v", err)
	}
}
