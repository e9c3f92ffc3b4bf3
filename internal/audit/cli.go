package audit

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gorm.io/gorm"
)

// CLI exit statuses.
const (
	ExitOK     = 0
	ExitTamper = 1 // the chain or bundle is broken, or entries wait for a sealer that is not running
	ExitUsage  = 2 // bad command, flag or argument file
	ExitError  = 3 // could not check: database or I/O error
)

const cliUsage = `usage: countersign audit <command> [flags]

commands:
  verify [--head FILE | --from-head FILE] [--export FILE...] [--bundle FILE]
        check the whole sealed hash chain in the database, against a head
        exported earlier (--head), and report entries still awaiting sealing
        (it never seals). Gaps left by ` + "`countersign retention`" + ` pass only where a
        sealed audit.retention entry recorded them. --from-head FILE starts at
        a head kept since (entries before it are not re-checked); its entry
        must be present with the same hash, or dropped by retention and proved
        by the recorded bridge hash or by its month's export (--export).
        --export FILE... checks retention export files against the sha256 and
        hashes their retention entries recorded. --bundle FILE checks an
        evidence bundle offline (no database needed; --head applies when its
        seq is inside the bundle)
  head
        print the current head as JSON; keep it where the database cannot write
  export [--format jsonl|csv] [--object TYPE:ID] [--actor A] [--action A] [--from DATE] [--to DATE]
        write matching sealed entries, in chain order, to stdout. --actor "user:42" matches
        "user:42 fiona@example.com"; --action "case.*" matches a prefix; DATE is
        2006-01-02 or RFC 3339, and a --to day is included

exit status: 0 ok, 1 tamper found, entries unsealed for over a minute, or a head or
export that could not be proved, 2 usage error, 3 could not check (database or I/O)
`

// progressEvery is how many entries verify checks between progress lines.
var progressEvery int64 = 100_000

// CLI runs `countersign audit ...`; args start after "audit". db may be nil for
// `verify --bundle`. It returns the process exit status.
func CLI(ctx context.Context, db *gorm.DB, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, cliUsage)
		return ExitUsage
	}
	switch args[0] {
	case "verify":
		return cliVerify(ctx, db, args[1:], stdout, stderr)
	case "head":
		return cliHead(ctx, db, args[1:], stdout, stderr)
	case "export":
		return cliExport(ctx, db, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, cliUsage)
		return ExitOK
	default:
		fmt.Fprintf(stderr, "audit: unknown command %q\n\n%s", args[0], cliUsage)
		return ExitUsage
	}
}

// parseFlags parses args and refuses positional arguments; ok false means "exit now
// with code".
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "audit %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return ExitUsage, false
	}
	return 0, true
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func cliVerify(ctx context.Context, db *gorm.DB, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	headFile := fs.String("head", "", "JSON head exported earlier by `audit head`")
	fromHeadFile := fs.String("from-head", "", "JSON head exported earlier: verify from it to the current head")
	var exports stringList
	fs.Var(&exports, "export", "retention export file to check (repeatable; more files may follow the flags)")
	bundleFile := fs.String("bundle", "", "evidence bundle to check offline")
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 && len(exports) == 0 {
		fmt.Fprintf(stderr, "audit verify: unexpected argument %q\n", fs.Arg(0))
		return ExitUsage
	}
	exports = append(exports, fs.Args()...)
	switch {
	case *headFile != "" && *fromHeadFile != "":
		fmt.Fprintln(stderr, "audit verify: give --head or --from-head, not both")
		return ExitUsage
	case *bundleFile != "" && (*fromHeadFile != "" || len(exports) > 0):
		fmt.Fprintln(stderr, "audit verify: --bundle is checked on its own (with --head at most)")
		return ExitUsage
	}
	opts := VerifyOptions{Exports: exports}
	for _, hf := range []struct{ flag, path string }{{"--head", *headFile}, {"--from-head", *fromHeadFile}} {
		if hf.path == "" {
			continue
		}
		h, err := readHead(hf.path)
		if err != nil {
			fmt.Fprintf(stderr, "audit verify: %s: %v\n", hf.flag, err)
			return ExitUsage
		}
		opts.Head, opts.FromHead = &h, hf.flag == "--from-head"
	}
	for _, e := range exports {
		if st, err := os.Stat(e); err != nil || !st.Mode().IsRegular() {
			fmt.Fprintf(stderr, "audit verify: --export %s: not a readable file (%v)\n", e, err)
			return ExitUsage
		}
	}
	if *bundleFile != "" {
		return cliVerifyBundle(*bundleFile, opts.Head, stdout, stderr)
	}
	if db == nil {
		fmt.Fprintln(stderr, "audit verify: no database configured (use --bundle FILE to check a bundle offline)")
		return ExitError
	}
	var printed int64
	rep, err := verify(ctx, db, opts, func(r Report) {
		if r.Entries-printed >= progressEvery {
			printed = r.Entries
			fmt.Fprintf(stderr, "audit verify: %d entries checked (seq %d)\n", r.Entries, r.Last)
		}
	})
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return ExitError
	}
	what := "audit chain"
	if opts.FromHead && opts.Head.Seq > 0 {
		what = fmt.Sprintf("audit chain from exported head seq %d", opts.Head.Seq)
	}
	return printReport(stdout, what, rep, opts.Head)
}

