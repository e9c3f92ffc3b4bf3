// Package retention drops old months of the partitioned calls and audit_log tables
// (migrations 00012 and 00013), and keeps their monthly partitions made ahead.
//
// # What may be dropped
//
// A month is dropped only when it lies entirely before the keep window (the last N
// months up to now, UTC), so never the current month, and never a default partition.
// Besides:
//
//   - calls: none of the month's calls may have a case that is still open (any status
//     but done and rejected, the lifecycle's terminal statuses). The closed cases stay
//     (cases.call_id has no foreign key); the calls' call_keys rows are deleted in the
//     transaction that drops the partition, and a "calls.retention" audit entry records
//     the month. The case page then says the call record was removed by retention.
//   - audit_log: every entry of the month must be sealed, the whole chain must verify
//     first, and months go oldest first. The month is exported to the export directory
//     as JSON lines, exactly as `audit export` writes them (hashes included), with a
//     sha256 file beside it; then, in one transaction, the partition is detached, an
//     "audit.retention" entry is appended and sealed (audit.AppendSealed) recording the
//     month, its seqs, the export's name and sha256 and the bridge hashes, and the
//     partition is dropped. `audit verify` accepts exactly the gaps such entries record
//     (see audit.RetentionSummary).
//
// # Upkeep
//
// EnsurePartitions makes the partitions for the current month and the next three; call
// it at start and daily. A month without a partition goes to the default partition,
// which retention never drops.
package retention

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/vault"
	"github.com/countersign/countersign/models"
)

// Tables retention manages.
const (
	Calls = "calls"
	Audit = "audit_log"
)

// Actions of the audit entries retention appends.
const (
	CallsAction = "calls.retention"
	AuditAction = audit.RetentionAction
)

// MaxMonths bounds a keep window: a larger value is a typo, not a policy.
const MaxMonths = 600

// lockKey serialises retention's drops ("retent" in ASCII); partitionsKey serialises
// partition upkeep ("cs_part"), which must not wait for a drop's export.
const (
	lockKey       int64 = 0x726574656e74
	partitionsKey int64 = 0x63735f70617274
)

// lockTimeout bounds how long a drop waits for its table lock: detaching a partition
// needs an exclusive lock on the parent, and while it waits, new writers queue
// behind it. Better to fail and be run again than to stall the console.
var lockTimeout = 5 * time.Second

// Options say what to keep.
type Options struct {
	CallsMonths int       // keep this many months of calls; 0 leaves calls alone
	AuditMonths int       // keep this many months of audit_log; 0 leaves audit_log alone
	ExportDir   string    // where audit months are exported before they are dropped
	Now         time.Time // zero: time.Now()
	Actor       string    // who runs it, for the audit entries ("cli:alice")
}

func (o Options) validate(apply bool) error {
	if o.CallsMonths == 0 && o.AuditMonths == 0 {
		return errors.New("say what to keep: --calls-months N and/or --audit-months N")
	}
	for _, m := range []struct {
		name string
		n    int
	}{{"--calls-months", o.CallsMonths}, {"--audit-months", o.AuditMonths}} {
		if m.n < 0 || m.n > MaxMonths {
			return fmt.Errorf("%s %d: want 1 to %d months", m.name, m.n, MaxMonths)
		}
	}
	if apply && o.AuditMonths > 0 && o.ExportDir == "" {
		return errors.New("--export-dir DIR is required to drop audit months: each month is exported there first")
	}
	if o.ExportDir != "" {
		if err := checkWritableDir(o.ExportDir); err != nil {
			return fmt.Errorf("--export-dir %s: %w", o.ExportDir, err)
		}
	}
	return nil
}

