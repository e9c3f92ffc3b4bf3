package jobs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/handoff"
)

// The exception review queue: a Google Sheets row per case and reason (a case in
// review, an action that failed or needs attention, a policy exception: a case
// sent back for information), written when the exception opens and rewritten in
// place when it is resolved. exception_rows holds the truth; SweepExceptions
// opens and resolves rows from the cases and actions, and a SyncExceptionArgs job
// writes each change to the sheet (column A is the row's key, so a rerun finds
// its own row). The README lists the columns (ExceptionColumns).

// ExceptionSheet is the sheet (tab) of the exception review queue.
const ExceptionSheet = "Exceptions"

// ExceptionColumns are the queue's columns, in order.
var ExceptionColumns = append([]string{"key", "status", "reason", "detail", "opened", "resolved"}, handoff.RowColumns...)

// exceptionRules say, per reason, which cases have the exception open and what
// the detail column says. Each query returns (case id, detail).
var exceptionRules = []struct{ reason, open string }{
	{"review", `SELECT id, COALESCE(reasons->>-1, '') FROM cases WHERE kind = 'review' AND status NOT IN ('done', 'rejected')`},
	{"failed_action", `SELECT a.case_id, string_agg(a.connector || ' ' || a.operation || ': ' || a.last_error, '; ' ORDER BY a.id)
		FROM actions a JOIN cases c ON c.id = a.case_id WHERE a.status IN ('needs_attention', 'failed')
		AND c.status NOT IN ('done', 'rejected') GROUP BY a.case_id`},
	{"policy_exception", `SELECT id, 'sent back for information: ' || COALESCE(reasons->>-1, '') FROM cases WHERE status = 'needs_info'`},
}

// SweepExceptions opens the rows of new exceptions, resolves the rows of those
// that no longer stand, and queues a sheet write for each change.
func (s *Service) SweepExceptions(ctx context.Context) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var changed []int64
		for _, r := range exceptionRules {
			var ids []int64
			err := tx.Raw(`WITH o(case_id, detail) AS (`+r.open+`),
				ins AS (INSERT INTO exception_rows (case_id, reason, detail) SELECT case_id, ?, left(detail, 500) FROM o
					ON CONFLICT (case_id, reason) DO UPDATE SET status = 'open', resolved_at = NULL, detail = EXCLUDED.detail
					WHERE exception_rows.status = 'resolved' RETURNING id),
				res AS (UPDATE exception_rows SET status = 'resolved', resolved_at = now()
					WHERE reason = ? AND status = 'open' AND case_id NOT IN (SELECT case_id FROM o) RETURNING id)
				SELECT id FROM ins UNION ALL SELECT id FROM res`, r.reason, r.reason).Scan(&ids).Error
			if err != nil {
				return fmt.Errorf("jobs: exceptions %s: %w", r.reason, err)
			}
			changed = append(changed, ids...)
		}
		for _, id := range changed {
			if err := s.insertTx(ctx, tx, SyncExceptionArgs{RowID: id, At: s.opts.Now().UTC().Format(time.RFC3339Nano)}, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// SyncExceptionArgs writes one exception row to the sheet. At makes each change
// its own job (a row may open, resolve and open again).
type SyncExceptionArgs struct {
	RowID int64  `json:"row_id" river:"unique"`
	At    string `json:"at" river:"unique"`
}

// Kind is the River job kind.
func (SyncExceptionArgs) Kind() string { return "sync_exception_row" }

// InsertOpts for sheet writes.
func (SyncExceptionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueAlerts, MaxAttempts: 15, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type syncExceptionWorker struct {
	river.WorkerDefaults[SyncExceptionArgs]
	s *Service
}

// Work writes the row as it stands now (a later change's job writes it again).
func (w *syncExceptionWorker) Work(ctx context.Context, job *river.Job[SyncExceptionArgs]) error {
	s := w.s
	var row struct {
		CaseID     int64      `gorm:"column:case_id"`
		Reason     string     `gorm:"column:reason"`
		Status     string     `gorm:"column:status"`
		Detail     string     `gorm:"column:detail"`
		OpenedAt   time.Time  `gorm:"column:opened_at"`
		ResolvedAt *time.Time `gorm:"column:resolved_at"`
	}
	res := s.db.Gorm.WithContext(ctx).Raw(`SELECT case_id, reason, status, detail, opened_at, resolved_at FROM exception_rows
		WHERE id = ?`, job.Args.RowID).Scan(&row)
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	if s.conns.Sheets == nil {
		return river.JobCancel(missing("Sheets"))
	}
	ctx = connector.WithOrigin(ctx, connector.Origin{CaseID: row.CaseID})
	sum, err := approval.HandoffTx(ctx, s.db.Gorm.WithContext(ctx), row.CaseID)
	if err != nil {
		return err
	}
	resolved := ""
	if row.ResolvedAt != nil {
		resolved = row.ResolvedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	cells := []string{row.Status, row.Reason, clean(row.Detail), row.OpenedAt.UTC().Format("2006-01-02 15:04 UTC"), resolved}
	for _, c := range sum.Row() {
		cells = append(cells, fmt.Sprint(c))
	}
	key := "case-" + strconv.FormatInt(row.CaseID, 10) + "-" + row.Reason
	start := time.Now()
	rc, err := s.conns.Sheets.UpsertRow(ctx, s.conns.SheetsID, ExceptionSheet, key, cells)
	s.meter.Observe(ctx, Sheets, "exception row", s.conns.Sandboxed(Sheets), start, err)
	if err != nil {
		return err
	}
	return s.db.Gorm.WithContext(ctx).Exec(`UPDATE exception_rows SET synced = ?, sheet_range = ? WHERE id = ?`,
		row.Status, rc.ExternalID, job.Args.RowID).Error
}

// clean passes free text through the handoff guard (no restricted value, not
// even its last digits).
func clean(s string) string {
	return handoff.Clean(s)
}
