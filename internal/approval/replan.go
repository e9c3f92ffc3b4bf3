package approval

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/models"
)

// decisionReplanned is the case_decisions row of an edit after a failure. Its
// actor counts as the case's requester: they cannot approve the new plan.
const decisionReplanned = "edited_after_failure"

// effectRow is a live action of a case with what the other system may hold of it.
type effectRow struct {
	ID           int64  `gorm:"column:id"`
	Position     int    `gorm:"column:position"`
	Connector    string `gorm:"column:connector"`
	Description  string `gorm:"column:description"`
	Status       string `gorm:"column:status"`
	LastError    string `gorm:"column:last_error"`
	ReceiptID    string `gorm:"column:receipt_id"`
	RefundStatus string `gorm:"column:refund_status"` // a refund's status as Stripe last reported it
	Sent         bool   `gorm:"column:sent"`          // a blind send the provider accepted (action_effects)
}

// caseEffects reads the case's non-cancelled actions, locking them with lock.
func caseEffects(tx *gorm.DB, caseID int64, lock bool) ([]effectRow, error) {
	q := `SELECT a.id, a.position, a.connector, a.description, a.status, a.last_error, a.receipt_id,
		coalesce(a.receipt->>'refund_status', '') AS refund_status, coalesce(e.sent_receipt IS NOT NULL, false) AS sent
		FROM actions a LEFT JOIN action_effects e ON e.action_id = a.id
		WHERE a.case_id = ? AND a.status <> 'cancelled' ORDER BY a.position, a.id`
	if lock {
		q += ` FOR UPDATE OF a`
	}
	var rows []effectRow
	if err := tx.Raw(q, caseID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("approval: actions of case %d: %w", caseID, err)
	}
	return rows, nil
}

// replanRefusal says why case c (with its live actions rows) cannot be edited and
// asked again, or "" when it can. The rule: an edited plan is a whole new plan, so
// nothing of the old one may have taken effect. A done action (run, or resolved
// outside Countersign) refuses the edit, since the new plan would do it again (a
// refund that went through must never be planned twice); so does an action whose
// outcome the other system has not settled (running, or holding a receipt there).
func replanRefusal(c *caseData, rows []effectRow) string {
	if c.Status != models.StatusNeedsAttention && c.Status != models.StatusExecuting {
		if editable(c.Status) {
			return fmt.Sprintf("Case %d is %s: nothing has run yet, so change its plan with the plan editor on the case page.", c.ID, words(c.Status))
		}
		return fmt.Sprintf("Case %d is %s: only a case whose action failed can be edited and asked again.", c.ID, words(c.Status))
	}
	waiting := 0
	for _, a := range rows {
		name := fmt.Sprintf("Action %d (%s)", a.Position, a.Description)
		switch models.ActionStatus(a.Status) {
		case models.ActionDone:
			return fmt.Sprintf("%s is done%s: an edited plan would do it again. Keep the plan: cancel the failed action with a reason, and open a follow-up case for what is left.", name, receiptNote(a.ReceiptID))
		case models.ActionRunning:
			return fmt.Sprintf("%s is running now: wait until it finishes or fails, then decide.", name)
		}
		switch {
		case a.Sent:
			return fmt.Sprintf("%s was accepted by %s: it was sent, so mark it resolved outside Countersign rather than planning it again.", name, a.Connector)
		case a.ReceiptID != "" && a.RefundStatus != "failed" && a.RefundStatus != "canceled":
			return fmt.Sprintf("%s reached %s as %s and its outcome is not settled there: it may still take effect. Check %s, then retry it, cancel it or mark it resolved outside Countersign.", name, a.Connector, a.ReceiptID, a.Connector)
		case a.Status == string(models.ActionNeedsAttention) || a.Status == string(models.ActionFailed):
			waiting++
		}
	}
	if waiting == 0 {
		return fmt.Sprintf("No action of case %d failed or waits for a person: there is nothing to edit around.", c.ID)
	}
	return ""
}

func receiptNote(id string) string {
	if id == "" {
		return ""
	}
	return " (receipt " + id + ")"
}

func words(s models.CaseStatus) string { return strings.ReplaceAll(string(s), "_", " ") }

// ReplanInfo is what the "edit and ask again" page shows before anything changes.
type ReplanInfo struct {
	CaseID      int64
	Kind        string
	Status      models.CaseStatus
	AmountMinor *int64
	Currency    string
	DestRef     string
	Recipient   string   // masked; "" when none was set
	Waiting     []string // the failed actions: "Stripe: refund ...: the error"
	Cancelled   []string // every action the edit cancels
	Voided      []string // who approved the plan the edit voids
	// Refusal says why the edit is refused (then nothing else matters).
	Refusal string
}

// ReplanInfo reads what an edit after a failure would change on case caseID.
func (s *Service) ReplanInfo(ctx context.Context, p *auth.Principal, caseID int64) (ReplanInfo, error) {
	if !p.HasAny(auth.Triagers...) {
		return ReplanInfo{}, apperr.Forbiddenf("Only support leads and finance approvers edit a plan.")
	}
	db := s.DB.WithContext(ctx)
	c, err := loadCase(ctx, db, caseID, false)
	if err != nil {
		return ReplanInfo{}, err
	}
	rows, err := caseEffects(db, caseID, false)
	if err != nil {
		return ReplanInfo{}, err
	}
	in := ReplanInfo{CaseID: c.ID, Kind: c.Kind, Status: c.Status, AmountMinor: c.AmountMinor, Currency: c.Currency,
		DestRef: c.DestinationRef, Recipient: MaskEmail(c.RecipientEmail), Refusal: replanRefusal(c, rows)}
	for _, a := range rows {
		if a.Status == string(models.ActionNeedsAttention) || a.Status == string(models.ActionFailed) {
			in.Waiting = append(in.Waiting, strings.TrimSpace(a.Description+": "+a.LastError))
		}
		in.Cancelled = append(in.Cancelled, a.Description)
	}
	err = db.Raw(`SELECT COALESCE(NULLIF(u.name, ''), a.approver_label) FROM approvals a LEFT JOIN users u ON u.id = a.approver_id
		WHERE a.case_id = ? AND a.voided_at IS NULL ORDER BY a.id`, caseID).Scan(&in.Voided).Error
	if err != nil {
		return ReplanInfo{}, fmt.Errorf("approval: approvals of case %d: %w", caseID, err)
	}
	return in, nil
}