// checkWritableDir proves dir is a directory we can create and remove files in.
func checkWritableDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return errors.New("not a directory")
	}
	f, err := os.CreateTemp(dir, ".countersign-retention-check-*")
	if err != nil {
		return fmt.Errorf("not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Partition is one partition of a managed table, as the plan sees it.
type Partition struct {
	Table    string
	Name     string
	Month    string    // 2006-01; empty for the default partition
	From, To time.Time // the month's bounds (UTC); zero for the default partition
	Rows     int64
	Estimate bool // Rows is the planner's estimate (partitions inside the keep window)
	Drop     bool
	// Held says the month is older than the keep window but may not be dropped;
	// Reason says why (or, for a kept month, that it is in the window).
	Held   bool
	Reason string
	// audit_log only: sealed seq range and unsealed entries.
	FirstSeq, LastSeq int64
	Unsealed          int64
	// calls only: cases of the month's calls, and those still open.
	Cases, OpenCases int64
}

// Plan is what retention would do now.
type Plan struct {
	Now          time.Time
	CallsMonths  int
	AuditMonths  int
	CallsCutoff  time.Time // months ending at or before it are older than the window
	AuditCutoff  time.Time
	Calls, Audit []Partition
}

// Drops counts the partitions the plan drops.
func (p Plan) Drops() (calls, auditLog int) {
	for _, x := range p.Calls {
		if x.Drop {
			calls++
		}
	}
	for _, x := range p.Audit {
		if x.Drop {
			auditLog++
		}
	}
	return calls, auditLog
}

// HeldCount counts the months older than the window that the plan keeps anyway.
func (p Plan) HeldCount() int {
	n := 0
	for _, x := range append(slices.Clip(p.Calls), p.Audit...) {
		if x.Held {
			n++
		}
	}
	return n
}

// cutoff is now minus months, the day clamped to the target month's length.
func cutoff(now time.Time, months int) time.Time {
	now = now.UTC()
	y, m, d := now.Date()
	first := time.Date(y, m-time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	h, mi, s := now.Clock()
	return time.Date(first.Year(), first.Month(), min(d, last), h, mi, s, now.Nanosecond(), time.UTC)
}

var partName = regexp.MustCompile(`^(calls|audit_log)_y(\d{4})m(\d{2})$`)

type partRow struct {
	Name      string  `gorm:"column:name"`
	Bound     string  `gorm:"column:bound"`
	Estimate  float64 `gorm:"column:estimate"`
	IsDefault bool    `gorm:"column:is_default"`
}

// listPartitions reads the partitions of table, in name order (so month order, the
// default last), with their bounds printed in UTC.
func listPartitions(ctx context.Context, db *gorm.DB, table string) ([]partRow, error) {
	var rows []partRow
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL TimeZone = 'UTC'").Error; err != nil {
			return err
		}
		return tx.Raw(`SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound,
				c.reltuples AS estimate, pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default
			FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = to_regclass(?) ORDER BY c.relname`, table).Scan(&rows).Error
	})
	if err != nil {
		return nil, fmt.Errorf("retention: partitions of %s: %w", table, err)
	}
	slices.SortStableFunc(rows, func(a, b partRow) int {
		switch {
		case a.IsDefault == b.IsDefault:
			return 0
		case a.IsDefault:
			return 1
		default:
			return -1
		}
	})
	return rows, nil
}

// monthOf reads a monthly partition's month from its name and checks its bounds are
// that month's.
func monthOf(table string, r partRow) (from, to time.Time, ok bool) {
	m := partName.FindStringSubmatch(r.Name)
	if m == nil || m[1] != table {
		return time.Time{}, time.Time{}, false
	}
	y, _ := strconv.Atoi(m[2])
	mo, _ := strconv.Atoi(m[3])
	if mo < 1 || mo > 12 {
		return time.Time{}, time.Time{}, false
	}
	from = time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)
	to = from.AddDate(0, 1, 0)
	want := fmt.Sprintf("FOR VALUES FROM ('%s') TO ('%s')", from.Format("2006-01-02 15:04:05+00"), to.Format("2006-01-02 15:04:05+00"))
	return from, to, r.Bound == want
}

// quote quotes an identifier.
func quote(name string) string { return pgx.Identifier{name}.Sanitize() }

