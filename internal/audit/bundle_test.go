package audit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// bundleFor seeds case 1 at seq 2 and 4, among other objects' entries, and returns
// case 1's bundle lines (header first).
func bundleFor(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	for _, id := range []int{9, 1, 2, 1, 2} {
		appendTx(t, db, entry(id))
	}
	seal(t, db)
	appendTx(t, db, entry(1)) // unsealed: not in the chain yet, so not in the bundle
	var buf bytes.Buffer
	if err := audit.Bundle(ctx, db, &buf, "case", "1"); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func verifyLines(t *testing.T, lines []string) audit.Report {
	t.Helper()
	rep, err := audit.VerifyBundle(strings.NewReader(strings.Join(lines, "\n") + "\n"))
	if err != nil {
		t.Fatalf("verify bundle: %v", err)
	}
	return rep
}

func TestBundleVerifiesOffline(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	lines := bundleFor(t, db)
	var h audit.BundleHeader
	if err := json.Unmarshal([]byte(lines[0]), &h); err != nil {
		t.Fatal(err)
	}
	if h.Bundle != "countersign-audit" || h.Version != audit.BundleVersion || h.Object != (audit.BundleObject{Type: "case", ID: "1"}) || h.FromSeq != 2 || h.ToSeq != 4 {
		t.Fatalf("header: %+v", h)
	}
	if len(lines) != 4 || !strings.HasPrefix(lines[2], `{"link":{"from_seq":3,"to_seq":3,`) {
		t.Fatalf("bundle has %d lines, want header, seq 2, a link for seq 3, seq 4:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if strings.Contains(strings.Join(lines, "\n"), `"object_id":"2"`) {
		t.Fatal("the bundle carries another case's entry")
	}
	if rep := verifyLines(t, lines); !rep.OK() || rep.Entries != 2 || rep.First != 2 || rep.Last != 4 {
		t.Fatalf("verify bundle: %+v", rep)
	}
	if err := audit.Bundle(ctx, db, &bytes.Buffer{}, "case", "404"); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("bundle of an unknown object: %v", err)
	}
	appendTx(t, db, entry(77))
	if err := audit.Bundle(ctx, db, &bytes.Buffer{}, "case", "77"); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("bundle of an object with only unsealed entries: %v", err)
	}
}

func TestModifiedBundleFails(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	good := bundleFor(t, db)
	edit := func(f func(l []string) []string) []string { return f(append([]string(nil), good...)) }
	for _, c := range []struct {
		name     string
		lines    []string
		wantSeq  int64
		wantKind string
	}{
		{"field modified", edit(func(l []string) []string {
			l[3] = strings.Replace(l[3], `"outcome":"ok"`, `"outcome":"denied"`, 1)
			return l
		}), 4, audit.KindHashMismatch},
		{"link removed", edit(func(l []string) []string { return append(l[:2], l[3:]...) }), 3, audit.KindGap},
		{"link rewired", edit(func(l []string) []string {
			l[2] = strings.Replace(l[2], `"prev_hash":"`, `"prev_hash":"00`, 1)
			return l
		}), 3, audit.KindPrevMismatch},
		{"tail cut", edit(func(l []string) []string { return l[:3] }), 4, audit.KindTruncated},
		{"lines swapped", edit(func(l []string) []string { l[2], l[3] = l[3], l[2]; return l }), 3, audit.KindGap},
		{"line garbled", edit(func(l []string) []string { l[3] = l[3][:40]; return l }), 4, audit.KindMalformed},
		{"field added", edit(func(l []string) []string {
			l[3] = strings.Replace(l[3], `{"seq"`, `{"approved_by":"cfo","seq"`, 1)
			return l
		}), 4, audit.KindMalformed},
	} {
		if strings.Join(c.lines, "\n") == strings.Join(good, "\n") {
			t.Fatalf("%s: the edit changed nothing", c.name)
		}
		rep := verifyLines(t, c.lines)
		if rep.OK() {
			t.Errorf("%s: not detected", c.name)
			continue
		}
		if p := rep.Problems[0]; p.Seq != c.wantSeq || p.Kind != c.wantKind {
			t.Errorf("%s: first problem %+v, want %s at seq %d", c.name, p, c.wantKind, c.wantSeq)
		}
	}
	if _, err := audit.VerifyBundle(strings.NewReader("seq,at\n1,2\n")); !errors.Is(err, audit.ErrNotBundle) {
		t.Fatalf("csv as bundle: %v", err)
	}
}

// TestExportsVerify: the filtered JSON-lines export and the CSV export both verify
// offline, and an edit to either is found.
func TestExportsVerify(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	for _, id := range []int{9, 1, 2, 1, 2, 1} {
		appendTx(t, db, entry(id))
	}
	seal(t, db)
	f := audit.Filter{ObjectType: "case", ObjectID: "1"}
	var jl, cs bytes.Buffer
	if err := audit.ExportBundle(ctx, db, &jl, f, "case=1"); err != nil {
		t.Fatal(err)
	}
	if err := audit.Export(ctx, db, &cs, f, "csv"); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"jsonl": jl.String(), "csv": cs.String()} {
		rep, err := audit.VerifyBundle(strings.NewReader(text))
		if err != nil || !rep.OK() || rep.Entries != 3 {
			t.Fatalf("%s export: %v %+v", name, err, rep)
		}
		bad := strings.Replace(text, "ok", "no", 1)
		if bad == text {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if rep, err := audit.VerifyBundle(strings.NewReader(bad)); err != nil || rep.OK() {
			t.Errorf("%s: an edited export verifies: %v %+v", name, err, rep)
		}
	}
}
