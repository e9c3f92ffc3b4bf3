package redact

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpusRow is one labelled line of testdata/corpus.tsv.
type corpusRow struct {
	kind        Kind // "none" for a negative
	value, text string
}

func readLabelled(t *testing.T) []corpusRow { return parseLabelled(t, readCorpus(t, "corpus.tsv")) }

func readLabelledB(b *testing.B) []corpusRow {
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus.tsv"))
	if err != nil {
		b.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return parseLabelled(b, lines)
}

func parseLabelled(t testing.TB, lines []string) []corpusRow {
	var rows []corpusRow
	unesc := strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t")
	for _, l := range lines {
		f := strings.SplitN(l, "\t", 3)
		if len(f) != 3 {
			t.Fatalf("corpus.tsv: want <kind>\\t<value>\\t<text>, got %q", l)
		}
		rows = append(rows, corpusRow{Kind(f[0]), unesc.Replace(f[1]), unesc.Replace(f[2])})
	}
	return rows
}

// redactRow redacts a row as ingest would: a text with line breaks is a
// transcript whose turns are redacted together.
func redactRow(text string) (string, Counts) {
	if !strings.Contains(text, "\n") {
		return String(text)
	}
	out, c := Strings(strings.Split(text, "\n"))
	return strings.Join(out, "\n"), c
}

// TestCorpusRecallPrecision measures the redactor on the labelled corpus
// (regenerate with `python3 corpus_gen.py > corpus.tsv` in testdata) and
// fails below 100 % recall on cards and IBANs, 99 % on every other kind, or
// 95 % precision on any kind.
func TestCorpusRecallPrecision(t *testing.T) {
	rows := readLabelled(t)
	tp, fn, fp := map[Kind]int{}, map[Kind]int{}, map[Kind]int{}
	pos, neg := 0, 0
	for _, r := range rows {
		out, c := redactRow(r.text)
		checkInvariants(t, r.text, out, c)
		if r.kind == "none" {
			neg++
		} else {
			pos++
			if c[r.kind] > 0 && !strings.Contains(out, r.value) {
				tp[r.kind]++
				c[r.kind]--
			} else {
				fn[r.kind]++
				t.Logf("missed %s %q: %q", r.kind, r.value, out)
			}
		}
		for k, n := range c {
			if n > 0 {
				fp[k] += n
				t.Logf("false %s in %q: %q", k, r.text, out)
			}
		}
	}
	if pos < 400 || neg < 400 {
		t.Errorf("corpus has %d positives and %d negatives, want at least 400 of each", pos, neg)
	}
	var kinds []Kind
	for _, m := range []map[Kind]int{tp, fn, fp} {
		for k := range m {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	kinds = slices.Compact(kinds)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-13s %5s %5s %5s %8s %9s\n", "kind", "tp", "fn", "fp", "recall", "precision")
	for _, k := range kinds {
		recall := ratio(tp[k], tp[k]+fn[k])
		precision := ratio(tp[k], tp[k]+fp[k])
		fmt.Fprintf(&table, "%-13s %5d %5d %5d %7.1f%% %8.1f%%\n", k, tp[k], fn[k], fp[k], 100*recall, 100*precision)
		minRecall := 0.99
		if k == Card || k == IBAN {
			minRecall = 1
		}
		if tp[k]+fn[k] > 0 && recall < minRecall {
			t.Errorf("%s recall %.3f, want >= %.2f", k, recall, minRecall)
		}
		if precision < 0.95 {
			t.Errorf("%s precision %.3f, want >= 0.95", k, precision)
		}
	}
	fmt.Fprintf(&table, "%d positives, %d negatives", pos, neg)
	t.Log(table.String())
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}