// terminalStatuses are the case statuses with no way out (done, rejected): a case in
// any other status is open.
func terminalStatuses() []string {
	var out []string
	for _, s := range models.Statuses {
		if !s.Open() {
			out = append(out, string(s))
		}
	}
	return out
}

// MakePlan lists the partitions of the tables opts names and decides, for each, whether
// it would be dropped now, and why not.
func MakePlan(ctx context.Context, db *gorm.DB, opts Options) (Plan, error) {
	if err := opts.validate(false); err != nil {
		return Plan{}, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	p := Plan{Now: now.UTC(), CallsMonths: opts.CallsMonths, AuditMonths: opts.AuditMonths}
	var err error
	if opts.CallsMonths > 0 {
		p.CallsCutoff = cutoff(now, opts.CallsMonths)
		if p.Calls, err = planTable(ctx, db, Calls, p.Now, p.CallsCutoff); err != nil {
			return Plan{}, err
		}
	}
	if opts.AuditMonths > 0 {
		p.AuditCutoff = cutoff(now, opts.AuditMonths)
		if p.Audit, err = planTable(ctx, db, Audit, p.Now, p.AuditCutoff); err != nil {
			return Plan{}, err
		}
	}
	return p, nil
}

func planTable(ctx context.Context, db *gorm.DB, table string, now, cut time.Time) ([]Partition, error) {
	rows, err := listPartitions(ctx, db, table)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("retention: %s has no partitions: is the schema migrated (00012, 00013)?", table)
	}
	db = db.WithContext(ctx)
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var dbNow time.Time
	if err := db.Raw("SELECT now()").Row().Scan(&dbNow); err != nil {
		return nil, fmt.Errorf("retention: database clock: %w", err)
	}
	var out []Partition
	olderKept := ""
	for _, r := range rows {
		p := Partition{Table: table, Name: r.Name}
		from, to, ok := monthOf(table, r)
		switch {
		case r.IsDefault:
			p.Reason = "default partition: never dropped"
		case from.IsZero():
			p.Reason = "not a monthly partition: never dropped"
		case !ok:
			p.Month = from.Format("2006-01")
			p.Reason = "its bounds are not the month its name says: never dropped"
		default:
			p.Month, p.From, p.To = from.Format("2006-01"), from, to
			switch {
			case !from.Before(thisMonth):
				p.Reason = "current or future month"
			case to.After(dbNow):
				// New entries go to the month of the database's clock: never drop it.
				p.Reason = "not over yet by the database's clock"
			case to.After(cut):
				p.Reason = "inside the keep window"
			default:
				p.Drop = true
			}
		}
		if !p.Drop && r.Estimate >= 0 && !r.IsDefault {
			p.Rows, p.Estimate = int64(r.Estimate), true
		} else if err := db.Raw("SELECT count(*) FROM " + quote(r.Name)).Row().Scan(&p.Rows); err != nil {
			return nil, fmt.Errorf("retention: count %s: %w", r.Name, err)
		}
		if p.Drop {
			var reason string
			if table == Calls {
				reason, err = callsHold(db, &p)
			} else {
				reason, err = auditHold(db, &p)
				if reason == "" && olderKept != "" {
					reason = fmt.Sprintf("an older month (%s) is kept: audit months go oldest first", olderKept)
				}
			}
			if err != nil {
				return nil, err
			}
			if reason != "" {
				p.Drop, p.Held, p.Reason = false, true, reason
			}
		}
		if table == Audit && p.Held && olderKept == "" {
			olderKept = p.Month
		}
		out = append(out, p)
	}
	return out, nil
}

// callsHold fills the case counts of a calls month and says why it must stay, if it must.
func callsHold(db *gorm.DB, p *Partition) (string, error) {
	var firstOpen *int64
	err := db.Raw(`SELECT count(*), count(*) FILTER (WHERE k.status NOT IN ?),
			min(k.id) FILTER (WHERE k.status NOT IN ?)
		FROM cases k WHERE k.call_id IN (SELECT id FROM `+quote(p.Name)+`)`,
		terminalStatuses(), terminalStatuses()).Row().Scan(&p.Cases, &p.OpenCases, &firstOpen)
	if err != nil {
		return "", fmt.Errorf("retention: cases of %s: %w", p.Name, err)
	}
	if p.OpenCases > 0 {
		return fmt.Sprintf("%s (e.g. case %d): close them first", plural(p.OpenCases, "open case"), *firstOpen), nil
	}
	return "", nil
}

