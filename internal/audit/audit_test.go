package audit_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// appendTx appends e in its own transaction and returns the unsealed record.
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

func seal(t *testing.T, db *gorm.DB) int {
	t.Helper()
	n, err := audit.Seal(ctx, db)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return n
}

// sealed returns every sealed record in seq order.
func sealed(t *testing.T, db *gorm.DB) []audit.Record {
	t.Helper()
	recs, err := audit.List(ctx, db, audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	recs = slices.DeleteFunc(recs, func(r audit.Record) bool { return !r.Sealed() })
	slices.SortFunc(recs, func(a, b audit.Record) int { return cmp.Compare(a.Seq, b.Seq) })
	return recs
}

// appendN appends entries 1..n, one transaction each, seals them and returns them
// sealed, in seq order.
func appendN(t *testing.T, db *gorm.DB, n int) []audit.Record {
	t.Helper()
	for i := range n {
		appendTx(t, db, entry(i+1))
	}
	if got := seal(t, db); got != n {
		t.Fatalf("sealed %d entries, want %d", got, n)
	}
	return sealed(t, db)
}

func mustVerify(t *testing.T, db *gorm.DB, head *audit.Head) audit.Report {
	t.Helper()
	rep, err := audit.Verify(ctx, db, head)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func countRows(t *testing.T, db *gorm.DB, where string) int64 {
	t.Helper()
	var n int64
	if err := db.Raw("SELECT count(*) FROM audit_log WHERE " + where).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAppendThenSealChainsAndVerifies(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	var appended []audit.Record
	for i := range 4 {
		appended = append(appended, appendTx(t, db, entry(i+1)))
	}
	// Numbers that jsonb reprints (1e+21, 12.50) and a struct must still hash the same
	// when read back.
	odd := entry(5)
	odd.Summary = map[string]any{"big": 1e21, "exact": json.Number("12.50"), "neg": -0.25,
		"who": struct{ Name string }{"Zoë <b>&</b>"}}
	appended = append(appended, appendTx(t, db, odd))
	for i, r := range appended {
		if r.Sealed() || r.Seq != 0 || r.Hash != nil || r.PrevHash != nil {
			t.Fatalf("entry %d came back sealed from Append: %+v", i, r)
		}
		if i > 0 && r.ID <= appended[i-1].ID {
			t.Fatalf("entry %d: id %d after %d", i, r.ID, appended[i-1].ID)
		}
		if r.At.Location().String() != "UTC" || r.At.IsZero() || r.Outcome != "ok" {
			t.Fatalf("entry %d: at %v outcome %q", i, r.At, r.Outcome)
		}
	}
	if got := appended[4].Summary["exact"]; got != json.Number("12.50") {
		t.Fatalf("Append returned summary exact = %#v, want it as stored", got)
	}

	// Appended but not sealed: outside the chain, on the audit page.
	if head, err := audit.CurrentHead(ctx, db); err != nil || head.Seq != 0 {
		t.Fatalf("head before sealing: %+v %v", head, err)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 0 || rep.Unsealed != 5 {
		t.Fatalf("verify before sealing: %+v", rep)
	}
	if listed, err := audit.List(ctx, db, audit.Filter{}); err != nil || len(listed) != 5 || listed[0].ID != appended[4].ID || listed[0].Seq != 0 {
		t.Fatalf("list before sealing: %v %+v", err, listed)
	}

	if n := seal(t, db); n != 5 {
		t.Fatalf("sealed %d, want 5", n)
	}
	if n := seal(t, db); n != 0 {
		t.Fatalf("second seal sealed %d, want 0", n)
	}
	recs := sealed(t, db)
	for i, r := range recs {
		if r.Seq != int64(i+1) || r.ID != appended[i].ID || !r.At.Equal(appended[i].At) {
			t.Fatalf("seq %d is id %d at %v, want seq %d id %d at %v", r.Seq, r.ID, r.At, i+1, appended[i].ID, appended[i].At)
		}
		if i > 0 && !bytes.Equal(r.PrevHash, recs[i-1].Hash) {
			t.Fatalf("seq %d: prev_hash does not link", r.Seq)
		}
		if h, err := audit.ComputeHash(&r); err != nil || !bytes.Equal(h, r.Hash) {
			t.Fatalf("seq %d: stored hash does not recompute: %v", r.Seq, err)
		}
	}
	if !bytes.Equal(recs[0].PrevHash, make([]byte, 32)) {
		t.Fatal("seq 1 must chain from the zero genesis hash")
	}
	rep := mustVerify(t, db, nil)
	if !rep.OK() || rep.Entries != 5 || rep.First != 1 || rep.Last != 5 || rep.Unsealed != 0 {
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
	if got := recs[4].Summary["exact"]; got != json.Number("12.50") {
		t.Fatalf("stored summary exact = %#v", got)
	}
}

func TestEmptyChain(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	if n := seal(t, db); n != 0 {
		t.Fatalf("sealed %d of nothing", n)
	}
	head, err := audit.CurrentHead(ctx, db)
	if err != nil || head.Seq != 0 {
		t.Fatalf("head of empty log: %+v %v", head, err)
	}
	if rep := mustVerify(t, db, &head); !rep.OK() || rep.Entries != 0 || rep.Unsealed != 0 {
		t.Fatalf("verify empty: %+v", rep)
	}
}

func TestRollbackLeavesNoEntry(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	first := appendTx(t, db, entry(1))
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
	if n := countRows(t, db, "true"); n != 1 {
		t.Fatalf("rows after rollback = %d; want 1", n)
	}
	third := appendTx(t, db, entry(3))
	if n := seal(t, db); n != 2 {
		t.Fatalf("sealed %d, want 2", n)
	}
	// The rolled-back entry used up an id but leaves no gap in seq.
	recs := sealed(t, db)
	if len(recs) != 2 || recs[0].ID != first.ID || recs[1].ID != third.ID || recs[1].Seq != 2 || third.ID == first.ID+1 {
		t.Fatalf("after rollback: first id %d, third id %d, sealed %+v", first.ID, third.ID, recs)
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
	if n := countRows(t, db, "true"); n != 0 {
		t.Fatalf("rows after refused appends = %d", n)
	}
}

// wantRefused fails unless err is the trigger's permission denied.
func wantRefused(t *testing.T, what string, err error) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, "append-only") {
		t.Errorf("%s: want permission denied (42501, append-only), got %v", what, err)
	}
}

func TestTableRefusesUpdateDeleteTruncate(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendN(t, db, 2)
	appendTx(t, db, entry(3)) // unsealed
	for _, stmt := range []string{
		"UPDATE audit_log SET actor = 'mallory' WHERE seq = 1",
		"UPDATE audit_log SET actor = 'mallory' WHERE seq IS NULL",
		"DELETE FROM audit_log WHERE seq = 2",
		"DELETE FROM audit_log WHERE seq IS NULL",
		"DELETE FROM audit_log",
		"TRUNCATE audit_log",
	} {
		wantRefused(t, stmt, db.Exec(stmt).Error)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 2 || rep.Unsealed != 1 {
		t.Fatalf("after refused changes: %+v", rep)
	}
	if n := countRows(t, db, "actor = 'mallory'"); n != 0 {
		t.Fatalf("%d rows changed", n)
	}
}

// The trigger lets exactly one UPDATE through: sealing an unsealed row, once, with
// nothing else changed.
func TestTriggerAllowsOnlyTheSeal(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendN(t, db, 1)
	u := appendTx(t, db, entry(2))
	const sealAs = "seq = 2, prev_hash = '\\x01', hash = '\\x02', sealed_at = now()"
	for _, c := range []struct{ name, stmt string }{
		{"reseal a sealed row", "UPDATE audit_log SET seq = 7, prev_hash = '\\x01', hash = '\\x02' WHERE seq = 1"},
		{"touch sealed_at of a sealed row", "UPDATE audit_log SET sealed_at = now() WHERE seq = 1"},
		{"unseal a sealed row", "UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL, sealed_at = NULL WHERE seq = 1"},
		{"no-op update of a sealed row", "UPDATE audit_log SET actor = actor WHERE seq = 1"},
		{"seal changing the outcome", "UPDATE audit_log SET " + sealAs + ", outcome = 'denied' WHERE id = ?"},
		{"seal changing the summary", "UPDATE audit_log SET " + sealAs + ", summary = '{}' WHERE id = ?"},
		{"seal changing at", "UPDATE audit_log SET " + sealAs + ", at = at - interval '1 day' WHERE id = ?"},
		{"seal changing actor_id", "UPDATE audit_log SET " + sealAs + ", actor_id = NULL WHERE id = ?"},
		{"seal changing the id", "UPDATE audit_log SET " + sealAs + ", id = id + 1000 WHERE id = ?"},
		{"seal without a hash", "UPDATE audit_log SET seq = 2, prev_hash = '\\x01' WHERE id = ?"},
	} {
		var args []any
		if strings.Contains(c.stmt, "?") {
			args = append(args, u.ID)
		}
		wantRefused(t, c.name, db.Exec(c.stmt, args...).Error)
	}
	// The seal itself goes through (rolled back: these hashes are made up), which
	// shows the refusals above are about what they change.
	errRollback := errors.New("rollback")
	err := db.Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE audit_log SET "+sealAs+" WHERE id = ?", u.ID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("sealed %d rows", res.RowsAffected)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("the seal update was refused: %v", err)
	}
	if n := seal(t, db); n != 1 {
		t.Fatalf("sealed %d, want 1", n)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 2 {
		t.Fatalf("verify: %+v", rep)
	}
}

// 50 writers, each appending in its own transaction, and 3 sealers at once: one
// chain of 50, each entry sealed exactly once.
func TestConcurrentWritersAndSealersNeverFork(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	const writers, sealers = 50, 3
	var wg, sealWG sync.WaitGroup
	errs := make(chan error, writers+sealers)
	writing := make(chan struct{})
	var mu sync.Mutex
	total := 0
	for range sealers {
		sealWG.Add(1)
		go func() {
			defer sealWG.Done()
			for done := false; !done; {
				select {
				case <-writing:
					done = true // one last round after every writer committed
				default:
				}
				n, err := audit.Seal(ctx, db)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}
		}()
	}
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
	close(writing)
	sealWG.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("writer or sealer: %v", err)
		}
	}
	if total != writers {
		t.Fatalf("sealers sealed %d entries in all, want %d (each exactly once)", total, writers)
	}
	rep := mustVerify(t, db, nil)
	if !rep.OK() || rep.Entries != writers || rep.First != 1 || rep.Last != writers || rep.Unsealed != 0 {
		t.Fatalf("chain after %d concurrent writers and %d sealers: %+v", writers, sealers, rep)
	}
}

// Not parallel: it shrinks the sealing round.
func TestSealInRounds(t *testing.T) {
	defer audit.SetSealBatch(3)()
	db := newDB(t)
	for i := range 10 {
		appendTx(t, db, entry(i))
	}
	if n := seal(t, db); n != 10 {
		t.Fatalf("sealed %d in rounds of 3, want 10", n)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 10 || rep.Unsealed != 0 {
		t.Fatalf("verify: %+v", rep)
	}
}

// An entry whose transaction is still open is not waited for: it is sealed by a
// later round, after entries with higher ids. The chain's order is sealing order.
func TestSealSkipsOpenTransactions(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	open := db.Begin()
	defer open.Rollback()
	late, err := audit.Append(ctx, open, entry(1))
	if err != nil {
		t.Fatal(err)
	}
	early := appendTx(t, db, entry(2))
	if n := seal(t, db); n != 1 {
		t.Fatalf("sealed %d with one transaction open, want 1", n)
	}
	if err := open.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if n := seal(t, db); n != 1 {
		t.Fatalf("sealed %d after commit, want 1", n)
	}
	recs := sealed(t, db)
	if len(recs) != 2 || recs[0].ID != early.ID || recs[1].ID != late.ID || late.ID > early.ID {
		t.Fatalf("chain order: %+v (late id %d, early id %d)", recs, late.ID, early.ID)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 2 {
		t.Fatalf("verify: %+v", rep)
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
	seal(t, db)
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
	seal(t, db)
	if r.Summary["said"] != "my card is ************1111" || r.Summary["pan"] != "************1111" {
		t.Fatalf("summary not redacted: %v", r.Summary)
	}
	if n := countRows(t, db, "summary::text LIKE '%4111111111111111%'"); n != 0 {
		t.Fatalf("rows holding the PAN = %d", n)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 1 {
		t.Fatalf("verify: %+v", rep.Problems)
	}
}

func TestAppendManyChainsInOrder(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	err := db.Gorm.Transaction(func(tx *gorm.DB) error {
		return audit.AppendMany(ctx, tx,
			audit.Entry{Actor: "dialnexa", Action: "webhook.stored", ObjectType: "call", ObjectID: "1", Summary: map[string]any{"n": 1}},
			audit.Entry{Actor: "dialnexa", Action: "case.created", ObjectType: "case", ObjectID: "7", Summary: map[string]any{"card": "4242 4242 4242 4242"}},
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Seal(ctx, db.Gorm); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, db.Gorm, nil)
	if err != nil || !rep.OK() || rep.Entries != 2 {
		t.Fatalf("verify after AppendMany: %+v %v", rep, err)
	}
	var actions []string
	db.Gorm.Raw(`SELECT action FROM audit_log ORDER BY seq`).Scan(&actions)
	if len(actions) != 2 || actions[0] != "webhook.stored" || actions[1] != "case.created" {
		t.Errorf("order %v", actions)
	}
	var summary string
	db.Gorm.Raw(`SELECT summary::text FROM audit_log WHERE action = 'case.created'`).Scan(&summary)
	if strings.Contains(summary, "4242 4242 4242 4242") {
		t.Errorf("card number reached the audit log: %s", summary)
	}
	if err := audit.AppendMany(ctx, db.Gorm, audit.Entry{Actor: "x", Action: "y"}); !errors.Is(err, audit.ErrNotInTransaction) {
		t.Errorf("outside a transaction: %v", err)
	}
}
