package redact

import (
	"bufio"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func TestStringTable(t *testing.T) {
	tests := []struct {
		name, in, want string
		kinds          []Kind
	}{
		{"stripe visa", "4242424242424242", "[card •••• 4242]", []Kind{Card}},
		{"stripe visa debit spaced", "4000 0566 5566 5556", "[card •••• 5556]", []Kind{Card}},
		{"stripe mastercard dashed", "5555-5555-5555-4444", "[card •••• 4444]", []Kind{Card}},
		{"stripe amex 15", "378282246310005", "[card •••• 0005]", []Kind{Card}},
		{"stripe discover", "6011111111111117", "[card •••• 1117]", []Kind{Card}},
		{"spoken", "it's four two four two four two four two four two four two four two four two ok",
			"it's [card •••• 4242] ok", []Kind{Card}},
		{"mixed spoken and digits", "4242 4242 four two four two four two four two",
			"[card •••• 4242]", []Kind{Card}},
		{"spoken oh", "three seven eight two eight two two four six three one oh oh oh five",
			"[card •••• 0005]", []Kind{Card}},
		{"card then expiry in one run", "4242 4242 4242 4242 12 28", "[card •••• 4242] 12 28", []Kind{Card}},
		{"cvv", "CVV 123", "CVV [cvv •••]", []Kind{CVV}},
		{"cvv after card mask", "4242424242424242 cvv 987", "[card •••• 4242] cvv [cvv •••]", []Kind{Card, CVV}},
		{"cvv spoken", "security code is one two three.", "security code is [cvv •••].", []Kind{CVV}},
		{"cvv only the first value", "cvv 123, expiry 1228", "cvv [cvv •••], expiry 1228", []Kind{CVV}},
		{"iban printed", "DE89 3704 0044 0532 0130 00", "[iban]", []Kind{IBAN}},
		{"iban bad checksum", "DE88 3704 0044 0532 0130 00", "DE88 3704 0044 0532 0130 00", nil},
		{"routing with keyword", "routing 021000021", "routing [routing]", []Kind{Routing}},
		{"routing near account", "account number 12345678, 021000021",
			"account number [bank account], [routing]", []Kind{BankAccount, Routing}},
		{"aba without context", "reference 021000021", "reference 021000021", nil},
		{"routing bad checksum", "routing 021000022", "routing 021000022", nil},
		{"ssn dashed", "123-45-6789", "[ssn]", []Kind{SSN}},
		{"ssn invalid area", "000-12-3456", "000-12-3456", nil},
		{"ssn bare needs wording", "ssn 123456789 vs 123456789", "ssn [ssn] vs 123456789", []Kind{SSN}},
		{"ein dashed", "12-3456789", "[ein]", []Kind{EIN}},
		{"itin dashed", "912-70-1234", "[itin]", []Kind{ITIN}},
		{"vat prefixed", "DE978401563", "[vat]", []Kind{VAT}},
		{"vat prefixed bad check digit", "DE978401564", "DE978401564", nil},
		{"vat netherlands", "NL283961740B28", "[vat]", []Kind{VAT}},
		{"vat bare without wording", "number 123456789", "number 123456789", nil},
		{"phone", "+1 415 555 0100", "+1 415 555 0100", nil},
		{"invoice", "INV-20931", "INV-20931", nil},
		{"16 digits failing luhn", "4242424242424241", "4242424242424241", nil},
		{"uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-12d3-a456-426614174000", nil},
		{"mask is opaque", "cvv [card •••• 4242]", "cvv [card •••• 4242]", nil},
		{"empty", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, c := String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if kinds := slices.Sorted(maps.Keys(c)); !slices.Equal(kinds, sortedKinds(tt.kinds)) {
				t.Errorf("String(%q) counts %v, want kinds %v", tt.in, c, tt.kinds)
			}
			if d := Detect(tt.in); !maps.Equal(d, c) {
				t.Errorf("Detect(%q) = %v, String counted %v", tt.in, d, c)
			}
		})
	}
}

func sortedKinds(k []Kind) []Kind {
	k = slices.Clone(k)
	slices.Sort(k)
	if len(k) == 0 {
		return nil
	}
	return k
}

func TestCorpusPositive(t *testing.T) {
	var out strings.Builder
	for _, line := range readCorpus(t, "positive.txt") {
		kind, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("positive.txt: want <kind><TAB><text>, got %q", line)
		}
		got, c := String(text)
		if c[Kind(kind)] == 0 {
			t.Errorf("no %s found in %q: got %q %v", kind, text, got, c)
		}
		checkInvariants(t, text, got, c)
		fmt.Fprintf(&out, "%s\n", got)
	}
	golden(t, "positive.golden", out.String())
}