// auditHold fills the seq range of an audit month and says why it must stay, if it must.
func auditHold(db *gorm.DB, p *Partition) (string, error) {
	var first, last *int64
	err := db.Raw(`SELECT count(*) FILTER (WHERE seq IS NULL), min(seq), max(seq) FROM `+quote(p.Name)).
		Row().Scan(&p.Unsealed, &first, &last)
	if err != nil {
		return "", fmt.Errorf("retention: seqs of %s: %w", p.Name, err)
	}
	if first != nil {
		p.FirstSeq, p.LastSeq = *first, *last
	}
	if p.Unsealed > 0 {
		return fmt.Sprintf("%s: is the sealer running?", plural(p.Unsealed, "unsealed entry")), nil
	}
	return "", nil
}

// plural writes "1 open case", "2 open cases", "3 unsealed entries".
func plural(n int64, one string) string {
	if n == 1 {
		return "1 " + one
	}
	if strings.HasSuffix(one, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(one, "y"))
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// errHeld says a partition the plan would drop must stay after all (it changed since).
type errHeld struct{ reason string }

func (e errHeld) Error() string { return e.reason }

// errGone says the partition was dropped meanwhile (another run).
var errGone = errors.New("no longer attached (dropped by another run?)")

// begin takes the advisory lock key and bounds lock waits, inside tx.
func begin(tx *gorm.DB, key int64) error {
	if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", key).Error; err != nil {
		return err
	}
	return tx.Exec(fmt.Sprintf("SET LOCAL lock_timeout = %d", lockTimeout.Milliseconds())).Error
}

// over refuses a month that is not over by the database's clock, which decides where
// new rows (and retention's own audit entry) go.
func over(tx *gorm.DB, p Partition) error {
	var ok bool
	if err := tx.Raw("SELECT now() >= ?", p.To).Row().Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return errHeld{"the month is not over by the database's clock"}
	}
	return nil
}

