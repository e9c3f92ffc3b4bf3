package retention_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/retention"
	"github.com/countersign/countersign/internal/testdb"
)

var ctx = context.Background()

// now is the retention runs' clock: mid-June 2024. The data lives in January to May
// 2024; entries the test appends through audit.Append land in the real month.
var now = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

func day(m time.Month, d int, hms ...int) time.Time {
	t := time.Date(2024, m, d, 12, 0, 0, 0, time.UTC)
	if len(hms) == 3 {
		t = time.Date(2024, m, d, hms[0], hms[1], hms[2], 0, time.UTC)
	}
	return t
}

// newDB returns a migrated database with the monthly partitions of January to August
// 2024, or of the months starting at each of months.
func newDB(t *testing.T, months ...time.Time) *gorm.DB {
	t.Helper()
	db := testdb.New(t).Gorm
	if len(months) == 0 {
		months = []time.Time{day(1, 10), day(5, 10)}
	}
	for _, at := range append(months, time.Now()) {
		if _, err := retention.EnsurePartitions(ctx, db, at); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func exec(t *testing.T, db *gorm.DB, q string, args ...any) {
	t.Helper()
	if err := db.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func scalar[T any](t *testing.T, db *gorm.DB, q string, args ...any) T {
	t.Helper()
	var v T
	if err := db.Raw(q, args...).Row().Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// auditAt inserts one unsealed entry per time, in order: id order, so sealing order.
func auditAt(t *testing.T, db *gorm.DB, ats ...time.Time) {
	t.Helper()
	for i, at := range ats {
		exec(t, db, `INSERT INTO audit_log (at, actor, action, object_type, object_id, summary)
			VALUES (?, 'user:7 fiona@example.com', 'case.assigned', 'case', ?, '{"after": {"assignee": 7}}')`, at, strconv.Itoa(i+1))
	}
}

// call stores a call received at at, its call key, and one case per status.
func call(t *testing.T, db *gorm.DB, id string, at time.Time, statuses ...string) (int64, []int64) {
	t.Helper()
	callID := scalar[int64](t, db, `INSERT INTO calls (dialnexa_id, status, summary, customer_number, received_at)
		VALUES (?, 'completed', 'refund please', '+15550100', ?) RETURNING id`, id, at)
	exec(t, db, `INSERT INTO call_keys (dialnexa_id, call_id, received_at) VALUES (?, ?, ?)`, id, callID, at)
	var cases []int64
	for i, st := range statuses {
		kind := []string{"refund", "dispute", "review"}[i]
		cases = append(cases, scalar[int64](t, db, `INSERT INTO cases (call_id, kind, status) VALUES (?, ?, ?) RETURNING id`, callID, kind, st))
	}
	return callID, cases
}

type world struct {
	db       *gorm.DB
	recs     []audit.Record // sealed, seq order
	head     audit.Head     // before retention
	janCases []int64
	dir      string
}

// setup stores audit entries whose seqs interleave at month boundaries (sealing is in
// commit order, here id order):
//
//	seq   1   2   3   4   5   6   7   8   9
//	month Jan Jan Feb Jan Feb Mar Feb Mar Apr
//
// and calls in January (closed cases), February (one open case), March (no case)
// and May (an open case).
func setup(t *testing.T) *world {
	t.Helper()
	w := &world{db: newDB(t), dir: t.TempDir()}
	auditAt(t, w.db, day(1, 3), day(1, 20), day(2, 1, 0, 0, 1), day(1, 31, 23, 59, 59), day(2, 10),
		day(3, 5), day(2, 29, 23, 59, 0), day(3, 20), day(4, 2))
	if _, err := audit.Seal(ctx, w.db); err != nil {
		t.Fatal(err)
	}
	w.recs = sealedRecords(t, w.db)
	if len(w.recs) != 9 {
		t.Fatalf("sealed %d entries", len(w.recs))
	}
	var err error
	if w.head, err = audit.CurrentHead(ctx, w.db); err != nil {
		t.Fatal(err)
	}
	_, c1 := call(t, w.db, "call_jan1", day(1, 5), "done")
	_, c2 := call(t, w.db, "call_jan2", day(1, 25), "rejected", "done")
	call(t, w.db, "call_jan3", day(1, 28))
	call(t, w.db, "call_feb1", day(2, 5), "awaiting_approval")
	call(t, w.db, "call_feb2", day(2, 6), "done")
	call(t, w.db, "call_mar1", day(3, 6))
	call(t, w.db, "call_may1", day(5, 6), "new")
	w.janCases = append(c1, c2...)
	return w
}

func sealedRecords(t *testing.T, db *gorm.DB) []audit.Record {
	t.Helper()
	var out []audit.Record
	var buf bytes.Buffer
	if err := audit.Export(ctx, db, &buf, audit.Filter{}, "jsonl"); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r audit.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, db *gorm.DB, stdin string, terminal bool, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	open := func(context.Context) (*gorm.DB, error) {
		if db == nil {
			t.Fatalf("%v: opened the database", args)
		}
		return db, nil
	}
	code := retention.CLI(ctx, open, args, "cli:ops",
		retention.IO{Stdin: strings.NewReader(stdin), StdinTerminal: terminal, Stdout: &out, Stderr: &errOut})
	return result{code, out.String(), errOut.String()}
}

// apply runs `retention apply` as of now, keeping 2 months of calls and 3 of audit.
func (w *world) apply(t *testing.T) result {
	t.Helper()
	return w.cli(t, "apply", "--calls-months", "2", "--audit-months", "3", "--export-dir", w.dir, "--yes")
}

func (w *world) cli(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	opts := retention.IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut}
	code := retention.CLIAt(ctx, func(context.Context) (*gorm.DB, error) { return w.db, nil }, args, "cli:ops", opts, now)
	return result{code, out.String(), errOut.String()}
}

func verifyWith(t *testing.T, db *gorm.DB, opts audit.VerifyOptions) audit.Report {
	t.Helper()
	rep, err := audit.VerifyWith(ctx, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func headOf(r audit.Record) *audit.Head {
	return &audit.Head{Seq: r.Seq, Hash: hex.EncodeToString(r.Hash), At: r.At}
}

func tableExists(t *testing.T, db *gorm.DB, name string) bool {
	return scalar[bool](t, db, "SELECT to_regclass(?) IS NOT NULL", name)
}

func TestPlanListsEveryPartitionAndWhy(t *testing.T) {
	t.Parallel()
	w := setup(t)
	r := w.cli(t, "plan", "--calls-months", "2", "--audit-months", "3")
	if r.code != 0 {
		t.Fatalf("plan: %+v", r)
	}
	for _, want := range []string{
		"calls: keep 2 months (a month ending on or before 2024-04-15 is older); 2 of ",
		"calls_y2024m01  3     drop (3 closed cases stay, without their call)",
		"calls_y2024m02  2     REFUSED: 1 open case (e.g. case ",
		"calls_y2024m03  1     drop\n",
		"calls_y2024m04  0     keep: inside the keep window",
		"calls_y2024m06  0     keep: current or future month",
		"calls_default   0     keep: default partition: never dropped",
		"audit_log: keep 3 months (a month ending on or before 2024-03-15 is older); 2 of ",
		"audit_log_y2024m01  3     drop (seq 1..4, export to audit_log_y2024m01.jsonl)",
		"audit_log_y2024m02  3     drop (seq 3..7, export to audit_log_y2024m02.jsonl)",
		"audit_log_y2024m03  2     keep: inside the keep window",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	// plan changes nothing.
	if !tableExists(t, w.db, "calls_y2024m01") || !tableExists(t, w.db, "audit_log_y2024m01") {
		t.Fatal("plan dropped something")
	}
}

func TestApplyDropsOldMonthsAndTheChainStillVerifies(t *testing.T) {
	t.Parallel()
	w := setup(t)
	// One vault entry per call: they must go with their calls.
	if err := w.db.Exec(`INSERT INTO vault_entries (call_id, kind, key_id, nonce, sealed, fingerprint)
		SELECT call_id, 'vat', 'k1', '\x00', '\x00', decode(md5(dialnexa_id), 'hex') FROM call_keys`).Error; err != nil {
		t.Fatal(err)
	}
	r := w.apply(t)
	// February's calls stay for their open case: apply says so with status 1.
	if r.code != retention.ExitRefused || !strings.Contains(r.stdout, "dropped 2 partitions of calls and 2 of audit_log; 1 kept although older than the window, 0 failed") {
		t.Fatalf("apply: %+v", r)
	}
	for _, want := range []string{
		"calls_y2024m01: dropped 3 calls, 3 call keys, 3 vault entries; 3 closed cases stay",
		"calls_y2024m03: dropped 1 calls, 1 call keys, 1 vault entries; 0 closed cases stay",
		"audit_log_y2024m01: dropped 3 entries (seq 1..4)",
		"audit_log_y2024m02: dropped 3 entries (seq 3..7)",
		"audit_log: chain verifies: ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, r.stdout)
		}
	}
	db := w.db
	for name, want := range map[string]bool{"calls_y2024m01": false, "calls_y2024m02": true, "calls_y2024m03": false,
		"audit_log_y2024m01": false, "audit_log_y2024m02": false, "audit_log_y2024m03": true} {
		if got := tableExists(t, db, name); got != want {
			t.Errorf("%s exists: %v, want %v", name, got, want)
		}
	}
	if keys := scalar[string](t, db, "SELECT string_agg(dialnexa_id, ',' ORDER BY dialnexa_id) FROM call_keys"); keys != "call_feb1,call_feb2,call_may1" {
		t.Errorf("call keys left: %s", keys)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM vault_entries v JOIN call_keys k USING (call_id)"); n != 3 ||
		scalar[int64](t, db, "SELECT count(*) FROM vault_entries") != 3 {
		t.Errorf("vault entries left: %d of the kept calls', want exactly those 3", n)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM cases"); n != 6 {
		t.Errorf("cases: %d, want all 6 kept", n)
	}
	// The case page of a case whose call was dropped renders, saying so.
	d, err := console.LoadDetail(ctx, db, &auth.Principal{UserID: 1, Roles: []string{auth.FinanceApprover}}, w.janCases[0])
	if err != nil || !d.CallRemoved || d.Call.Summary != console.CallRemovedNote || d.Case.Status != "done" {
		t.Fatalf("case page of a dropped call: %v %+v", err, d)
	}

	// The exports: JSON lines as `audit export` writes them, and a sha256sum file.
	for _, m := range []struct {
		part string
		seqs []int64
	}{{"audit_log_y2024m01", []int64{1, 2, 4}}, {"audit_log_y2024m02", []int64{3, 5, 7}}} {
		body, err := os.ReadFile(filepath.Join(w.dir, m.part+".jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		for _, s := range m.seqs {
			b, _ := json.Marshal(w.recs[s-1])
			want.Write(append(b, '\n'))
		}
		if !bytes.Equal(body, want.Bytes()) {
			t.Errorf("%s export:\n%s\nwant\n%s", m.part, body, want.Bytes())
		}
		sum := sha256.Sum256(body)
		side, _ := os.ReadFile(filepath.Join(w.dir, m.part+".jsonl.sha256"))
		if string(side) != hex.EncodeToString(sum[:])+"  "+m.part+".jsonl\n" {
			t.Errorf("%s sha256 file: %q", m.part, side)
		}
	}

	// The newest retention entry carries both months, and only the bridges still
	// needed: seq 5 (before 6) and 7 (before 8).
	rec, s, err := audit.LatestRetention(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if s.Month != "2024-02" || len(s.Dropped) != 2 || s.Dropped[0].Month != "2024-01" || s.Rows != 3 ||
		len(s.Bridges) != 2 || s.Bridges[0].Seq != 5 || s.Bridges[1].Seq != 7 ||
		s.Bridges[0].Hash != audit.HashText(w.recs[4].Hash) || rec.Actor != "cli:ops" {
		t.Fatalf("retention entry: %+v %+v", rec, s)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM audit_log WHERE action = 'calls.retention' AND seq IS NOT NULL"); n != 2 {
		t.Errorf("sealed calls.retention entries: %d", n)
	}

	// verify: the whole chain, from a head kept before retention, and a dropped head
	// proved by its export.
	rep := verifyWith(t, db, audit.VerifyOptions{})
	if !rep.OK() || rep.First != 6 || rep.Dropped != 6 || rep.Retention != 2 {
		t.Fatalf("verify: %+v", rep)
	}
	if rep := verifyWith(t, db, audit.VerifyOptions{Head: &w.head, FromHead: true}); !rep.OK() || rep.First != 9 {
		t.Fatalf("verify --from-head (kept): %+v", rep)
	}
	jan := filepath.Join(w.dir, "audit_log_y2024m01.jsonl")
	feb := filepath.Join(w.dir, "audit_log_y2024m02.jsonl")
	if rep := verifyWith(t, db, audit.VerifyOptions{Head: headOf(w.recs[0]), FromHead: true}); rep.OK() || rep.Problems[0].Kind != audit.KindHeadUnproven {
		t.Fatalf("verify --from-head (dropped, no export): %+v", rep)
	}
	rep = verifyWith(t, db, audit.VerifyOptions{Head: headOf(w.recs[0]), FromHead: true, Exports: []string{jan, feb}})
	if !rep.OK() || rep.HeadProof != "audit_log_y2024m01.jsonl" || len(rep.Exports) != 2 || !rep.Exports[1].OK {
		t.Fatalf("verify --from-head (dropped) --export: %+v", rep)
	}
	if rep := verifyWith(t, db, audit.VerifyOptions{Head: headOf(w.recs[4]), FromHead: true}); !rep.OK() || rep.HeadProof != "bridge" {
		t.Fatalf("verify --from-head (dropped, bridged): %+v", rep)
	}

	// A second run finds nothing more to drop but February's calls.
	r = w.apply(t)
	if r.code != retention.ExitRefused || !strings.Contains(r.stdout, "nothing to drop") {
		t.Fatalf("second apply: %+v", r)
	}
}

// TestTamperingAfterRetentionIsFound: retention's gaps pass, nothing else does.
func TestTamperingAfterRetentionIsFound(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, w *world)
		seq    func(w *world) int64
		kind   string
	}{
		{name: "bridge changed in the retention entry", kind: audit.KindHashMismatch,
			tamper: func(t *testing.T, w *world) {
				tamper(t, w.db, `UPDATE audit_log SET summary = jsonb_set(summary, '{bridges,0,hash}', to_jsonb(?::text))
					WHERE action = 'audit.retention' AND object_id = '2024-02'`, audit.HashText(w.recs[0].Hash))
			},
			seq: func(w *world) int64 {
				rec, _, _ := audit.LatestRetention(ctx, w.db)
				return rec.Seq
			}},
		{name: "kept entry changed", kind: audit.KindHashMismatch,
			tamper: func(t *testing.T, w *world) {
				tamper(t, w.db, "UPDATE audit_log SET object_id = '99' WHERE seq = 6")
			},
			seq: func(*world) int64 { return 6 }},
		{name: "month dropped by hand", kind: audit.KindGap,
			tamper: func(t *testing.T, w *world) {
				exec(t, w.db, "ALTER TABLE audit_log DETACH PARTITION audit_log_y2024m03")
				exec(t, w.db, "DROP TABLE audit_log_y2024m03")
			},
			seq: func(*world) int64 { return 6 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			if r := w.apply(t); !strings.Contains(r.stdout, "and 2 of audit_log") {
				t.Fatalf("apply: %+v", r)
			}
			c.tamper(t, w)
			rep := verifyWith(t, w.db, audit.VerifyOptions{})
			for _, p := range rep.Problems {
				if p.Seq == c.seq(w) && p.Kind == c.kind {
					return
				}
			}
			t.Fatalf("want %s at seq %d, got %+v", c.kind, c.seq(w), rep.Problems)
		})
	}
}

// TestApplyEmptyMonths: empty months are dropped and recorded too (their exports are
// empty files, all with the same sha256).
func TestApplyEmptyMonths(t *testing.T) {
	t.Parallel()
	w := &world{db: newDB(t, time.Date(2023, 11, 10, 0, 0, 0, 0, time.UTC)), dir: t.TempDir()}
	auditAt(t, w.db, day(4, 2))
	if _, err := audit.Seal(ctx, w.db); err != nil {
		t.Fatal(err)
	}
	r := w.cli(t, "apply", "--audit-months", "3", "--export-dir", w.dir, "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "dropped 0 partitions of calls and 4 of audit_log") {
		t.Fatalf("apply: %+v", r)
	}
	rep := verifyWith(t, w.db, audit.VerifyOptions{Exports: []string{filepath.Join(w.dir, "audit_log_y2023m12.jsonl")}})
	if !rep.OK() || rep.Retention != 4 || rep.First != 1 || !rep.Exports[0].OK {
		t.Fatalf("verify: %+v", rep)
	}
}

// TestApplyDropsNothingWhileTheChainIsBroken: a broken chain is an incident.
func TestApplyDropsNothingWhileTheChainIsBroken(t *testing.T) {
	t.Parallel()
	w := setup(t)
	tamper(t, w.db, "UPDATE audit_log SET object_id = '99' WHERE seq = 8")
	r := w.apply(t)
	if r.code != retention.ExitRefused || !strings.Contains(r.stdout, "the audit chain does not verify (seq 8: hash_mismatch") {
		t.Fatalf("apply: %+v", r)
	}
	for _, name := range []string{"calls_y2024m01", "audit_log_y2024m01"} {
		if !tableExists(t, w.db, name) {
			t.Errorf("%s dropped while the chain is broken", name)
		}
	}
}

// tamper runs q with the audit triggers disabled, as the table owner could.
func tamper(t *testing.T, db *gorm.DB, q string, args ...any) {
	t.Helper()
	err := db.Transaction(func(tx *gorm.DB) error {
		for _, s := range []string{"ALTER TABLE audit_log DISABLE TRIGGER ALL", q, "ALTER TABLE audit_log ENABLE TRIGGER ALL"} {
			var a []any
			if s == q {
				a = args
			}
			if err := tx.Exec(s, a...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

func TestApplyRefusesUnsealedMonthsAndKeepsOldestFirst(t *testing.T) {
	t.Parallel()
	w := setup(t)
	auditAt(t, w.db, day(1, 15)) // an unsealed January entry
	r := w.cli(t, "plan", "--audit-months", "3")
	for _, want := range []string{
		"audit_log_y2024m01  4     REFUSED: 1 unsealed entry: is the sealer running?",
		"audit_log_y2024m02  3     REFUSED: an older month (2024-01) is kept: audit months go oldest first",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	r = w.cli(t, "apply", "--audit-months", "3", "--export-dir", w.dir, "--yes")
	if r.code != retention.ExitRefused || !strings.Contains(r.stdout, "nothing to drop") {
		t.Fatalf("apply: %+v", r)
	}
	if !tableExists(t, w.db, "audit_log_y2024m01") || !tableExists(t, w.db, "audit_log_y2024m02") {
		t.Fatal("dropped a refused month")
	}
	entries, _ := os.ReadDir(w.dir)
	if len(entries) != 0 {
		t.Fatalf("exported although nothing was dropped: %v", entries)
	}
}

// TestApplyRechecksAtDropTime: a case reopened... cannot happen, but a case created
// for an old call between plan and apply must still hold its month.
func TestApplyRechecksAtDropTime(t *testing.T) {
	t.Parallel()
	w := setup(t)
	plan, err := retention.MakePlan(ctx, w.db, retention.Options{CallsMonths: 2, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, w.db, `INSERT INTO cases (call_id, kind, status) SELECT id, 'review', 'new' FROM calls WHERE dialnexa_id = 'call_mar1'`)
	var out bytes.Buffer
	res := retention.Apply(ctx, w.db, retention.Options{CallsMonths: 2, Now: now, Actor: "cli:ops"}, plan, &out)
	if res.CallsDropped != 1 || res.Held != 2 || !strings.Contains(out.String(), "calls_y2024m03: REFUSED: 1 open case") {
		t.Fatalf("apply: %+v\n%s", res, out.String())
	}
	if !tableExists(t, w.db, "calls_y2024m03") {
		t.Fatal("March dropped with an open case")
	}
}

func TestCLIUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "usage: countersign retention"},
		{[]string{"prune"}, `unknown command "prune"`},
		{[]string{"plan"}, "say what to keep: --calls-months N and/or --audit-months N"},
		{[]string{"plan", "--calls-months", "0"}, "--calls-months 0: want 1 to 600 months"},
		{[]string{"plan", "--audit-months", "601"}, "--audit-months 601: want 1 to 600 months"},
		{[]string{"plan", "--audit-months", "-3"}, "want 1 to 600 months"},
		{[]string{"plan", "--calls-months", "x"}, "invalid value"},
		{[]string{"plan", "--calls-months", "3", "extra"}, `unexpected argument "extra"`},
		{[]string{"apply", "--audit-months", "3", "--yes"}, "--export-dir DIR is required to drop audit months"},
		{[]string{"apply", "--audit-months", "3", "--export-dir", filepath.Join(dir, "nope"), "--yes"}, "no such file or directory"},
		{[]string{"apply", "--audit-months", "3", "--export-dir", file, "--yes"}, "not a directory"},
		{[]string{"apply", "--calls-months", "3"}, "drops data: pass --yes (stdin is not a terminal to ask on)"},
	} {
		r := runCLI(t, nil, "", false, c.args...)
		if r.code != retention.ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: want exit 2 and %q, got %+v", c.args, c.want, r)
		}
	}
	if r := runCLI(t, nil, "", false, "help"); r.code != 0 || !strings.Contains(r.stdout, "--export-dir DIR") {
		t.Errorf("help: %+v", r)
	}
	open := func(context.Context) (*gorm.DB, error) { return nil, retention.UsageError("DATABASE_URL is not set") }
	var out, errOut bytes.Buffer
	code := retention.CLI(ctx, open, []string{"plan", "--calls-months", "1"}, "cli", retention.IO{Stdout: &out, Stderr: &errOut})
	if code != retention.ExitUsage || !strings.Contains(errOut.String(), "DATABASE_URL is not set") {
		t.Errorf("no database: %d %q", code, errOut.String())
	}
}

func TestApplyAsksOnATerminal(t *testing.T) {
	t.Parallel()
	old := time.Now().AddDate(0, -3, 0)
	db := newDB(t, old)
	call(t, db, "call_old", old)
	args := []string{"apply", "--calls-months", "1"}
	r := runCLI(t, db, "n\n", true, args...)
	if r.code != retention.ExitRefused || !strings.Contains(r.stdout, "Type y to proceed: not confirmed: nothing dropped") {
		t.Fatalf("answered n: %+v", r)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM calls"); n != 1 {
		t.Fatal("dropped without confirmation")
	}
	r = runCLI(t, db, "y\n", true, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "calls_"+old.UTC().Format("y2006m01")+": dropped 1 calls, 1 call keys, 0 vault entries; 0 closed cases stay") {
		t.Fatalf("answered y: %+v", r)
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM calls"); n != 0 {
		t.Fatal("not dropped after y")
	}
}

func isPermissionDenied(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "42501"
}

// TestTriggersGuardEveryPartition: UPDATE, DELETE and TRUNCATE are refused on the
// partitioned audit_log and on each partition by name, including partitions made
// later by EnsurePartitions and the default partition.
func TestTriggersGuardEveryPartition(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	later := time.Now().AddDate(2, 0, 0)
	if n, err := retention.EnsurePartitions(ctx, db, later); err != nil || n != 8 {
		t.Fatalf("ensure partitions two years ahead: %d %v", n, err)
	}
	if n, err := retention.EnsurePartitions(ctx, db, later); err != nil || n != 0 {
		t.Fatalf("ensure partitions again: %d %v", n, err)
	}
	newPart := "audit_log_" + later.UTC().Format("y2006m01")
	// One entry in January 2024, one in the default partition, one in the new month.
	auditAt(t, db, day(1, 3), time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), later)
	if _, err := audit.Seal(ctx, db); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"audit_log", "audit_log_y2024m01", "audit_log_default", newPart} {
		for _, q := range []string{"UPDATE " + table + " SET actor = 'x'", "DELETE FROM " + table, "TRUNCATE " + table} {
			err := db.Exec(q).Error
			if !isPermissionDenied(err) {
				t.Errorf("%s: want permission denied, got %v", q, err)
			}
		}
	}
	if n := scalar[int64](t, db, "SELECT count(*) FROM audit_log"); n != 3 {
		t.Fatalf("rows: %d", n)
	}
	missing := scalar[int64](t, db, `SELECT count(*) FROM pg_inherits i WHERE i.inhparent = 'audit_log'::regclass
		AND NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = i.inhrelid AND g.tgname = 'audit_log_no_truncate')`)
	if missing != 0 {
		t.Fatalf("%d audit partitions without the TRUNCATE trigger", missing)
	}
}