func TestCorpusNegative(t *testing.T) {
	for _, text := range readCorpus(t, "negative.txt") {
		if got, c := String(text); got != text || c != nil {
			t.Errorf("false positive: String(%q) = %q %v", text, got, c)
		}
	}
}

func TestTranscriptGolden(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "transcript.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, c, err := JSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.Total() == 0 {
		t.Fatal("transcript.json: nothing masked")
	}
	golden(t, "transcript.golden.json", string(got)+"\n")
}

func readCorpus(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s line %d:\n got %q\nwant %q\n(run with -update if the change is intended)", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d (run with -update if intended)", name, len(gl), len(wl))
	}
}

// The invariant checker is written independently of the scanner: after
// normalisation (see normalize.go), a run is ASCII digits joined by single
// spaces, dashes, dots, slashes or underscores, canonical UUIDs excepted.
var (
	runRE  = regexp.MustCompile(`[0-9]+(?:[ ./_-][0-9]+)*`)
	uuidRE = regexp.MustCompile(`\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`)
)

func luhnRun(out string) string {
	out, _ = normalize(out)
	out = uuidRE.ReplaceAllStringFunc(out, func(u string) string { return strings.Repeat("u", len(u)) })
	for _, r := range runRE.FindAllString(out, -1) {
		d := strings.NewReplacer(" ", "", "-", "", ".", "", "/", "", "_", "").Replace(r)
		if len(d) >= minPAN && len(d) <= maxPAN && luhn([]byte(d)) {
			return r
		}
	}
	return ""
}

func checkInvariants(t *testing.T, in, out string, c Counts) {
	t.Helper()
	if again, c2 := String(out); again != out || c2 != nil {
		t.Errorf("not idempotent: String(%q) = %q, then %q %v", in, out, again, c2)
	}
	if r := luhnRun(out); r != "" {
		t.Errorf("String(%q) = %q still holds Luhn-valid run %q", in, out, r)
	}
	if len(out) > len(in)+c.Total()*maxMaskLen {
		t.Errorf("String(%q) grew to %d bytes with %d findings", in, len(out), c.Total())
	}
	if d := Detect(in); !maps.Equal(d, c) {
		t.Errorf("Detect(%q) = %v, String counted %v", in, d, c)
	}
}

func TestNoAllocWhenClean(t *testing.T) {
	s := strings.Repeat(cleanLine, 20)
	if n := testing.AllocsPerRun(20, func() { String(s) }); n != 0 {
		t.Errorf("String on clean text: %v allocs, want 0", n)
	}
}

func TestCounts(t *testing.T) {
	var c Counts
	if c.Add(nil) != nil || c.Total() != 0 {
		t.Fatal("nil Counts: Add(nil) must stay nil, Total 0")
	}
	c = c.Add(Counts{Card: 2}).Add(Counts{Card: 1, SSN: 1})
	if c[Card] != 3 || c[SSN] != 1 || c.Total() != 4 {
		t.Fatalf("Add: got %v", c)
	}
}

func TestJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"n":4242424242424242,"s":"card 4242 4242 4242 4242","k":1249.00}`,
			`{"k":1249.00,"n":"[card •••• 4242]","s":"card [card •••• 4242]"}`},
		{`{"4242424242424242":"key masked"}`, `{"[card •••• 4242]":"key masked"}`},
		{`{"4242424242424242":1,"4242 4242 4242 4242":2}`, `{"[card •••• 4242]":2,"[card •••• 4242] (2)":1}`},
		{`{"a":4111111111111111.0,"b":4.111111111111111e15,"c":41111111111111110e-1,"d":1e999}`,
			`{"a":"[card •••• 1111].0","b":"[card •••• 1111]e15","c":"[card •••• 1111]","d":1e999}`},
		{`{"transcript":[{"role":"user","text":"it's 4111 1111"},{"role":"agent","text":"uh-huh"},{"role":"user","text":"1111 1111"}]}`,
			`{"transcript":[{"role":"user","text":"it's [card •••• 1111]"},{"role":"agent","text":"uh-huh"},{"role":"user","text":"[card •••• 1111]"}]}`},
		{`[1234567890123456, "INV-20931", null, true]`, `[1234567890123456, "INV-20931", null, true]`},
		{`"<b>ssn 123-45-6789</b>"`, `"<b>ssn [ssn]</b>"`},
	}
	for _, tt := range tests {
		got, _, err := JSON([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("JSON(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `{`, `{"a":1} {}`, `[1,]`} {
		if _, _, err := JSON([]byte(bad)); err == nil {
			t.Errorf("JSON(%q): want error", bad)
		}
	}
}
