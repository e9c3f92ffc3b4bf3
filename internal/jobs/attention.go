package jobs

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"
)

// attentionTx runs attention in its own transaction.
func (s *Service) attentionTx(ctx context.Context, a *action, status, msg string) error {
	return s.db.Gorm.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		var cur string
		if err := tx.Raw(`SELECT status FROM actions WHERE id = ? FOR UPDATE`, a.ID).Scan(&cur).Error; err != nil {
			return fmt.Errorf("jobs: lock action %d: %w", a.ID, err)
		}
		if cur == "done" || cur == "cancelled" {
			return nil
		}
		return s.attention(ctx, tx, a, status, msg)
	})
}

// attention moves the action (to needs_attention or failed) and its case (to
// needs_attention), raises a Slack alert as its own job and writes the audit entry,
// all inside tx.
func (s *Service) attention(ctx context.Context, tx *gorm.DB, a *action, status, msg string) error {
	err := tx.Exec(`UPDATE actions SET status = ?, last_error = ?, updated_at = now() WHERE id = ?`, status, msg, a.ID).Error
	if err != nil {
		return fmt.Errorf("jobs: action %d %s: %w", a.ID, status, err)
	}
	err = tx.Exec(`UPDATE cases SET status = 'needs_attention', updated_at = now() WHERE id = ?
		AND status NOT IN ('done', 'rejected')`, a.CaseID).Error
	if err != nil {
		return fmt.Errorf("jobs: case %d needs attention: %w", a.CaseID, err)
	}
	what := "needs attention"
	if status == "failed" {
		what = "failed"
	}
	text := fmt.Sprintf(":warning: Countersign: action #%d (%s %s) on case #%d %s: %s%s",
		a.ID, a.Connector, a.Operation, a.CaseID, what, msg, s.caseLink(a.CaseID))
	if err := s.raiseAlert(ctx, tx, a.CaseID, a.ID, status, text); err != nil {
		return err
	}
	return s.auditSystem(ctx, tx, "action."+status, "action", a.ID, "error", map[string]any{
		"case_id": a.CaseID, "connector": a.Connector, "operation": a.Operation, "error": msg})
}

// raiseAlert stores an alert and inserts its job in tx. Alerts about the alert
// channel itself (a Slack action) are still raised: they are separate messages.
func (s *Service) raiseAlert(ctx context.Context, tx *gorm.DB, caseID, actionID int64, reason, text string) error {
	var id int64
	var caseRef, actionRef any
	if caseID != 0 {
		caseRef = caseID
	}
	if actionID != 0 {
		actionRef = actionID
	}
	err := tx.Raw(`INSERT INTO connector_alerts (case_id, action_id, reason, text) VALUES (?, ?, ?, ?) RETURNING id`,
		caseRef, actionRef, reason, truncate(text, 3000)).Scan(&id).Error
	if err != nil {
		return fmt.Errorf("jobs: store alert: %w", err)
	}
	return s.insertTx(ctx, tx, AlertArgs{AlertID: id}, nil)
}

func (s *Service) caseLink(caseID int64) string {
	if s.opts.BaseURL == "" {
		return ""
	}
	return " " + s.opts.BaseURL + "/cases/" + strconv.FormatInt(caseID, 10)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
