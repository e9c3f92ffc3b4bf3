package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/testdb"
)

var ctx = context.Background()

func newDB(t *testing.T) *gorm.DB {
	t.Helper()
	return testdb.New(t).Gorm
}

func ptr[T any](v T) *T { return &v }

// entry is a typical audited change for case i.
func entry(i int) audit.Entry {
	return audit.Entry{
		Actor: "user:7 fiona@example.com", ActorID: ptr(int64(7)),
		Action: "case.assigned", ObjectType: "case", ObjectID: strconv.Itoa(i),
		Summary: map[string]any{
			"before": map[string]any{"assignee": nil},
			"after":  map[string]any{"assignee": 7, "amount_minor": 1250, "tags": []string{"vip", "refund"}},
		},
		RequestID: "req-" + strconv.Itoa(i), IP: "10.0.0.1", UserAgent: "Mozilla/5.0",
	}
}

// appendTx appends e in its own transaction.
func appendTx(t *testing.T, db *gorm.DB, e audit.Entry) audit.Record {
	t.Helper()
	var rec audit.Record
	err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		rec, err = audit.Append(ctx, tx, e)
		return err
	})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return rec
}

func appendN(t *testing.T, db *gorm.DB, n int) []audit.Record {
	t.Helper()
	recs := make([]audit.Record, n)
	for i := range recs {
		recs[i] = appendTx(t, db, entry(i+1))
	}
	return recs
}