// EditAfterFailure edits the plan of a case whose action failed and asks for
// approval again, in one transaction: the failed action and every action waiting
// behind it are cancelled, every live approval is voided, the edited plan is
// stored as new actions (new idempotency keys, planned) and the case moves
// needs_attention → awaiting_approval with p as its requester. Refused, with
// nothing changed, when anything of the plan took effect (see replanRefusal), and
// unless p checked that the failed actions had no effect (checked).
func (s *Service) EditAfterFailure(ctx context.Context, p *auth.Principal, caseID int64, e Edit, reason string, checked bool) (Result, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case !p.HasAny(auth.Triagers...):
		return Result{}, apperr.Forbiddenf("Only support leads and finance approvers edit a plan.")
	case len(reason) < 5 || len(reason) > 2000:
		return Result{}, apperr.Invalidf("Say why the plan changes (5 to 2000 characters): approvers read it.")
	case !checked:
		return Result{}, apperr.Invalidf("Confirm that you checked the failed actions had no effect in the other system.")
	}
	var res Result
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := loadCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		rows, err := caseEffects(tx, caseID, true)
		if err != nil {
			return err
		}
		if why := replanRefusal(c, rows); why != "" {
			return apperr.Conflictf("%s", why)
		}
		changes, err := applyEdit(tx, c, e)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			return apperr.Invalidf("Nothing changed: to run the same plan again, retry the failed action instead.")
		}
		res, err = s.replanTx(ctx, tx, p, c, rows, changes, reason)
		return err
	})
	return res, err
}

// replanTx does the moves of EditAfterFailure once the edit is stored on c.
func (s *Service) replanTx(ctx context.Context, tx *gorm.DB, p *auth.Principal, c *caseData, rows []effectRow, changes map[string]any, reason string) (Result, error) {
	why := "plan edited after a failure: " + reason
	if c.Status == models.StatusExecuting {
		if err := MoveCaseTx(ctx, tx, c.ID, models.StatusNeedsAttention, entry(ctx, p, "", c.ID, map[string]any{"reason": why})); err != nil {
			return Result{}, err
		}
	}
	for _, a := range rows {
		e := entry(ctx, p, "action.cancelled", c.ID, map[string]any{"case_id": c.ID, "connector": a.Connector, "reason": why, "previous_error": a.LastError})
		if err := MoveActionTx(ctx, tx, a.ID, models.ActionCancelled, ActionFields{}, e); err != nil {
			return Result{}, err
		}
	}
	ps, err := replan(ctx, tx, c, s.Slack)
	if err != nil {
		return Result{}, err
	}
	var voided []string
	err = tx.Raw(`UPDATE approvals SET voided_at = now(), void_reason = ? WHERE case_id = ? AND voided_at IS NULL
		RETURNING approver_label`, why, c.ID).Scan(&voided).Error
	if err != nil {
		return Result{}, fmt.Errorf("approval: void approvals of case %d: %w", c.ID, err)
	}
	pol, err := CurrentPolicy(ctx, tx)
	if err != nil {
		return Result{}, err
	}
	err = MoveCaseTx(ctx, tx, c.ID, models.StatusAwaitingApproval, entry(ctx, p, "case.replanned", c.ID, map[string]any{
		"reason": reason, "changes": changes, "actions_cancelled": len(rows), "approvals_voided": len(voided),
		"fingerprint": ps.fp, "policy_version": pol.ID, "actions": actionSummary(ps.acts)}))
	if err != nil {
		return Result{}, err
	}
	err = tx.Exec(`UPDATE cases SET policy_version = ?, requested_by = ?, requested_at = now(), approval_deadline = ? WHERE id = ?`,
		pol.ID, p.UserID, approvalDeadline(c, ps.facts), c.ID).Error
	if err != nil {
		return Result{}, fmt.Errorf("approval: re-request case %d: %w", c.ID, err)
	}
	if err := recordDecision(tx, c.ID, decisionReplanned, p, strings.Join(keys(changes), ", "), reason, ps.fp); err != nil {
		return Result{}, err
	}
	c.PolicyVersion, c.Status = &pol.ID, models.StatusAwaitingApproval
	unverified, err := emailUnverified(ctx, tx, c, ps.facts, ps.acts)
	if err != nil {
		return Result{}, err
	}
	req, _, err := requirement(ctx, tx, c, ps, unverified != "")
	if err != nil {
		return Result{}, err
	}
	if len(voided) > 0 {
		err = appendAll(ctx, tx, []audit.Entry{entry(ctx, p, "approval.voided", c.ID, map[string]any{"reason": why, "approvers": voided})})
	}
	return Result{Status: models.StatusAwaitingApproval, Required: max(req.Approvals, 1), Fingerprint: ps.fp}, err
}
