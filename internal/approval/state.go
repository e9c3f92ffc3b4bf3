package approval

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/models"
)

// transitions is the case lifecycle: from -> the statuses it may move to. It is the
// whole table; doc.go draws it.
var transitions = map[models.CaseStatus][]models.CaseStatus{
	models.StatusNew:              {models.StatusTriaged, models.StatusAwaitingApproval, models.StatusNeedsInfo},
	models.StatusTriaged:          {models.StatusAwaitingApproval, models.StatusNeedsInfo, models.StatusNew},
	models.StatusAwaitingApproval: {models.StatusApproved, models.StatusRejected, models.StatusNeedsInfo},
	models.StatusNeedsInfo:        {models.StatusTriaged, models.StatusAwaitingApproval},
	models.StatusApproved:         {models.StatusExecuting},
	models.StatusExecuting:        {models.StatusDone, models.StatusNeedsAttention},
	// needs_attention -> awaiting_approval: the plan was edited after a failure
	// (Service.EditAfterFailure); nothing of it had taken effect.
	models.StatusNeedsAttention: {models.StatusExecuting, models.StatusDone, models.StatusAwaitingApproval},
	models.StatusRejected:       nil,
	models.StatusDone:           nil,
}

// actionTransitions is the action lifecycle: from -> the statuses it may move to.
var actionTransitions = map[models.ActionStatus][]models.ActionStatus{
	models.ActionPlanned: {models.ActionQueued, models.ActionCancelled},
	// queued -> done: a refund waiting on Stripe (queued with its id) that
	// charge.refund.updated or the reconciler reports succeeded.
	// queued -> cancelled: a person cancelled the failed action this one waited behind.
	models.ActionQueued: {models.ActionRunning, models.ActionDone, models.ActionNeedsAttention, models.ActionFailed,
		models.ActionCancelled},
	// running -> running: the job runs again after a worker crashed mid-attempt.
	models.ActionRunning: {models.ActionRunning, models.ActionDone, models.ActionQueued, models.ActionNeedsAttention, models.ActionFailed},
	// A call that finished after the action was flagged still happened: done wins.
	// A person may also resolve it outside Countersign (done, with their evidence as
	// the receipt) or cancel it with a reason.
	models.ActionNeedsAttention: {models.ActionQueued, models.ActionDone, models.ActionCancelled},
	models.ActionFailed:         {models.ActionQueued, models.ActionDone, models.ActionCancelled},
	// Stripe may report a refund failed or canceled after it was done: money did not
	// move as approved, so the action goes back in front of a person.
	models.ActionDone:      {models.ActionNeedsAttention},
	models.ActionCancelled: nil,
}

