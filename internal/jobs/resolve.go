package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/models"
)

// waiting is an action that waits for a person, locked.
type waiting struct {
	CaseID    int64  `gorm:"column:case_id"`
	Position  int    `gorm:"column:position"`
	Connector string `gorm:"column:connector"`
	Operation string `gorm:"column:operation"`
	Status    string `gorm:"column:status"`
	LastError string `gorm:"column:last_error"`
}

func lockWaiting(tx *gorm.DB, actionID int64) (waiting, error) {
	var a waiting
	res := tx.Raw(`SELECT case_id, position, connector, operation, status, last_error FROM actions WHERE id = ? FOR UPDATE`, actionID).Scan(&a)
	switch {
	case res.Error != nil:
		return a, fmt.Errorf("jobs: load action %d: %w", actionID, res.Error)
	case res.RowsAffected == 0:
		return a, apperr.NotFoundf("No such action.")
	case a.Status != "needs_attention" && a.Status != "failed":
		return a, apperr.Conflictf("Action %d is not waiting for a person (it is %s).", actionID, a.Status)
	}
	return a, nil
}

func personSays(what, text string, min int) (string, error) {
	text = strings.TrimSpace(text)
	switch {
	case len(text) < min:
		return "", apperr.Invalidf("Say %s (at least %d characters).", what, min)
	case len(text) > 2000:
		return "", apperr.Invalidf("Keep %s under 2000 characters.", what)
	}
	return text, nil
}

// CancelAction cancels an action that failed or needs a person, with p's reason,
// and the actions of the case queued behind it (a confirmation must not go out for
// a refund that did not happen). When nothing else of the case waits or runs, the
// case is done. One transaction, audited.
func (s *Service) CancelAction(ctx context.Context, p *auth.Principal, actionID int64, reason string) error {
	reason, err := personSays("why the action is cancelled", reason, 5)
	if err != nil {
		return err
	}
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := lockWaiting(tx, actionID)
		if err != nil {
			return err
		}
		e := retryEntry(ctx, p, "action.cancelled", map[string]any{"case_id": a.CaseID, "connector": a.Connector,
			"operation": a.Operation, "reason": reason, "previous_error": a.LastError})
		if err := approval.MoveActionTx(ctx, tx, actionID, models.ActionCancelled, approval.ActionFields{}, e); err != nil {
			return err
		}
		var later []int64
		err = tx.Raw(`SELECT id FROM actions WHERE case_id = ? AND position > ? AND status IN ('queued', 'needs_attention', 'failed')
			ORDER BY position, id FOR UPDATE`, a.CaseID, a.Position).Scan(&later).Error
		if err != nil {
			return fmt.Errorf("jobs: later actions of case %d: %w", a.CaseID, err)
		}
		for _, id := range later {
			e := retryEntry(ctx, p, "action.cancelled", map[string]any{"case_id": a.CaseID, "reason": fmt.Sprintf("it waited behind cancelled action %d", actionID)})
			if err := approval.MoveActionTx(ctx, tx, id, models.ActionCancelled, approval.ActionFields{}, e); err != nil {
				return err
			}
		}
		return s.settleCase(ctx, tx, p, a.CaseID, "cancelled", reason)
	})
}

// ResolveAction records that what the action was for was done outside Countersign
// (a refund issued in the Stripe dashboard, a ticket opened by hand): the action is
// done with p's reason and evidence as its receipt, and the actions behind it go on.
func (s *Service) ResolveAction(ctx context.Context, p *auth.Principal, actionID int64, reason, evidence string) error {
	reason, err := personSays("how it was resolved", reason, 5)
	if err != nil {
		return err
	}
	if evidence, err = personSays("the evidence (a reference, a link or where it is kept)", evidence, 3); err != nil {
		return err
	}
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a, err := lockWaiting(tx, actionID)
		if err != nil {
			return err
		}
		receipt, _ := json.Marshal(map[string]any{"summary": "resolved outside Countersign by " + p.Label() + ": " + reason,
			"raw": map[string]any{"resolved_outside": true, "reason": reason, "evidence": evidence}})
		rid, rcpt, none := "outside", string(receipt), ""
		e := retryEntry(ctx, p, "action.resolved_outside", map[string]any{"case_id": a.CaseID, "connector": a.Connector,
			"operation": a.Operation, "reason": reason, "evidence": evidence, "previous_error": a.LastError})
		err = approval.MoveActionTx(ctx, tx, actionID, models.ActionDone, approval.ActionFields{ReceiptID: &rid, Receipt: &rcpt,
			LastError: &none, Executed: true}, e)
		if err != nil {
			return err
		}
		return s.settleCase(ctx, tx, p, a.CaseID, "resolved", reason)
	})
}

// settleCase moves a case that waited for a person on: done when none of its
// actions waits or runs any more, executing when others still run, unchanged while
// another action still waits for a person.
func (s *Service) settleCase(ctx context.Context, tx *gorm.DB, p *auth.Principal, caseID int64, how, reason string) error {
	cs, err := approval.CaseStatusTx(ctx, tx, caseID)
	if err != nil || cs != models.StatusNeedsAttention {
		return err
	}
	var open struct {
		Waiting int64 `gorm:"column:waiting"`
		Running int64 `gorm:"column:running"`
	}
	err = tx.Raw(`SELECT count(*) FILTER (WHERE status IN ('needs_attention', 'failed')) AS waiting,
		count(*) FILTER (WHERE status IN ('queued', 'running')) AS running FROM actions WHERE case_id = ?`, caseID).Scan(&open).Error
	switch {
	case err != nil:
		return fmt.Errorf("jobs: open actions of case %d: %w", caseID, err)
	case open.Waiting > 0:
		return nil
	case open.Running > 0:
		return approval.MoveCaseTx(ctx, tx, caseID, models.StatusExecuting, retryEntry(ctx, p, "", map[string]any{"after": how}))
	}
	return approval.MoveCaseTx(ctx, tx, caseID, models.StatusDone, retryEntry(ctx, p, "case."+how, map[string]any{"reason": reason}))
}
