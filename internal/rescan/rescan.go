// Package rescan re-applies the current redaction rules (redact.RulesVersion) to
// rows stored under older ones: calls, webhook deliveries, cases (and, through
// case_search_stale, their search vectors), notes, planned actions and saved
// views. It walks each table by id in batches; each batch is one transaction
// that rewrites the rows whose text changed, keeps the restricted originals it
// finds in the vault (when keys are given), marks the cases whose search vector
// must be recomputed, audits what it changed (ids, columns and kinds, never
// values) and records how far it got, so an interrupted rescan resumes there.
//
// Identity columns (call ids, dedup keys, idempotency keys) are not rewritten:
// they join rows across tables and to the sender's redeliveries.
package rescan

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/progress"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/vault"
)

// table says which columns of a table hold text to redact.
type table struct {
	name  string
	text  []string // text columns
	json  []string // jsonb columns
	calls bool     // rows are calls: findings go to the vault, cases go stale
	cases bool     // rows are cases: their search vector goes stale
}

// Tables in the order a rescan walks them. Only these fixed names are ever put
// into SQL.
var Tables = []table{
	{name: "calls", text: []string{"summary", "transcript_text", "customer_number", "from_number", "to_number",
		"agent_id", "category", "hangup_reason", "customer_ref", "customer_email", "customer_name", "recording_url"},
		json: []string{"transcript", "fields", "transfer"}, calls: true},
	{name: "webhook_deliveries", text: []string{"error", "event_type", "body_text"}, json: []string{"body"}},
	{name: "cases", text: []string{"customer_label", "destination_ref", "next_step", "recipient_email"},
		json: []string{"reasons"}, cases: true},
	{name: "notes", text: []string{"body"}},
	{name: "actions", text: []string{"description", "last_error"}, json: []string{"params", "receipt"}},
	{name: "saved_views", text: []string{"name", "query"}},
}

// Options control a rescan.
type Options struct {
	Batch   int            // rows per transaction (default 500)
	Vault   *vault.Keyring // nil: restricted originals found are masked, not kept
	Actor   string         // audit actor, "cli:<user>"
	Restart bool           // forget where an earlier run of these rules stopped
	Out     io.Writer      // progress bars
}

// Result counts what a rescan did.
type Result struct {
	Rows, Changed int64
	Counts        redact.Counts
}

