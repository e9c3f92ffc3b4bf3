package audit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

type cliResult struct {
	code           int
	stdout, stderr string
}

func runCLI(db *gorm.DB, args ...string) cliResult {
	var out, errOut bytes.Buffer
	code := audit.CLI(ctx, db, args, &out, &errOut)
	return cliResult{code, out.String(), errOut.String()}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIVerifyAndHead(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendN(t, db, 3)
	appendTx(t, db, entry(4)) // not sealed: outside the head, counted as waiting
	h := runCLI(db, "head")
	var head audit.Head
	if h.code != 0 || json.Unmarshal([]byte(h.stdout), &head) != nil || head.Seq != 3 || len(head.Hash) != 64 {
		t.Fatalf("head: %+v", h)
	}
	headFile := writeFile(t, "head.json", h.stdout)

	r := runCLI(db, "verify", "--head", headFile)
	want := "audit chain OK: 3 entries, seq 1..3, head " + head.Hash + "\n"
	if r.code != audit.ExitOK || !strings.HasPrefix(r.stdout, want) || !strings.HasSuffix(r.stdout, "\n1 entries awaiting sealing\n") {
		t.Fatalf("verify: %+v, want prefix %q and 1 awaiting sealing", r, want)
	}

	tamper(t, db, sql("UPDATE audit_log SET object_id = '20' WHERE seq = 2"))
	r = runCLI(db, "verify")
	if r.code != audit.ExitTamper || !strings.HasPrefix(r.stdout, "audit chain BROKEN at seq 2: hash mismatch (entry modified)\n") {
		t.Fatalf("verify after modification: %+v", r)
	}
}

func TestCLITruncatedAgainstHead(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendN(t, db, 3)
	headFile := writeFile(t, "head.json", runCLI(db, "head").stdout)
	tamper(t, db, sql("DELETE FROM audit_log WHERE seq = 3"))
	if r := runCLI(db, "verify"); r.code != audit.ExitOK {
		t.Fatalf("verify without head: %+v", r)
	}
	r := runCLI(db, "verify", "-head", headFile)
	if r.code != audit.ExitTamper || !strings.HasPrefix(r.stdout, "audit chain BROKEN at seq 3: truncated") {
		t.Fatalf("verify --head after the tail was cut: %+v", r)
	}
}

func TestCLIBundleOfflineAndExport(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	lines := bundleFor(t, db)
	good := writeFile(t, "good.jsonl", strings.Join(lines, "\n")+"\n")
	if r := runCLI(nil, "verify", "--bundle", good); r.code != audit.ExitOK || !strings.HasPrefix(r.stdout, "audit bundle OK: 2 entries, seq 2..4") {
		t.Fatalf("verify good bundle without a database: %+v", r)
	}
	lines[3] = strings.Replace(lines[3], `"action":"case.assigned"`, `"action":"approval.approved"`, 1)
	bad := writeFile(t, "bad.jsonl", strings.Join(lines, "\n")+"\n")
	if r := runCLI(nil, "verify", "--bundle", bad); r.code != audit.ExitTamper || !strings.Contains(r.stdout, "BROKEN at seq 4: hash mismatch") {
		t.Fatalf("verify modified bundle: %+v", r)
	}

	r := runCLI(db, "export", "--object", "case:1", "--from", "2000-01-01", "--to", "2999-12-31")
	if r.code != audit.ExitOK || strings.Count(r.stdout, "\n") != 2 {
		t.Fatalf("export case:1: %+v", r)
	}
	r = runCLI(db, "export", "--format", "csv", "--action", "case.*", "--actor", "user:7")
	if r.code != audit.ExitOK || strings.Count(r.stdout, "\n") != 6 {
		t.Fatalf("export csv: %+v", r)
	}
}

// Not parallel: it changes the batch size and the progress interval.
func TestCLIProgress(t *testing.T) {
	defer audit.SetBatchSize(2)()
	defer audit.SetProgressEvery(4)()
	db := newDB(t)
	appendN(t, db, 9)
	r := runCLI(db, "verify")
	if r.code != audit.ExitOK || strings.Count(r.stderr, "audit verify: ") != 2 || !strings.Contains(r.stderr, "8 entries checked") {
		t.Fatalf("progress: %+v", r)
	}
}

func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	notHead := writeFile(t, "x.json", `{"seq": 3, "hash": "zz"}`)
	notBundle := writeFile(t, "x.csv", "seq,at\n")
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{nil, audit.ExitUsage, "usage:"},
		{[]string{"frobnicate"}, audit.ExitUsage, `unknown command "frobnicate"`},
		{[]string{"verify", "--nope"}, audit.ExitUsage, "flag provided but not defined"},
		{[]string{"verify", "extra"}, audit.ExitUsage, `unexpected argument "extra"`},
		{[]string{"verify", "--head", "/does/not/exist"}, audit.ExitUsage, "--head"},
		{[]string{"verify", "--head", notHead}, audit.ExitUsage, "not a hex SHA-256"},
		{[]string{"verify", "--bundle", notBundle}, audit.ExitUsage, "not a countersign audit bundle"},
		{[]string{"export", "--format", "xml"}, audit.ExitUsage, "want jsonl or csv"},
		{[]string{"export", "--object", "case"}, audit.ExitUsage, "want TYPE:ID"},
		{[]string{"export", "--from", "yesterday"}, audit.ExitUsage, "want 2006-01-02 or RFC 3339"},
		{[]string{"verify"}, audit.ExitError, "no database configured"},
		{[]string{"head"}, audit.ExitError, "no database configured"},
	} {
		r := runCLI(nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("audit %v: exit %d, stderr %q; want %d and %q", c.args, r.code, r.stderr, c.code, c.msg)
		}
	}
	if r := runCLI(nil, "help"); r.code != audit.ExitOK || !strings.Contains(r.stdout, "exit status") {
		t.Errorf("help: %+v", r)
	}
}

// Entries a minute old and still unsealed mean no sealer is running: verify says so,
// exits 1, and does not seal them itself.
func TestVerifyReportsStaleUnsealed(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	appendN(t, db, 2)
	appendTx(t, db, entry(3))
	err := db.Exec(`INSERT INTO audit_log (at, actor, action) VALUES (now() - interval '2 minutes', 'system', 'case.created')`).Error
	if err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, db, nil)
	if rep.OK() || rep.Entries != 2 || rep.Unsealed != 2 || len(rep.Problems) != 1 ||
		rep.Problems[0].Kind != audit.KindUnsealed || !strings.Contains(rep.Problems[0].Detail, "1 of 2 unsealed") {
		t.Fatalf("verify with a stale unsealed entry: %+v", rep)
	}
	r := runCLI(db, "verify")
	if r.code != audit.ExitTamper || !strings.HasPrefix(r.stdout, "audit chain NOT OK: entries awaiting sealing for over a minute") ||
		!strings.Contains(r.stdout, "\n2 entries awaiting sealing\n") {
		t.Fatalf("cli verify: %+v", r)
	}
	if n := countRows(t, db, "seq IS NULL"); n != 2 {
		t.Fatalf("verify sealed entries: %d left unsealed, want 2", n)
	}
	if n := seal(t, db); n != 2 {
		t.Fatalf("sealed %d, want 2", n)
	}
	if rep := mustVerify(t, db, nil); !rep.OK() || rep.Entries != 4 || rep.Unsealed != 0 {
		t.Fatalf("verify after sealing: %+v", rep)
	}
}