func mustVerify(t *testing.T, db *gorm.DB, head *audit.Head) audit.Report {
	t.Helper()
	rep, err := audit.Verify(ctx, db, head)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestAppendChainsAndVerifies(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	recs := appendN(t, db, 4)
	// Numbers that jsonb reprints (1e+21, 12.50) and a struct must still hash the same
	// when read back.
	odd := entry(5)
	odd.Summary = map[string]any{"big": 1e21, "exact": json.Number("12.50"), "neg": -0.25,
		"who": struct{ Name string }{"Zoë <b>&</b>"}}
	recs = append(recs, appendTx(t, db, odd))
	for i, r := range recs {
		if r.Seq != int64(i+1) {
			t.Fatalf("entry %d: seq %d", i, r.Seq)
		}
		if i > 0 && !bytes.Equal(r.PrevHash, recs[i-1].Hash) {
			t.Fatalf("seq %d: prev_hash does not link", r.Seq)
		}
		if r.At.Location().String() != "UTC" || r.Outcome != "ok" {
			t.Fatalf("seq %d: at %v outcome %q", r.Seq, r.At, r.Outcome)
		}
	}
	if !bytes.Equal(recs[0].PrevHash, make([]byte, 32)) {
		t.Fatal("seq 1 must chain from the zero genesis hash")
	}
	rep := mustVerify(t, db, nil)
	if !rep.OK() || rep.Entries != 5 || rep.First != 1 || rep.Last != 5 {
		t.Fatalf("verify: %+v", rep)
	}
	head, err := audit.CurrentHead(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if head.Seq != 5 || head.Hash != hex.EncodeToString(recs[4].Hash) || rep.Head.Hash != head.Hash {
		t.Fatalf("head %+v, report head %+v", head, rep.Head)
	}
	if rep := mustVerify(t, db, &head); !rep.OK() {
		t.Fatalf("verify against current head: %+v", rep.Problems)
	}
	stored, err := audit.List(ctx, db, audit.Filter{Limit: 1})
	if err != nil || len(stored) != 1 {
		t.Fatalf("list: %v %d", err, len(stored))
	}
	if got := stored[0].Summary["exact"]; got != json.Number("12.50") {
		t.Fatalf("summary exact = %#v", got)
	}
	if !bytes.Equal(stored[0].Hash, recs[4].Hash) {
		t.Fatal("stored hash differs from the one Append returned")
	}
}

func TestEmptyChain(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	head, err := audit.CurrentHead(ctx, db)
	if err != nil || head.Seq != 0 {
		t.Fatalf("head of empty log: %+v %v", head, err)
	}
	if rep := mustVerify(t, db, &head); !rep.OK() || rep.Entries != 0 {
		t.Fatalf("verify empty: %+v", rep)
	}
}

func TestRollbackLeavesNoEntry(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendTx(t, db, entry(1))
	boom := errors.New("change failed")
	err := db.Transaction(func(tx *gorm.DB) error {
		if _, err := audit.Append(ctx, tx, entry(2)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("transaction: %v", err)
	}
	var n int64
	if err := db.Table("audit_log").Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("rows after rollback = %d, %v; want 1", n, err)
	}
	// The rolled-back entry leaves no gap: the next one is seq 2.
	if r := appendTx(t, db, entry(3)); r.Seq != 2 {
		t.Fatalf("next seq after rollback = %d, want 2", r.Seq)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 2 {
		t.Fatalf("verify: %+v", rep)
	}
}

func TestAppendRefusesBadCalls(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	if _, err := audit.Append(ctx, db, entry(1)); !errors.Is(err, audit.ErrNotInTransaction) {
		t.Fatalf("append outside a transaction: %v", err)
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		_, err := audit.Append(ctx, tx, audit.Entry{Actor: "system"})
		return err
	})
	if !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("append without action: %v", err)
	}
}

func TestTableRefusesUpdateDeleteTruncate(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendN(t, db, 2)
	for _, stmt := range []string{
		"UPDATE audit_log SET actor = 'mallory' WHERE seq = 1",
		"DELETE FROM audit_log WHERE seq = 2",
		"DELETE FROM audit_log",
		"TRUNCATE audit_log",
	} {
		err := db.Exec(stmt).Error
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, "append-only") {
			t.Errorf("%s: want permission denied (42501, append-only), got %v", stmt, err)
		}
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 2 {
		t.Fatalf("after refused changes: %+v", rep)
	}
}

func TestConcurrentWritersNeverFork(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	const writers = 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.Transaction(func(tx *gorm.DB) error {
				// Some work of the caller's own first, as in a real decision.
				if err := tx.Exec("SELECT pg_sleep(0.001)").Error; err != nil {
					return err
				}
				_, err := audit.Append(ctx, tx, entry(i))
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	}
	rep := mustVerify(t, db, nil)
	if !rep.OK() || rep.Entries != writers || rep.First != 1 || rep.Last != writers {
		t.Fatalf("chain after %d concurrent writers: %+v", writers, rep)
	}
}

func TestControlCharactersCannotForgeLines(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	forged := `{"seq":999,"actor":"system","action":"approval.approved"}`
	e := entry(1)
	e.Actor = "user:9 eve@example.com\n" + forged
	e.ObjectID = "42\r\n" + forged
	e.UserAgent = "curl/8\u2028" + forged + "\u202e\x1b[31m"
	e.Summary = map[string]any{"note\nkey": "line1\nline2\r" + forged, "nul": "a\x00b", "list": []any{"x\ny"}}
	r := appendTx(t, db, e)
	appendTx(t, db, entry(2))
	if !strings.HasPrefix(r.Actor, `user:9 eve@example.com\n{`) || r.Summary["nul"] != `a\u0000b` {
		t.Fatalf("not escaped: actor %q, nul %q", r.Actor, r.Summary["nul"])
	}
	if _, ok := r.Summary[`note\nkey`]; !ok {
		t.Fatalf("summary key not escaped: %v", r.Summary)
	}

	var jl bytes.Buffer
	if err := audit.Export(ctx, db, &jl, audit.Filter{}, "jsonl"); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(jl.String(), "\n"), "\n")
	if len(lines) != 2 || strings.ContainsAny(jl.String(), "\r\u2028\u2029") {
		t.Fatalf("jsonl export has %d lines, want 2:\n%s", len(lines), jl.String())
	}
	for i, l := range lines {
		var rec audit.Record
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Seq != int64(i+1) {
			t.Fatalf("line %d: seq %d, %v", i+1, rec.Seq, err)
		}
	}

	var cb bytes.Buffer
	if err := audit.Export(ctx, db, &cb, audit.Filter{}, "csv"); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(cb.String(), "\n"); n != 3 || strings.Contains(cb.String(), "\r") {
		t.Fatalf("csv export has %d lines, want header + 2:\n%s", n, cb.String())
	}
	if _, err := csv.NewReader(&cb).ReadAll(); err != nil {
		t.Fatalf("csv: %v", err)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() {
		t.Fatalf("verify: %+v", rep.Problems)
	}
}

// Not parallel: it swaps the package-level Redact hook.
func TestSummaryIsRedacted(t *testing.T) {
	old := audit.Redact
	audit.Redact = func(s string) string { return strings.ReplaceAll(s, "4111111111111111", "************1111") }
	defer func() { audit.Redact = old }()
	db := newDB(t)
	e := entry(1)
	e.Summary = map[string]any{"said": "my card is 4111111111111111", "pan": int64(4111111111111111),
		"nested": []any{map[string]any{"v": "4111111111111111"}}}
	r := appendTx(t, db, e)
	if r.Summary["said"] != "my card is ************1111" || r.Summary["pan"] != "************1111" {
		t.Fatalf("summary not redacted: %v", r.Summary)
	}
	var n int64
	if err := db.Raw("SELECT count(*) FROM audit_log WHERE summary::text LIKE '%4111111111111111%'").Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("rows holding the PAN = %d, %v", n, err)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() {
		t.Fatalf("verify: %+v", rep.Problems)
	}
}