func cliVerifyBundle(path string, head *Head, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "audit verify: --bundle: %v\n", err)
		return ExitUsage
	}
	defer f.Close()
	rep, err := verifyBundle(f, head)
	if errors.Is(err, ErrNotBundle) {
		fmt.Fprintf(stderr, "audit verify: --bundle %s: %v\n", path, err)
		return ExitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "audit verify: --bundle %s: %v\n", path, err)
		return ExitError
	}
	return printReport(stdout, "audit bundle", rep, head)
}

func readHead(path string) (Head, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Head{}, err
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil {
		return Head{}, fmt.Errorf("%s: not a head: %w", path, err)
	}
	if _, err := newChecker(&h, 1, false); err != nil {
		return Head{}, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

var kindText = map[string]string{
	KindHashMismatch: "hash mismatch (entry modified)",
	KindGap:          "gap (entries deleted)",
	KindPrevMismatch: "prev_hash mismatch (entries swapped or inserted)",
	KindTruncated:    "truncated (tail deleted after the exported head)",
	KindHeadMismatch: "differs from the exported head (chain rewritten)",
	KindMalformed:    "malformed line",
	KindBundleHeader: "records do not match the bundle header",
	KindUnsealed:     "entries awaiting sealing for over a minute (is the sealer running?)",
	KindRetention:    "retention record inconsistent with the chain",
	KindHeadUnproven: "the exported head was dropped by retention and nothing given proves it",
	KindExport:       "retention export does not match its retention entry",
}

// notTamper are problem kinds that say something could not be proved or is late,
// not that the chain was changed: the headline says NOT OK rather than BROKEN.
var notTamper = map[string]bool{KindUnsealed: true, KindHeadUnproven: true}

// Text is the report as `countersign audit verify` prints it, for the console's
// verify button: what names what was checked ("audit chain").
func (r Report) Text(what string) string {
	var b strings.Builder
	printReport(&b, what, r, nil)
	return b.String()
}

func printReport(w io.Writer, what string, rep Report, head *Head) int {
	if !rep.OK() {
		p := rep.Problems[0]
		switch {
		case notTamper[p.Kind]:
			fmt.Fprintf(w, "%s NOT OK: %s\n", what, kindText[p.Kind])
		case p.Seq == 0:
			fmt.Fprintf(w, "%s BROKEN: %s\n", what, kindText[p.Kind])
		default:
			fmt.Fprintf(w, "%s BROKEN at seq %d: %s\n", what, p.Seq, kindText[p.Kind])
		}
		for _, p := range rep.Problems {
			if p.Seq == 0 {
				fmt.Fprintf(w, "  %s: %s\n", p.Kind, p.Detail)
			} else {
				fmt.Fprintf(w, "  seq %d: %s: %s\n", p.Seq, p.Kind, p.Detail)
			}
		}
		printExports(w, rep)
		printUnsealed(w, rep)
		return ExitTamper
	}
	if rep.Entries == 0 {
		fmt.Fprintf(w, "%s OK: 0 entries\n", what)
	} else {
		fmt.Fprintf(w, "%s OK: %d entries, seq %d..%d, head %s\n", what, rep.Entries, rep.First, rep.Last, rep.Head.Hash)
	}
	if rep.Dropped > 0 {
		fmt.Fprintf(w, "%d missing entries were dropped by retention, as %d sealed audit.retention entries record\n", rep.Dropped, rep.Retention)
	}
	switch {
	case head != nil && rep.HeadProof == "bridge":
		fmt.Fprintf(w, "exported head at seq %d (dropped by retention) matches the hash retention recorded\n", head.Seq)
	case head != nil && rep.HeadProof != "":
		fmt.Fprintf(w, "exported head at seq %d (dropped by retention) matches its entry in %s\n", head.Seq, rep.HeadProof)
	case head != nil && head.Seq >= rep.First && head.Seq <= rep.Last && rep.Entries > 0:
		fmt.Fprintf(w, "exported head at seq %d matches\n", head.Seq)
	}
	printExports(w, rep)
	printUnsealed(w, rep)
	return ExitOK
}

// printExports says which retention exports were checked and what they hold.
func printExports(w io.Writer, rep Report) {
	for _, e := range rep.Exports {
		state := "OK"
		if !e.OK {
			state = "NOT OK"
		}
		month := ""
		if e.Month != "" {
			month = fmt.Sprintf(", month %s (retention entry seq %d)", e.Month, e.EntrySeq)
		}
		fmt.Fprintf(w, "export %s %s: %d entries, seq %d..%d%s, sha256 %s\n", e.Path, state, e.Rows, e.First, e.Last, month, e.SHA256)
	}
}

// printUnsealed says how many entries are not in the chain yet.
func printUnsealed(w io.Writer, rep Report) {
	if rep.Unsealed > 0 {
		fmt.Fprintf(w, "%d entries awaiting sealing\n", rep.Unsealed)
	}
}

func cliHead(ctx context.Context, db *gorm.DB, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("head", flag.ContinueOnError)
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if db == nil {
		fmt.Fprintln(stderr, "audit head: no database configured")
		return ExitError
	}
	h, err := CurrentHead(ctx, db)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return ExitError
	}
	b, _ := json.Marshal(h)
	fmt.Fprintf(stdout, "%s\n", b)
	return ExitOK
}

func cliExport(ctx context.Context, db *gorm.DB, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	format := fs.String("format", "jsonl", "jsonl or csv")
	object := fs.String("object", "", "TYPE:ID, e.g. case:42")
	var f Filter
	fs.StringVar(&f.Actor, "actor", "", `actor, e.g. "user:42" or "system"`)
	fs.StringVar(&f.Action, "action", "", `action, e.g. "case.assigned" or "case.*"`)
	from := fs.String("from", "", "first day or instant (inclusive)")
	to := fs.String("to", "", "last day (inclusive) or instant (exclusive)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	var err error
	switch {
	case *format != "jsonl" && *format != "csv":
		err = fmt.Errorf("--format %q: want jsonl or csv", *format)
	case *object != "":
		var ok bool
		f.ObjectType, f.ObjectID, ok = strings.Cut(*object, ":")
		if !ok || f.ObjectType == "" || f.ObjectID == "" {
			err = fmt.Errorf("--object %q: want TYPE:ID, e.g. case:42", *object)
		}
	}
	if err == nil {
		f.From, err = parseDate("--from", *from, false)
	}
	if err == nil {
		f.To, err = parseDate("--to", *to, true)
	}
	if err != nil {
		fmt.Fprintf(stderr, "audit export: %v\n", err)
		return ExitUsage
	}
	if db == nil {
		fmt.Fprintln(stderr, "audit export: no database configured")
		return ExitError
	}
	if err := Export(ctx, db, stdout, f, *format); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return ExitError
	}
	return ExitOK
}

// parseDate reads 2006-01-02 (UTC midnight; the day after for an inclusive end) or
// RFC 3339.
func parseDate(name, s string, end bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%s %q: want 2006-01-02 or RFC 3339", name, s)
	}
	return &t, nil
}
