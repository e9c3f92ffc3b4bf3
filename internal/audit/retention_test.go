package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// These tests build what `countersign retention` leaves behind by hand (entries
// appended and sealed, an audit.retention entry recording some of them, then those
// rows deleted as the dropped partition would be), so that they check verification
// alone. internal/retention tests the real thing end to end.

// exportLines writes recs as `audit export` does and returns the bytes and sha256.
func exportLines(t *testing.T, recs []audit.Record) ([]byte, []byte) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	return buf.Bytes(), sum[:]
}

// month describes one dropped month for retentionEntry.
func month(name string, recs []audit.Record, sha []byte, seqs ...audit.SeqRange) audit.DroppedMonth {
	return audit.DroppedMonth{Month: name, Partition: "audit_log_y" + strings.Replace(name, "-", "m", 1),
		Rows: int64(len(recs)), Seqs: seqs, File: "audit_log_y" + strings.Replace(name, "-", "m", 1) + ".jsonl",
		SHA256: audit.HashText(sha)}
}

func bridge(r audit.Record) audit.Bridge {
	return audit.Bridge{Seq: r.Seq, Hash: audit.HashText(r.Hash)}
}

// appendRetention appends and seals an audit.retention entry for the last of months.
func appendRetention(t *testing.T, db *gorm.DB, months []audit.DroppedMonth, bridges ...audit.Bridge) audit.Record {
	t.Helper()
	last := months[len(months)-1]
	s := audit.RetentionSummary{Month: last.Month, Partition: last.Partition, Rows: last.Rows,
		File: last.File, SHA256: last.SHA256, Dropped: months, Bridges: bridges}
	if len(last.Seqs) > 0 {
		s.FirstSeq, s.LastSeq = last.Seqs[0][0], last.Seqs[len(last.Seqs)-1][1]
	}
	m, err := s.Map()
	if err != nil {
		t.Fatal(err)
	}
	appendTx(t, db, audit.Entry{Actor: "cli:ops", Action: audit.RetentionAction, ObjectType: "audit_log", ObjectID: last.Month, Summary: m})
	seal(t, db)
	recs := sealed(t, db)
	return recs[len(recs)-1]
}

func dropSeqs(t *testing.T, db *gorm.DB, seqs ...int64) {
	t.Helper()
	tamper(t, db, sql("DELETE FROM audit_log WHERE seq IN ?", seqs))
}

func wantProblem(t *testing.T, rep audit.Report, seq int64, kind string) {
	t.Helper()
	if rep.OK() || rep.Problems[0].Seq != seq || rep.Problems[0].Kind != kind {
		t.Fatalf("want first problem %s at seq %d, got %+v", kind, seq, rep.Problems)
	}
}

func TestVerifyAcceptsOnlyRecordedRetentionGaps(t *testing.T) {
	t.Parallel()
	type tc struct {
		name    string
		bridges func(recs []audit.Record) []audit.Bridge
		drop    []int64 // besides 1..3
		keep2   bool    // leave seq 2 in place
		seq     int64
		kind    string
	}
	for _, c := range []tc{
		{name: "recorded gap", seq: 0},
		{name: "unrecorded gap after it", drop: []int64{5}, seq: 5, kind: audit.KindGap},
		{name: "wrong bridge hash", seq: 4, kind: audit.KindPrevMismatch,
			bridges: func(recs []audit.Record) []audit.Bridge {
				return []audit.Bridge{{Seq: 3, Hash: audit.HashText(recs[1].Hash)}}
			}},
		{name: "no bridge", seq: 4, kind: audit.KindPrevMismatch,
			bridges: func([]audit.Record) []audit.Bridge { return nil }},
		{name: "dropped entry back in the table", keep2: true, seq: 2, kind: audit.KindRetention},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			recs := appendN(t, db, 6)
			_, sha := exportLines(t, recs[:3])
			bridges := []audit.Bridge{bridge(recs[2])}
			if c.bridges != nil {
				bridges = c.bridges(recs)
			}
			appendRetention(t, db, []audit.DroppedMonth{month("2024-01", recs[:3], sha, audit.SeqRange{1, 3})}, bridges...)
			drop := append([]int64{1, 3}, c.drop...)
			if !c.keep2 {
				drop = append(drop, 2)
			}
			dropSeqs(t, db, drop...)
			rep := mustVerify(t, db, nil)
			if c.kind == "" {
				if !rep.OK() || rep.First != 4 || rep.Last != 7 || rep.Dropped != 3 || rep.Retention != 1 {
					t.Fatalf("verify: %+v", rep)
				}
				return
			}
			if c.name == "dropped entry back in the table" {
				// seq 1 and 3 are gone but 2 is back: a gap before 2 and the present entry.
				for _, p := range rep.Problems {
					if p.Kind == c.kind && p.Seq == c.seq {
						return
					}
				}
				t.Fatalf("want %s at seq %d, got %+v", c.kind, c.seq, rep.Problems)
			}
			wantProblem(t, rep, c.seq, c.kind)
		})
	}
}