// Allowed reports whether a case may move from one status to another.
func Allowed(from, to models.CaseStatus) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// ActionAllowed reports whether an action may move from one status to another.
func ActionAllowed(from, to models.ActionStatus) bool {
	for _, s := range actionTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// ErrIllegalMove matches every [IllegalMove]; it also matches apperr.ErrConflict.
var ErrIllegalMove = errors.New("illegal status move")

// IllegalMove is a move the lifecycle table forbids (or a row that changed under
// the caller). Nothing was changed.
type IllegalMove struct {
	Object   string // "case" or "action"
	ID       int64
	From, To string
}

func (e *IllegalMove) Error() string {
	return fmt.Sprintf("A %s that is %s cannot become %s.", e.Object, e.From, e.To)
}

// Is makes IllegalMove match ErrIllegalMove and apperr.ErrConflict.
func (e *IllegalMove) Is(target error) bool {
	return target == ErrIllegalMove || target == apperr.ErrConflict
}

// editable statuses: the plan may still change (no money has been committed).
func editable(s models.CaseStatus) bool {
	switch s {
	case models.StatusNew, models.StatusTriaged, models.StatusAwaitingApproval, models.StatusNeedsInfo:
		return true
	}
	return false
}

// setStatus moves a locked case whose status the caller read under the lock; the
// caller writes the decision's audit entry in the same transaction. A move its
// Zendesk ticket follows (ticketMoves) queues the ticket update in the same
// transaction.
func setStatus(tx *gorm.DB, caseID int64, from, to models.CaseStatus) error {
	if !Allowed(from, to) {
		return &IllegalMove{Object: "case", ID: caseID, From: string(from), To: string(to)}
	}
	res := tx.Exec(`UPDATE cases SET status = ?, updated_at = now() WHERE id = ? AND status = ?`, string(to), caseID, string(from))
	if res.Error != nil {
		return fmt.Errorf("approval: case %d %s -> %s: %w", caseID, from, to, res.Error)
	}
	if res.RowsAffected != 1 {
		return apperr.Conflictf("Case %d changed while you were deciding; reload and try again.", caseID)
	}
	if event, ok := ticketMoves[to]; ok {
		return QueueTicketUpdateTx(tx.Statement.Context, tx, caseID, event)
	}
	return nil
}

// CaseStatusTx locks case caseID (SELECT ... FOR UPDATE) and returns its status.
func CaseStatusTx(ctx context.Context, tx *gorm.DB, caseID int64) (models.CaseStatus, error) {
	var from string
	err := tx.WithContext(ctx).Raw(`SELECT status FROM cases WHERE id = ? FOR UPDATE`, caseID).Scan(&from).Error
	if err != nil {
		return "", fmt.Errorf("approval: lock case %d: %w", caseID, err)
	}
	if from == "" {
		return "", apperr.NotFoundf("Case %d does not exist.", caseID)
	}
	return models.CaseStatus(from), nil
}

// MoveCaseTx moves case caseID to status to inside tx, if the lifecycle allows it
// from the status it has under a row lock, and appends entry (its Action defaults
// to "case.<to>"; from and to are added to its summary). An illegal move is an
// [IllegalMove] (apperr.ErrConflict) and changes nothing.
func MoveCaseTx(ctx context.Context, tx *gorm.DB, caseID int64, to models.CaseStatus, entry audit.Entry) error {
	from, err := CaseStatusTx(ctx, tx, caseID)
	if err != nil {
		return err
	}
	if err := setStatus(tx.WithContext(ctx), caseID, from, to); err != nil {
		return err
	}
	if entry.Action == "" {
		entry.Action = "case." + string(to)
	}
	entry.ObjectType, entry.ObjectID = "case", strconv.FormatInt(caseID, 10)
	if entry.Summary == nil {
		entry.Summary = map[string]any{}
	}
	entry.Summary["from"], entry.Summary["to"] = string(from), string(to)
	if _, err := audit.Append(ctx, tx, entry); err != nil {
		return fmt.Errorf("approval: audit case %d: %w", caseID, err)
	}
	return nil
}

// ActionFields are the columns that change together with an action's status.
// Nil or false leaves a column as it is.
type ActionFields struct {
	LastError    *string
	ReceiptID    *string
	Receipt      *string // JSON
	CountAttempt bool    // attempts + 1
	Executed     bool    // executed_at = now()
}

// sets is the SET list and its arguments; the column names are fixed here.
func (f ActionFields) sets(to models.ActionStatus) (string, []any) {
	cols, args := []string{"status = ?"}, []any{string(to)}
	if f.LastError != nil {
		cols, args = append(cols, "last_error = ?"), append(args, *f.LastError)
	}
	if f.ReceiptID != nil {
		cols, args = append(cols, "receipt_id = ?"), append(args, *f.ReceiptID)
	}
	if f.Receipt != nil {
		cols, args = append(cols, "receipt = ?::jsonb"), append(args, *f.Receipt)
	}
	if f.CountAttempt {
		cols = append(cols, "attempts = attempts + 1")
	}
	if f.Executed {
		cols = append(cols, "executed_at = now()")
	}
	return strings.Join(append(cols, "updated_at = now()"), ", "), args
}

// ActionStatusTx locks action actionID (SELECT ... FOR UPDATE) and returns its status.
func ActionStatusTx(ctx context.Context, tx *gorm.DB, actionID int64) (models.ActionStatus, error) {
	var from string
	err := tx.WithContext(ctx).Raw(`SELECT status FROM actions WHERE id = ? FOR UPDATE`, actionID).Scan(&from).Error
	if err != nil {
		return "", fmt.Errorf("approval: lock action %d: %w", actionID, err)
	}
	if from == "" {
		return "", apperr.NotFoundf("Action %d does not exist.", actionID)
	}
	return models.ActionStatus(from), nil
}

// MoveActionTx moves action actionID to status to inside tx, with the columns in f,
// if the lifecycle allows it from the status it has under a row lock. A non-empty
// entry is appended (object "action"; from and to added to its summary); the
// worker's own bookkeeping moves (queued -> running -> queued) pass none. An illegal
// move is an [IllegalMove] (apperr.ErrConflict) and changes nothing.
func MoveActionTx(ctx context.Context, tx *gorm.DB, actionID int64, to models.ActionStatus, f ActionFields, entry audit.Entry) error {
	from, err := ActionStatusTx(ctx, tx, actionID)
	if err != nil {
		return err
	}
	if !ActionAllowed(from, to) {
		return &IllegalMove{Object: "action", ID: actionID, From: string(from), To: string(to)}
	}
	set, args := f.sets(to)
	err = tx.WithContext(ctx).Exec(`UPDATE actions SET `+set+` WHERE id = ?`, append(args, actionID)...).Error
	if err != nil {
		return fmt.Errorf("approval: action %d %s -> %s: %w", actionID, from, to, err)
	}
	if entry.Action == "" {
		return nil
	}
	entry.ObjectType, entry.ObjectID = "action", strconv.FormatInt(actionID, 10)
	if entry.Summary == nil {
		entry.Summary = map[string]any{}
	}
	entry.Summary["from"], entry.Summary["to"] = string(from), string(to)
	if _, err := audit.Append(ctx, tx, entry); err != nil {
		return fmt.Errorf("approval: audit action %d: %w", actionID, err)
	}
	return nil
}

// MoveCaseActionsTx moves every action of case caseID that is in status from to
// status to (planned -> queued on approval, planned -> cancelled on a new plan or a
// rejection), locking them first. The case's own audit entry covers them. It
// returns how many moved.
func MoveCaseActionsTx(ctx context.Context, tx *gorm.DB, caseID int64, from, to models.ActionStatus) (int64, error) {
	if !ActionAllowed(from, to) {
		return 0, &IllegalMove{Object: "action", ID: 0, From: string(from), To: string(to)}
	}
	tx = tx.WithContext(ctx)
	var ids []int64
	err := tx.Raw(`SELECT id FROM actions WHERE case_id = ? AND status = ? ORDER BY id FOR UPDATE`, caseID, string(from)).Scan(&ids).Error
	if err != nil {
		return 0, fmt.Errorf("approval: lock %s actions of case %d: %w", from, caseID, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	res := tx.Exec(`UPDATE actions SET status = ?, updated_at = now() WHERE id IN ?`, string(to), ids)
	if res.Error != nil {
		return 0, fmt.Errorf("approval: %s -> %s actions of case %d: %w", from, to, caseID, res.Error)
	}
	return res.RowsAffected, nil
}