// attached says whether name is still a partition of table.
func attached(tx *gorm.DB, table, name string) (bool, error) {
	var ok bool
	err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(?) AND inhparent = to_regclass(?))`,
		name, table).Row().Scan(&ok)
	return ok, err
}

// CallsDrop is what dropping one calls month did.
type CallsDrop struct {
	Calls, CallKeys, Cases, VaultEntries int64
}

// dropCalls drops one calls month, in one transaction: re-checks its cases under a
// lock that keeps the month's calls from changing, deletes their call_keys, detaches
// and call_versions, detaches and drops the partition, and appends a
// calls.retention entry.
func dropCalls(ctx context.Context, db *gorm.DB, p Partition, actor string) (CallsDrop, error) {
	var d CallsDrop
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q, err := claim(tx, Calls, p, "SHARE ROW EXCLUSIVE", callsHold)
		if err != nil {
			return err
		}
		d.Cases = q.Cases
		if err := tx.Raw("SELECT count(*) FROM " + quote(p.Name)).Row().Scan(&d.Calls); err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM call_keys k USING " + quote(p.Name) + " c WHERE k.call_id = c.id")
		if res.Error != nil {
			return fmt.Errorf("delete call keys: %w", res.Error)
		}
		d.CallKeys = res.RowsAffected
		// The vault's encrypted originals go with their calls.
		res = tx.Exec(vault.DeleteForPartitionSQL(quote(p.Name)))
		if res.Error != nil {
			return fmt.Errorf("delete vault entries: %w", res.Error)
		}
		d.VaultEntries = res.RowsAffected
		// Versions DialNexa sent after a decision go with their call (no foreign key
		// across the partitions, as for call_keys).
		if err := tx.Exec("DELETE FROM call_versions v USING " + quote(p.Name) + " c WHERE v.call_id = c.id").Error; err != nil {
			return fmt.Errorf("delete call versions: %w", err)
		}
		if err := tx.Exec("ALTER TABLE calls DETACH PARTITION " + quote(p.Name)).Error; err != nil {
			return fmt.Errorf("detach: %w", err)
		}
		if err := tx.Exec("DROP TABLE " + quote(p.Name)).Error; err != nil {
			return fmt.Errorf("drop: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{Actor: actor, Action: CallsAction, ObjectType: "calls", ObjectID: p.Month,
			Summary: map[string]any{"month": p.Month, "partition": p.Name, "calls": d.Calls, "call_keys": d.CallKeys, "vault_entries": d.VaultEntries,
				"closed_cases_kept": d.Cases}})
		return err
	})
	if err != nil {
		return CallsDrop{}, fmt.Errorf("retention: %s: %w", p.Name, err)
	}
	return d, nil
}

// claim is how both drops start, inside their transaction: take the retention lock,
// check that p is still attached to table and still older than the window, lock it in
// mode, and re-read whether anything holds it (hold). It returns p as hold re-read it.
func claim(tx *gorm.DB, table string, p Partition, mode string, hold func(*gorm.DB, *Partition) (string, error)) (Partition, error) {
	if err := begin(tx, lockKey); err != nil {
		return p, err
	}
	if ok, err := attached(tx, table, p.Name); err != nil || !ok {
		return p, cmpErr(err, errGone)
	}
	if err := over(tx, p); err != nil {
		return p, err
	}
	if err := tx.Exec("LOCK TABLE " + quote(p.Name) + " IN " + mode + " MODE").Error; err != nil {
		return p, err
	}
	reason, err := hold(tx, &p)
	if err != nil {
		return p, err
	}
	if reason != "" {
		return p, errHeld{reason}
	}
	return p, nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// AuditDrop is what dropping one audit month did.
type AuditDrop struct {
	Rows              int64
	FirstSeq, LastSeq int64
	File              string // full path of the export
	SHA256            string // hex
	Bridges           int
	EntrySeq          int64 // the audit.retention entry's seq
}

// exportName is the file a month's export is written to, in the export directory.
func exportName(partition string) string { return partition + ".jsonl" }

// dropAudit exports one audit month and drops it, in one transaction: the partition
// is locked against writes while it is exported; the chain's lock (audit.LockKey) is
// taken so that the head cannot move; the bridges are read; the audit.retention entry
// is appended and sealed; the partition is detached and dropped.
func dropAudit(ctx context.Context, db *gorm.DB, p Partition, dir, actor string) (AuditDrop, error) {
	var d AuditDrop
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q, err := claim(tx, Audit, p, "SHARE", auditHold)
		if err != nil {
			return err
		}
		runs, rows, err := seqRuns(tx, p.Name)
		if err != nil {
			return err
		}
		d.Rows, d.FirstSeq, d.LastSeq = rows, q.FirstSeq, q.LastSeq
		if d.File, d.SHA256, err = export(ctx, tx, p, dir, rows); err != nil {
			return err
		}
		// From here the chain's head cannot move until commit.
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", audit.LockKey).Error; err != nil {
			return err
		}
		summary, err := retentionSummary(ctx, tx, p, runs, rows, d)
		if err != nil {
			return err
		}
		d.Bridges = len(summary.Bridges)
		m, err := summary.Map()
		if err != nil {
			return err
		}
		// Sealed while the month is still attached: the sealer reads the head from
		// audit_log, and the head may be in this month. After commit the head is this
		// entry (or a later one), in the current month.
		rec, err := audit.AppendSealed(ctx, tx, audit.Entry{Actor: actor, Action: AuditAction, ObjectType: "audit_log",
			ObjectID: p.Month, Summary: m})
		if err != nil {
			return err
		}
		if err := sameSummary(summary, rec.Summary); err != nil {
			return err
		}
		d.EntrySeq = rec.Seq
		if err := tx.Exec("ALTER TABLE audit_log DETACH PARTITION " + quote(p.Name)).Error; err != nil {
			return fmt.Errorf("detach: %w", err)
		}
		if err := tx.Exec("DROP TABLE " + quote(p.Name)).Error; err != nil {
			return fmt.Errorf("drop: %w", err)
		}
		return nil
	})
	if err != nil {
		return AuditDrop{}, fmt.Errorf("retention: %s: %w", p.Name, err)
	}
	return d, nil
}

// seqRuns reads the seqs a partition holds as ascending ranges, and their count.
func seqRuns(tx *gorm.DB, name string) ([]audit.SeqRange, int64, error) {
	rows, err := tx.Raw(`SELECT min(seq), max(seq) FROM (SELECT seq, seq - row_number() OVER (ORDER BY seq) AS g
		FROM ` + quote(name) + `) r GROUP BY g ORDER BY 1`).Rows()
	if err != nil {
		return nil, 0, fmt.Errorf("seq ranges: %w", err)
	}
	defer rows.Close()
	var (
		out []audit.SeqRange
		n   int64
	)
	for rows.Next() {
		var r audit.SeqRange
		if err := rows.Scan(&r[0], &r[1]); err != nil {
			return nil, 0, err
		}
		out = append(out, r)
		n += r[1] - r[0] + 1
	}
	return out, n, rows.Err()
}

// export writes the month's entries to dir as JSON lines (audit.Export's format) and a
// sha256sum file beside it, both through a temporary file renamed into place. A file
// of that name with other content is never replaced.
func export(ctx context.Context, tx *gorm.DB, p Partition, dir string, rows int64) (string, string, error) {
	path := filepath.Join(dir, exportName(p.Name))
	tmp, err := os.CreateTemp(dir, "."+exportName(p.Name)+".*")
	if err != nil {
		return "", "", fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	sum := sha256.New()
	cw := &countingWriter{w: io.MultiWriter(tmp, sum)}
	from, to := p.From, p.To
	if err := audit.Export(ctx, tx, cw, audit.Filter{From: &from, To: &to}, "jsonl"); err != nil {
		return "", "", err
	}
	if cw.lines != rows {
		return "", "", fmt.Errorf("export: wrote %d entries, the partition holds %d", cw.lines, rows)
	}
	if err := tmp.Sync(); err != nil {
		return "", "", fmt.Errorf("export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", "", fmt.Errorf("export: %w", err)
	}
	hexSum := hex.EncodeToString(sum.Sum(nil))
	if old, err := fileSHA256(path); err == nil && old != hexSum {
		return "", "", fmt.Errorf("export: %s exists with other content (sha256 %s): move it away first", path, old)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", "", fmt.Errorf("export: %w", err)
	}
	side := fmt.Sprintf("%s  %s\n", hexSum, filepath.Base(path))
	if err := writeFileSync(path+".sha256", []byte(side)); err != nil {
		return "", "", fmt.Errorf("export: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return path, hexSum, nil
}

type countingWriter struct {
	w     io.Writer
	lines int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	for _, x := range b {
		if x == '\n' {
			c.lines++
		}
	}
	return c.w.Write(b)
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReader(f)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// retentionSummary builds the audit.retention summary for dropping p: this month, and
// cumulatively every month dropped before (from the newest retention entry) and every
// bridge still needed. Call it holding audit.LockKey, before p is detached.
func retentionSummary(ctx context.Context, tx *gorm.DB, p Partition, runs []audit.SeqRange, rows int64, d AuditDrop) (audit.RetentionSummary, error) {
	s := audit.RetentionSummary{Month: p.Month, Partition: p.Name, Rows: rows, FirstSeq: d.FirstSeq, LastSeq: d.LastSeq,
		File: filepath.Base(d.File)}
	sha, _ := hex.DecodeString(d.SHA256)
	s.SHA256 = audit.HashText(sha)
	_, prev, err := audit.LatestRetention(ctx, tx)
	if err != nil && !errors.Is(err, audit.ErrNotFound) {
		return s, err
	}
	inRuns := func(seq int64) bool {
		for _, r := range runs {
			if seq >= r[0] && seq <= r[1] {
				return true
			}
		}
		return false
	}
	s.Dropped = append(prev.Dropped, audit.DroppedMonth{Month: p.Month, Partition: p.Name, Rows: rows,
		Seqs: append([]audit.SeqRange{}, runs...), File: s.File, SHA256: s.SHA256})
	// Earlier bridges stay while the entry after them is kept.
	for _, b := range prev.Bridges {
		if !inRuns(b.Seq + 1) {
			s.Bridges = append(s.Bridges, b)
		}
	}
	// New bridges: the last entry of each run of this month, when the entry after it
	// is kept, or will be sealed next (the head).
	head, err := audit.CurrentHead(ctx, tx)
	if err != nil {
		return s, err
	}
	var ends, next []int64
	for _, r := range runs {
		ends = append(ends, r[1])
		next = append(next, r[1]+1)
	}
	var kept []int64
	if len(next) > 0 {
		if err := tx.Raw("SELECT seq FROM audit_log WHERE seq IN ?", next).Scan(&kept).Error; err != nil {
			return s, fmt.Errorf("bridges: %w", err)
		}
	}
	var need []int64
	for _, e := range ends {
		if slices.Contains(kept, e+1) || e == head.Seq {
			need = append(need, e)
		}
	}
	if len(need) > 0 {
		var bs []struct {
			Seq  int64  `gorm:"column:seq"`
			Hash []byte `gorm:"column:hash"`
		}
		if err := tx.Raw("SELECT seq, hash FROM "+quote(p.Name)+" WHERE seq IN ? ORDER BY seq", need).Scan(&bs).Error; err != nil {
			return s, fmt.Errorf("bridges: %w", err)
		}
		for _, b := range bs {
			s.Bridges = append(s.Bridges, audit.Bridge{Seq: b.Seq, Hash: audit.HashText(b.Hash)})
		}
	}
	slices.SortFunc(s.Bridges, func(a, b audit.Bridge) int { return int(a.Seq - b.Seq) })
	return s, nil
}

// sameSummary refuses a stored summary that differs from the one meant (the summary
// passes through redaction on its way in; a bridge changed there would be useless).
func sameSummary(want audit.RetentionSummary, stored map[string]any) error {
	got, err := audit.ParseRetentionSummary(stored)
	if err != nil {
		return fmt.Errorf("stored retention summary: %w", err)
	}
	wm, _ := want.Map()
	w, _ := json.Marshal(wm)
	gm, _ := got.Map()
	g, _ := json.Marshal(gm)
	if string(w) != string(g) {
		return fmt.Errorf("the retention summary was altered on its way into the audit log:\n want %s\n got  %s", w, g)
	}
	return nil
}

// EnsurePartitions creates the monthly partitions of calls and audit_log for the
// month of now (UTC) and the next three, and copies audit_log's TRUNCATE trigger onto
// any audit partition lacking it (00013_audit_by_month.sql). It returns how many
// partitions it created. Safe to call from every process at start and daily: calls
// are serialised on an advisory lock, and a month that exists is left alone.
func EnsurePartitions(ctx context.Context, db *gorm.DB, now time.Time) (int, error) {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 3, 0)
	created := 0
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := begin(tx, partitionsKey); err != nil {
			return err
		}
		for _, table := range []string{Calls, Audit} {
			var n int
			err := tx.Raw("SELECT cs_ensure_month_partitions(?::regclass, ?::date, ?::date)",
				table, first.Format(time.DateOnly), last.Format(time.DateOnly)).Row().Scan(&n)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			created += n
		}
		return tx.Exec("SELECT cs_clone_truncate_triggers('audit_log')").Error
	})
	if err != nil {
		return 0, fmt.Errorf("retention: ensure partitions: %w", err)
	}
	return created, nil
}