// TestVerifyCumulativeRetention drops, in a second retention run, the month holding
// the first audit.retention entry: the second entry carries the first's record.
func TestVerifyCumulativeRetention(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	recs := appendN(t, db, 6)
	_, shaA := exportLines(t, recs[:3])
	a := month("2024-01", recs[:3], shaA, audit.SeqRange{1, 3})
	r1 := appendRetention(t, db, []audit.DroppedMonth{a}, bridge(recs[2])) // seq 7
	dropSeqs(t, db, 1, 2, 3)
	if rep := mustVerify(t, db, nil); !rep.OK() {
		t.Fatalf("after the first run: %+v", rep.Problems)
	}
	// Month B held 4, 5 and the first retention entry (7); 6 belongs to the next month.
	bRecs := []audit.Record{recs[3], recs[4], r1}
	_, shaB := exportLines(t, bRecs)
	b := month("2024-02", bRecs, shaB, audit.SeqRange{4, 5}, audit.SeqRange{7, 7})
	r2 := appendRetention(t, db, []audit.DroppedMonth{a, b}, bridge(recs[4]), bridge(r1)) // seq 8
	dropSeqs(t, db, 4, 5, 7)
	rep := mustVerify(t, db, nil)
	if !rep.OK() || rep.First != 6 || rep.Last != r2.Seq || rep.Dropped != 6 {
		t.Fatalf("after the second run: %+v", rep)
	}
	// The same, had the second entry not carried the first month: seq 1..3 unaccounted.
	db2 := newDB(t)
	recs2 := appendN(t, db2, 6)
	_, sha2 := exportLines(t, recs2[:3])
	r1b := appendRetention(t, db2, []audit.DroppedMonth{month("2024-01", recs2[:3], sha2, audit.SeqRange{1, 3})}, bridge(recs2[2]))
	bRecs2 := []audit.Record{recs2[3], recs2[4], r1b}
	_, shaB2 := exportLines(t, bRecs2)
	appendRetention(t, db2, []audit.DroppedMonth{month("2024-02", bRecs2, shaB2, audit.SeqRange{4, 5}, audit.SeqRange{7, 7})},
		bridge(recs2[4]), bridge(r1b))
	dropSeqs(t, db2, 1, 2, 3, 4, 5, 7)
	wantProblem(t, mustVerify(t, db2, nil), 1, audit.KindGap)
}

