package jobs

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/models"
)

// attentionTx runs attention in its own transaction.
func (s *Service) attentionTx(ctx context.Context, a *action, status models.ActionStatus, msg string) error {
	return s.db.Gorm.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		cur, err := approval.ActionStatusTx(ctx, tx, a.ID)
		if err != nil {
			return fmt.Errorf("jobs: lock action %d: %w", a.ID, err)
		}
		if !approval.ActionAllowed(cur, status) {
			return nil // finished, cancelled, or already waiting for a person
		}
		return s.attention(ctx, tx, a, status, msg)
	})
}

// attention moves the action (to needs_attention or failed) and an executing case
// (to needs_attention), with their audit entries, and raises a Slack alert as its
// own job, all inside tx. A case in any other status keeps it: the action and the
// alert still say what needs a person.
func (s *Service) attention(ctx context.Context, tx *gorm.DB, a *action, status models.ActionStatus, msg string) error {
	err := approval.MoveActionTx(ctx, tx, a.ID, status, approval.ActionFields{LastError: &msg}, audit.Entry{
		Actor: "system:jobs", Action: "action." + string(status), Outcome: "error", Summary: map[string]any{
			"case_id": a.CaseID, "connector": a.Connector, "operation": a.Operation, "error": msg}})
	if err != nil {
		return fmt.Errorf("jobs: action %d %s: %w", a.ID, status, err)
	}
	cs, err := approval.CaseStatusTx(ctx, tx, a.CaseID)
	if err != nil {
		return fmt.Errorf("jobs: case %d needs attention: %w", a.CaseID, err)
	}
	if cs == models.StatusExecuting {
		err := approval.MoveCaseTx(ctx, tx, a.CaseID, models.StatusNeedsAttention, audit.Entry{Actor: "system:jobs",
			Outcome: "error", Summary: map[string]any{"action_id": a.ID}})
		if err != nil {
			return fmt.Errorf("jobs: case %d needs attention: %w", a.CaseID, err)
		}
	}
	what := "needs attention"
	if status == models.ActionFailed {
		what = "failed"
	}
	text := fmt.Sprintf(":warning: Countersign: action #%d (%s %s) on case #%d %s: %s%s",
		a.ID, a.Connector, a.Operation, a.CaseID, what, msg, s.caseLink(a.CaseID))
	return s.raiseAlert(ctx, tx, a.CaseID, a.ID, string(status), text)
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