// Run rescans every table.
func Run(ctx context.Context, db *gorm.DB, o Options) (Result, error) {
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	var total Result
	for _, t := range Tables {
		r, err := runTable(ctx, db, t, o)
		total.Rows += r.Rows
		total.Changed += r.Changed
		total.Counts = total.Counts.Add(r.Counts)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func runTable(ctx context.Context, db *gorm.DB, t table, o Options) (Result, error) {
	db = db.WithContext(ctx)
	if o.Restart {
		if err := db.Exec(`DELETE FROM redact_rescan WHERE table_name = ? AND rules = ?`, t.name, redact.RulesVersion).Error; err != nil {
			return Result{}, fmt.Errorf("rescan: restart %s: %w", t.name, err)
		}
	}
	var last int64
	if err := db.Raw(`SELECT COALESCE(max(last_id), 0) FROM redact_rescan WHERE table_name = ? AND rules = ?`, t.name, redact.RulesVersion).
		Scan(&last).Error; err != nil {
		return Result{}, fmt.Errorf("rescan: checkpoint of %s: %w", t.name, err)
	}
	var left int64
	if err := db.Raw(`SELECT count(*) FROM `+t.name+` WHERE id > ?`, last).Scan(&left).Error; err != nil {
		return Result{}, fmt.Errorf("rescan: count %s: %w", t.name, err)
	}
	bar := progress.New(o.Out, t.name, left)
	defer bar.Done()
	var res Result
	for {
		n, next, b, err := batch(ctx, db, t, o, last)
		res.Rows += int64(n)
		res.Changed += b.Changed
		res.Counts = res.Counts.Add(b.Counts)
		if err != nil {
			return res, err
		}
		if n == 0 {
			return res, nil
		}
		bar.Add(int64(n))
		last = next
	}
}

// batch rescans the rows after id last, up to o.Batch of them, in one
// transaction, and returns how many it read and the last id.
func batch(ctx context.Context, db *gorm.DB, t table, o Options, last int64) (int, int64, Result, error) {
	cols := append(append([]string{}, t.text...), t.json...)
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = c + "::text"
	}
	var res Result
	n, next := 0, last
	err := db.Transaction(func(tx *gorm.DB) error {
		rows, err := tx.Raw(`SELECT id, `+strings.Join(sel, ", ")+` FROM `+t.name+` WHERE id > ? ORDER BY id LIMIT ? FOR UPDATE`, last, o.Batch).Rows()
		if err != nil {
			return fmt.Errorf("rescan: read %s: %w", t.name, err)
		}
		type change struct {
			id    int64
			set   []string
			args  []any
			found []redact.Finding
		}
		var changes []change
		var changedIDs []string
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			dest := []any{&next}
			for i := range vals {
				dest = append(dest, &vals[i])
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return fmt.Errorf("rescan: scan %s: %w", t.name, err)
			}
			n++
			ch := change{id: next}
			for i, v := range vals {
				if !v.Valid || v.String == "" {
					continue
				}
				out, counts, found, err := redactValue(v.String, i >= len(t.text))
				if err != nil {
					rows.Close()
					return fmt.Errorf("rescan: %s %d %s: %w", t.name, next, cols[i], err)
				}
				if counts == nil {
					continue
				}
				cast := ""
				if i >= len(t.text) {
					cast = "::jsonb"
				}
				ch.set = append(ch.set, cols[i]+" = ?"+cast)
				ch.args = append(ch.args, out)
				ch.found = append(ch.found, found...)
				res.Counts = res.Counts.Add(counts)
			}
			if len(ch.set) > 0 {
				changes = append(changes, ch)
				changedIDs = append(changedIDs, strconv.FormatInt(ch.id, 10))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("rescan: read %s: %w", t.name, err)
		}
		for _, ch := range changes {
			if err := apply(tx, t, o, ch.id, ch.set, ch.args, ch.found); err != nil {
				return err
			}
		}
		res.Changed = int64(len(changes))
		if n == 0 {
			return nil
		}
		if len(changes) > 0 {
			if err := audit.AppendMany(ctx, tx, audit.Entry{Actor: o.Actor, Action: "redact.rescanned", ObjectType: t.name,
				ObjectID: strconv.FormatInt(last+1, 10) + ".." + strconv.FormatInt(next, 10), Outcome: "changed",
				Summary: map[string]any{"rules": redact.RulesVersion, "rows_read": n, "rows_changed": len(changes),
					"ids": strings.Join(changedIDs, ","), "suppressed": res.Counts}}); err != nil {
				return fmt.Errorf("rescan: audit %s: %w", t.name, err)
			}
		}
		return tx.Exec(`INSERT INTO redact_rescan (table_name, rules, last_id, changed) VALUES (?, ?, ?, ?)
			ON CONFLICT (table_name, rules) DO UPDATE SET last_id = EXCLUDED.last_id,
				changed = redact_rescan.changed + EXCLUDED.changed, updated_at = now()`,
			t.name, redact.RulesVersion, next, len(changes)).Error
	})
	return n, next, res, err
}

// redactValue applies the rules to one column value.
func redactValue(v string, isJSON bool) (string, redact.Counts, []redact.Finding, error) {
	if !isJSON {
		out, c, found := redact.StringVault(v)
		return out, c, found, nil
	}
	d, err := redact.JSONDocument([]byte(v))
	if err != nil {
		return "", nil, nil, err
	}
	return string(d.Body), d.Counts, d.Restricted, nil
}

// apply rewrites one row and what follows from it.
func apply(tx *gorm.DB, t table, o Options, id int64, set []string, args []any, found []redact.Finding) error {
	if err := tx.Exec(`UPDATE `+t.name+` SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(args, id)...).Error; err != nil {
		return fmt.Errorf("rescan: update %s %d: %w", t.name, id, err)
	}
	switch {
	case t.calls:
		if o.Vault != nil && len(found) > 0 {
			q, qargs, err := o.Vault.InsertStatement(id, found)
			if err != nil {
				return err
			}
			if q != "" {
				if err := tx.Exec(toGorm(q), qargs...).Error; err != nil {
					return fmt.Errorf("rescan: vault for call %d: %w", id, err)
				}
			}
		}
		return tx.Exec(`INSERT INTO case_search_stale (case_id) SELECT id FROM cases WHERE call_id = ? ON CONFLICT DO NOTHING`, id).Error
	case t.cases:
		return tx.Exec(`INSERT INTO case_search_stale (case_id) VALUES (?) ON CONFLICT DO NOTHING`, id).Error
	}
	return nil
}

// toGorm turns the vault's $n placeholders into gorm's ?.
func toGorm(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		if q[i] == '$' {
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				b.WriteByte('?')
				i = j - 1
				continue
			}
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