func TestVerifyFromHeadAndExports(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	recs := appendN(t, db, 6)
	body, sha := exportLines(t, recs[:3])
	dir := t.TempDir()
	file := filepath.Join(dir, "audit_log_y2024m01.jsonl")
	if err := os.WriteFile(file, body, 0o600); err != nil {
		t.Fatal(err)
	}
	appendRetention(t, db, []audit.DroppedMonth{month("2024-01", recs[:3], sha, audit.SeqRange{1, 3})}, bridge(recs[2]))
	dropSeqs(t, db, 1, 2, 3)
	head := func(r audit.Record) *audit.Head {
		return &audit.Head{Seq: r.Seq, Hash: hex.EncodeToString(r.Hash), At: r.At}
	}
	verify := func(opts audit.VerifyOptions) audit.Report {
		t.Helper()
		rep, err := audit.VerifyWith(ctx, db, opts)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	// A kept head: checked from there on only.
	rep := verify(audit.VerifyOptions{Head: head(recs[4]), FromHead: true})
	if !rep.OK() || rep.First != 5 || rep.Entries != 3 {
		t.Fatalf("from a kept head: %+v", rep)
	}
	// A dropped head with a bridge (seq 3: seq 4 links to it).
	rep = verify(audit.VerifyOptions{Head: head(recs[2]), FromHead: true})
	if !rep.OK() || rep.HeadProof != "bridge" || rep.First != 4 {
		t.Fatalf("from the bridged head: %+v", rep)
	}
	// A dropped head without one: unproven, until its month's export is given.
	rep = verify(audit.VerifyOptions{Head: head(recs[1]), FromHead: true})
	wantProblem(t, rep, 2, audit.KindHeadUnproven)
	rep = verify(audit.VerifyOptions{Head: head(recs[1]), FromHead: true, Exports: []string{file}})
	if !rep.OK() || rep.HeadProof != filepath.Base(file) || len(rep.Exports) != 1 || !rep.Exports[0].OK || rep.Exports[0].Month != "2024-01" {
		t.Fatalf("from the head proved by its export: %+v", rep)
	}
	// Same through --head on the whole chain.
	if rep := verify(audit.VerifyOptions{Head: head(recs[1]), Exports: []string{file}}); !rep.OK() || rep.HeadProof == "" {
		t.Fatalf("--head proved by export: %+v", rep)
	}
	// A forged head (another hash at seq 2) is a mismatch, not a proof.
	forged := head(recs[1])
	forged.Hash = hex.EncodeToString(recs[0].Hash)
	wantProblem(t, verify(audit.VerifyOptions{Head: forged, FromHead: true, Exports: []string{file}}), 2, audit.KindHeadMismatch)

	// An export changed after the fact matches no retention entry.
	changed := bytes.Replace(body, []byte(`"case.assigned"`), []byte(`"case.reviewed"`), 1)
	bad := filepath.Join(dir, "changed.jsonl")
	if err := os.WriteFile(bad, changed, 0o600); err != nil {
		t.Fatal(err)
	}
	rep = verify(audit.VerifyOptions{Exports: []string{bad}})
	if rep.OK() || rep.Exports[0].OK {
		t.Fatalf("changed export passed: %+v", rep)
	}
	kinds := map[string]bool{}
	for _, p := range rep.Problems {
		kinds[p.Kind] = true
	}
	if !kinds[audit.KindExport] || !kinds[audit.KindHashMismatch] {
		t.Fatalf("changed export: want export and hash_mismatch problems, got %+v", rep.Problems)
	}

	// The CLI: --from-head with the export as a trailing argument.
	headFile := writeFile(t, "head.json", mustJSON(t, head(recs[1])))
	r := runCLI(db, "verify", "--from-head", headFile, "--export", file)
	if r.code != audit.ExitOK || !strings.Contains(r.stdout, "exported head at seq 2 (dropped by retention) matches its entry in audit_log_y2024m01.jsonl") ||
		!strings.Contains(r.stdout, "export "+file+" OK: 3 entries, seq 1..3, month 2024-01") {
		t.Fatalf("cli --from-head --export: %+v", r)
	}
	r = runCLI(db, "verify", "--from-head", headFile)
	if r.code != audit.ExitTamper || !strings.HasPrefix(r.stdout, "audit chain from exported head seq 2 NOT OK: the exported head was dropped") {
		t.Fatalf("cli --from-head without export: %+v", r)
	}
	r = runCLI(db, "verify", "--export", file, bad)
	if r.code != audit.ExitTamper || !strings.Contains(r.stdout, "export "+bad+" NOT OK") {
		t.Fatalf("cli two exports: %+v", r)
	}
	r = runCLI(db, "verify")
	if r.code != audit.ExitOK || !strings.Contains(r.stdout, "3 missing entries were dropped by retention, as 1 sealed audit.retention entries record") {
		t.Fatalf("cli verify: %+v", r)
	}
	for _, args := range [][]string{
		{"verify", "--head", headFile, "--from-head", headFile},
		{"verify", "--export", filepath.Join(dir, "missing.jsonl")},
		{"verify", "stray"},
		{"verify", "--bundle", file, "--export", file},
	} {
		if r := runCLI(db, args...); r.code != audit.ExitUsage {
			t.Fatalf("%v: want usage error, got %+v", args, r)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHashTextSurvivesRedaction(t *testing.T) {
	t.Parallel()
	// A hash whose hex has a Luhn-valid card number in it: masked when plain.
	h, _ := hex.DecodeString("4111111111111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	if plain := hex.EncodeToString(h); audit.Redact(plain) == plain {
		t.Fatalf("expected the plain hex to be masked (the reason for HashText)")
	}
	text := audit.HashText(h)
	if audit.Redact(text) != text {
		t.Fatalf("HashText %s was masked: %s", text, audit.Redact(text))
	}
	back, err := audit.ParseHashText(text)
	if err != nil || !bytes.Equal(back, h) {
		t.Fatalf("round trip: %x %v", back, err)
	}
}
