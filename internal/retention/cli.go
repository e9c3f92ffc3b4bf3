package retention

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// CLI exit statuses.
const (
	ExitOK      = 0
	ExitRefused = 1 // a month older than the window was kept, a drop failed, or apply was not confirmed
	ExitUsage   = 2
)

const usage = `usage: countersign retention plan|apply [--calls-months N] [--audit-months N] [--export-dir DIR] [--yes]

  plan    list every monthly partition of calls and audit_log with its rows, and
          whether apply would drop it now, or why not; changes nothing
  apply   drop what plan lists as "drop", partition by partition, printing each

A month is dropped only when it ends before the keep window (the last N months up to
now, UTC): never the current month, never a default partition. A calls month stays
while any of its calls has an open case (closed cases stay, their call is removed).
An audit_log month stays while it has unsealed entries, or an older month stays; it
is exported to --export-dir (DIR/audit_log_yYYYYmMM.jsonl, the format of
` + "`audit export`" + `, plus a .sha256 file) and recorded in a sealed "audit.retention"
entry before it is dropped, so ` + "`audit verify`" + ` still passes; when audit months
are to be dropped the whole chain must verify first, or nothing is. Keep the exports, and
heads from ` + "`audit head`" + `, outside the database: ` + "`audit verify --from-head HEAD\n--export FILE`" + ` proves them against the chain later.

flags:
  --calls-months N   keep N months of calls (1..600)
  --audit-months N   keep N months of audit_log (1..600)
  --export-dir DIR   existing writable directory for audit exports (required to drop audit months)
  --yes              apply without asking (needed when stdin is not a terminal)

exit status: 0 ok, 1 a month older than the window was kept, a drop failed or apply
was not confirmed, 2 usage error
`

// UsageError is an openDB error that is the operator's to fix (DATABASE_URL unset):
// exit status 2.
type UsageError string

func (e UsageError) Error() string { return string(e) }

// IO is what the CLI reads and writes. StdinTerminal says whether Stdin is a terminal
// that can answer the confirmation.
type IO struct {
	Stdin          io.Reader
	StdinTerminal  bool
	Stdout, Stderr io.Writer
}

// CLI runs `countersign retention ...`; args start after "retention". openDB is
// called once the arguments are valid. It returns the process exit status.
func CLI(ctx context.Context, openDB func(context.Context) (*gorm.DB, error), args []string, actor string, o IO) int {
	return CLIAt(ctx, openDB, args, actor, o, time.Time{})
}

