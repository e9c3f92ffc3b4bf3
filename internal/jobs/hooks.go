package jobs

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/models"
)

// OnApproved is the decisions hook: inside the approval transaction tx, after the
// case's actions moved planned → queued, it inserts one job per queued action,
// carrying the fingerprint the approval was bound to. Rolling tx back leaves no job.
func (s *Service) OnApproved(ctx context.Context, tx *gorm.DB, caseID int64, fingerprint string) error {
	var rows []models.Action
	err := tx.WithContext(ctx).Select("id", "connector").Where("case_id = ? AND status = ?", caseID, models.ActionQueued).
		Order("position, id").Find(&rows).Error
	if err != nil {
		return fmt.Errorf("jobs: queued actions of case %d: %w", caseID, err)
	}
	for _, r := range rows {
		err := tx.WithContext(ctx).Model(&models.Action{ID: r.ID}).
			Updates(map[string]any{"sandbox": s.conns.Sandboxed(r.Connector), "updated_at": gorm.Expr("now()")}).Error
		if err != nil {
			return fmt.Errorf("jobs: mark action %d: %w", r.ID, err)
		}
		args := ActionArgs{ActionID: r.ID, CaseID: caseID, Fingerprint: fingerprint}
		if err := s.insertTx(ctx, tx, args, actionOpts(r.Connector)); err != nil {
			return err
		}
	}
	return nil
}

// RetryAction re-queues an action that needs attention or failed, with the same
// idempotency key and the fingerprint its approval was bound to, in one
// transaction with its audit entry. The SMTP/Zendesk-comment "send started" marker
// is cleared: the person retrying has checked that nothing was sent.
func (s *Service) RetryAction(ctx context.Context, p *auth.Principal, actionID int64) error {
	return s.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var a models.Action
		res := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("id = ?", actionID).Limit(1).Find(&a)
		if res.Error != nil {
			return fmt.Errorf("jobs: load action %d: %w", actionID, res.Error)
		}
		if res.RowsAffected == 0 {
			return apperr.NotFoundf("No such action.")
		}
		if a.Status != models.ActionNeedsAttention && a.Status != models.ActionFailed {
			return apperr.Conflictf("Action %d is not waiting for a person (it is %s).", actionID, a.Status)
		}
		fp, err := s.approvedFingerprint(ctx, tx, actionID, a.CaseID)
		if err != nil {
			return err
		}
		e := retryEntry(ctx, p, "action.retried", map[string]any{"case_id": a.CaseID, "connector": a.Connector,
			"operation": a.Operation, "previous_status": a.Status, "previous_error": a.LastError})
		none := ""
		if err := approval.MoveActionTx(ctx, tx, actionID, models.ActionQueued, approval.ActionFields{LastError: &none}, e); err != nil {
			return fmt.Errorf("jobs: requeue action %d: %w", actionID, err)
		}
		if err := tx.Exec(`UPDATE action_effects SET blind_started_at = NULL WHERE action_id = ?`, actionID).Error; err != nil {
			return fmt.Errorf("jobs: clear marker of action %d: %w", actionID, err)
		}
		if err := s.resumeCase(ctx, tx, p, a.CaseID, actionID); err != nil {
			return err
		}
		args := ActionArgs{ActionID: actionID, Run: a.Attempts, CaseID: a.CaseID, Fingerprint: fp}
		return s.insertTx(ctx, tx, args, actionOpts(a.Connector))
	})
}

// resumeCase moves a case waiting for a person back to executing once no other
// action of it still waits (needs_attention -> executing, the retry edge).
func (s *Service) resumeCase(ctx context.Context, tx *gorm.DB, p *auth.Principal, caseID, actionID int64) error {
	cs, err := approval.CaseStatusTx(ctx, tx, caseID)
	if err != nil || cs != models.StatusNeedsAttention {
		return err
	}
	var waiting bool
	err = tx.Raw(`SELECT EXISTS (SELECT 1 FROM actions WHERE case_id = ? AND id <> ? AND status IN ('needs_attention', 'failed'))`,
		caseID, actionID).Scan(&waiting).Error
	if err != nil || waiting {
		return err
	}
	err = approval.MoveCaseTx(ctx, tx, caseID, models.StatusExecuting, retryEntry(ctx, p, "", map[string]any{"retried_action_id": actionID}))
	if err != nil {
		return fmt.Errorf("jobs: case %d back to executing: %w", caseID, err)
	}
	return nil
}

// retryEntry is the audit entry of a person's retry.
func retryEntry(ctx context.Context, p *auth.Principal, act string, summary map[string]any) audit.Entry {
	info := reqlog.From(ctx)
	e := audit.Entry{Actor: p.Label(), Action: act, Outcome: "ok", RequestID: info.RequestID, IP: info.IP,
		UserAgent: info.UserAgent, Summary: summary}
	if p != nil {
		uid := p.UserID
		e.ActorID = &uid
	}
	return e
}

// approvedFingerprint is the fingerprint of the action's first job (the one the
// approval inserted), else the case's live approval.
func (s *Service) approvedFingerprint(ctx context.Context, tx *gorm.DB, actionID, caseID int64) (string, error) {
	var fp string
	err := tx.WithContext(ctx).Raw(`SELECT args->>'fingerprint' FROM river_job WHERE kind = ?
		AND args->>'action_id' = ? ORDER BY id LIMIT 1`, ActionArgs{}.Kind(), strconv.FormatInt(actionID, 10)).Scan(&fp).Error
	if err != nil {
		return "", fmt.Errorf("jobs: approved fingerprint of action %d: %w", actionID, err)
	}
	if fp != "" {
		return fp, nil
	}
	err = tx.WithContext(ctx).Raw(`SELECT fingerprint FROM approvals WHERE case_id = ? AND voided_at IS NULL
		ORDER BY id DESC LIMIT 1`, caseID).Scan(&fp).Error
	if err != nil {
		return "", fmt.Errorf("jobs: approval of case %d: %w", caseID, err)
	}
	if fp == "" {
		return "", apperr.Conflictf("No approval found for case %d.", caseID)
	}
	return fp, nil
}