// CLIAt is CLI as of now (zero: the current time), for tests.
func CLIAt(ctx context.Context, openDB func(context.Context) (*gorm.DB, error), args []string, actor string, o IO, now time.Time) int {
	if len(args) == 0 {
		fmt.Fprint(o.Stderr, usage)
		return ExitUsage
	}
	cmd := args[0]
	switch cmd {
	case "plan", "apply":
	case "help", "-h", "-help", "--help":
		fmt.Fprint(o.Stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(o.Stderr, "retention: unknown command %q (want plan or apply)\n\n%s", cmd, usage)
		return ExitUsage
	}
	fs := flag.NewFlagSet("retention "+cmd, flag.ContinueOnError)
	fs.SetOutput(o.Stderr)
	fs.Usage = func() { fmt.Fprint(o.Stderr, usage) }
	var opts Options
	fs.IntVar(&opts.CallsMonths, "calls-months", 0, "keep N months of calls")
	fs.IntVar(&opts.AuditMonths, "audit-months", 0, "keep N months of audit_log")
	fs.StringVar(&opts.ExportDir, "export-dir", "", "directory for audit exports")
	yes := fs.Bool("yes", false, "apply without asking")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(o.Stderr, "retention %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return ExitUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range []string{"calls-months", "audit-months"} {
		n := opts.CallsMonths
		if name == "audit-months" {
			n = opts.AuditMonths
		}
		if set[name] && (n < 1 || n > MaxMonths) {
			fmt.Fprintf(o.Stderr, "retention %s: --%s %d: want 1 to %d months (the current month is always kept)\n", cmd, name, n, MaxMonths)
			return ExitUsage
		}
	}
	opts.Actor, opts.Now = actor, now
	if err := opts.validate(cmd == "apply"); err != nil {
		fmt.Fprintf(o.Stderr, "retention %s: %v\n", cmd, err)
		return ExitUsage
	}
	if cmd == "apply" && !*yes && !o.StdinTerminal {
		fmt.Fprintln(o.Stderr, "retention apply: drops data: pass --yes (stdin is not a terminal to ask on)")
		return ExitUsage
	}
	db, err := openDB(ctx)
	if err != nil {
		fmt.Fprintf(o.Stderr, "retention %s: %v\n", cmd, err)
		if errors.As(err, new(UsageError)) {
			return ExitUsage
		}
		return ExitRefused
	}
	plan, err := MakePlan(ctx, db, opts)
	if err != nil {
		fmt.Fprintf(o.Stderr, "retention %s: %v\n", cmd, err)
		return ExitRefused
	}
	PrintPlan(o.Stdout, plan)
	if cmd == "plan" {
		return ExitOK
	}
	calls, auditLog := plan.Drops()
	if calls+auditLog == 0 {
		fmt.Fprintln(o.Stdout, "nothing to drop")
		if plan.HeldCount() > 0 {
			return ExitRefused
		}
		return ExitOK
	}
	if !*yes {
		fmt.Fprintf(o.Stdout, "Drop %d partitions of calls and %d of audit_log? Type y to proceed: ", calls, auditLog)
		line, _ := bufio.NewReader(o.Stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(o.Stdout, "not confirmed: nothing dropped")
			return ExitRefused
		}
	}
	res := Apply(ctx, db, opts, plan, o.Stdout)
	fmt.Fprintf(o.Stdout, "dropped %d partitions of calls and %d of audit_log", res.CallsDropped, res.AuditDropped)
	if res.Held+res.Failed > 0 {
		fmt.Fprintf(o.Stdout, "; %d kept although older than the window, %d failed", res.Held, res.Failed)
	}
	fmt.Fprintln(o.Stdout)
	if res.Held+res.Failed > 0 {
		return ExitRefused
	}
	return ExitOK
}

// PrintPlan writes the plan as one table per managed table.
func PrintPlan(w io.Writer, p Plan) {
	if p.CallsMonths > 0 {
		printSection(w, Calls, p.CallsMonths, p.CallsCutoff.Format("2006-01-02"), p.Calls)
	}
	if p.AuditMonths > 0 {
		printSection(w, Audit, p.AuditMonths, p.AuditCutoff.Format("2006-01-02"), p.Audit)
	}
}

func printSection(w io.Writer, table string, months int, cut string, parts []Partition) {
	drops := 0
	for _, x := range parts {
		if x.Drop {
			drops++
		}
	}
	fmt.Fprintf(w, "%s: keep %d months (a month ending on or before %s is older); %d of %d partitions to drop\n",
		table, months, cut, drops, len(parts))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  partition\trows\taction")
	for _, x := range parts {
		rows := fmt.Sprint(x.Rows)
		if x.Estimate {
			rows = "~" + rows
		}
		var what string
		switch {
		case x.Drop && table == Audit && x.Rows > 0:
			what = fmt.Sprintf("drop (seq %d..%d, export to %s)", x.FirstSeq, x.LastSeq, exportName(x.Name))
		case x.Drop && table == Calls && x.Cases > 0:
			what = fmt.Sprintf("drop (%d closed cases stay, without their call)", x.Cases)
		case x.Drop:
			what = "drop"
		case x.Held:
			what = "REFUSED: " + x.Reason
		default:
			what = "keep: " + x.Reason
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", x.Name, rows, what)
	}
	tw.Flush()
}

// Result counts what Apply did.
type Result struct {
	CallsDropped, AuditDropped int
	Held                       int // older than the window but kept (as planned, or found so at drop time)
	Failed                     int
}

// Apply drops what plan says, calls first, then audit_log oldest first, one partition
// per transaction, printing a line per partition to w. When audit months are to be
// dropped, the whole chain must verify first, or nothing at all is dropped; a failed
// audit month keeps the ones after it (they go oldest first). Months the plan holds,
// or found held at drop time, count as Held.
func Apply(ctx context.Context, db *gorm.DB, opts Options, plan Plan, w io.Writer) Result {
	var res Result
	res.Held = plan.HeldCount()
	actor := opts.Actor
	if actor == "" {
		actor = "system"
	}
	var auditParts []Partition
	for _, p := range plan.Audit {
		if p.Drop {
			auditParts = append(auditParts, p)
		}
	}
	if len(auditParts) > 0 {
		// A broken chain is an incident: drop nothing, calls included, while it lasts.
		fmt.Fprintln(w, "audit_log: verifying the chain before dropping anything")
		rep, err := audit.Verify(ctx, db, nil)
		if err == nil && !chainOK(rep) {
			err = fmt.Errorf("the audit chain does not verify (seq %d: %s: %s): nothing dropped; run `countersign audit verify`",
				rep.Problems[0].Seq, rep.Problems[0].Kind, rep.Problems[0].Detail)
		}
		if err != nil {
			calls, _ := plan.Drops()
			res.Failed += len(auditParts) + calls
			fmt.Fprintf(w, "audit_log: FAILED: %v\n", err)
			return res
		}
	}
	for _, p := range plan.Calls {
		if !p.Drop {
			continue
		}
		d, err := dropCalls(ctx, db, p, actor)
		switch {
		case errors.As(err, new(errHeld)):
			res.Held++
			fmt.Fprintf(w, "%s: REFUSED: %v\n", p.Name, errors.Unwrap(err))
		case err != nil:
			res.Failed++
			fmt.Fprintf(w, "%s: FAILED: %v\n", p.Name, err)
		default:
			res.CallsDropped++
			fmt.Fprintf(w, "%s: dropped %d calls, %d call keys, %d vault entries; %d closed cases stay\n", p.Name, d.Calls, d.CallKeys, d.VaultEntries, d.Cases)
		}
	}
	for i, p := range auditParts {
		fmt.Fprintf(w, "%s: exporting %d entries to %s\n", p.Name, p.Rows, opts.ExportDir)
		d, err := dropAudit(ctx, db, p, opts.ExportDir, actor)
		if err != nil {
			if errors.As(err, new(errHeld)) {
				res.Held++
			} else {
				res.Failed++
			}
			fmt.Fprintf(w, "%s: NOT dropped: %v\n", p.Name, err)
			if rest := len(auditParts) - i - 1; rest > 0 {
				res.Held += rest
				fmt.Fprintf(w, "audit_log: %d later months kept: audit months go oldest first\n", rest)
			}
			break
		}
		res.AuditDropped++
		fmt.Fprintf(w, "%s: dropped %d entries (seq %d..%d); export %s sha256 %s; %d bridges; retention entry seq %d\n",
			p.Name, d.Rows, d.FirstSeq, d.LastSeq, d.File, d.SHA256, d.Bridges, d.EntrySeq)
	}
	// Seal the calls.retention entries now rather than waiting for a running sealer.
	if _, err := audit.Seal(ctx, db); err != nil {
		fmt.Fprintf(w, "audit: seal: %v (a running console seals them)\n", err)
	}
	if res.AuditDropped > 0 {
		rep, err := audit.Verify(ctx, db, nil)
		switch {
		case err != nil:
			res.Failed++
			fmt.Fprintf(w, "audit_log: verify after retention: %v\n", err)
		case !chainOK(rep):
			res.Failed++
			fmt.Fprintf(w, "audit_log: verify after retention FAILED at seq %d: %s: %s\n", rep.Problems[0].Seq, rep.Problems[0].Kind, rep.Problems[0].Detail)
		default:
			fmt.Fprintf(w, "audit_log: chain verifies: %d entries, seq %d..%d, %d dropped by retention\n", rep.Entries, rep.First, rep.Last, rep.Dropped)
		}
	}
	return res
}

// chainOK is a report with no problem but late sealing (which retention's own checks
// per month cover).
func chainOK(rep audit.Report) bool {
	for _, p := range rep.Problems {
		if p.Kind != audit.KindUnsealed {
			return false
		}
	}
	return true
}
