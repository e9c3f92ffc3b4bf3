package approval

import (
	"context"
	"fmt"
	"strconv"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/models"
)

// transitions is the lifecycle: from -> the statuses it may move to.
var transitions = map[models.CaseStatus][]models.CaseStatus{
	models.StatusNew:              {models.StatusTriaged, models.StatusAwaitingApproval},
	models.StatusTriaged:          {models.StatusAwaitingApproval, models.StatusNeedsInfo},
	models.StatusAwaitingApproval: {models.StatusApproved, models.StatusRejected, models.StatusNeedsInfo},
	models.StatusNeedsInfo:        {models.StatusTriaged, models.StatusAwaitingApproval},
	models.StatusApproved:         {models.StatusExecuting},
	models.StatusExecuting:        {models.StatusDone, models.StatusNeedsAttention},
	models.StatusNeedsAttention:   {models.StatusExecuting, models.StatusDone},
	models.StatusRejected:         nil,
	models.StatusDone:             nil,
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

// editable statuses: the plan may still change (no money has been committed).
func editable(s models.CaseStatus) bool {
	switch s {
	case models.StatusNew, models.StatusTriaged, models.StatusAwaitingApproval, models.StatusNeedsInfo:
		return true
	}
	return false
}

// setStatus moves a locked case; callers have checked the row's status under the lock.
func setStatus(tx *gorm.DB, caseID int64, from, to models.CaseStatus) error {
	if !Allowed(from, to) {
		return conflictf("A case that is %s cannot become %s.", from, to)
	}
	res := tx.Exec(`UPDATE cases SET status = ?, updated_at = now() WHERE id = ? AND status = ?`, string(to), caseID, string(from))
	if res.Error != nil {
		return fmt.Errorf("approval: case %d %s -> %s: %w", caseID, from, to, res.Error)
	}
	if res.RowsAffected != 1 {
		return conflictf("Case %d changed while you were deciding; reload and try again.", caseID)
	}
	return nil
}

// SetStatusTx moves case caseID to status to inside tx, if the lifecycle allows it
// from the status it has under a row lock, and appends entry (its Action defaults to
// "case.<to>"). The connector worker uses it for executing -> done | needs_attention.
// An illegal move is ErrConflict and changes nothing.
func SetStatusTx(ctx context.Context, tx *gorm.DB, caseID int64, to models.CaseStatus, entry audit.Entry) error {
	var from string
	err := tx.WithContext(ctx).Raw(`SELECT status FROM cases WHERE id = ? FOR UPDATE`, caseID).Scan(&from).Error
	if err != nil {
		return fmt.Errorf("approval: lock case %d: %w", caseID, err)
	}
	if from == "" {
		return notFoundf("Case %d does not exist.", caseID)
	}
	if err := setStatus(tx.WithContext(ctx), caseID, models.CaseStatus(from), to); err != nil {
		return err
	}
	if entry.Action == "" {
		entry.Action = "case." + string(to)
	}
	entry.ObjectType, entry.ObjectID = "case", strconv.FormatInt(caseID, 10)
	if entry.Summary == nil {
		entry.Summary = map[string]any{}
	}
	entry.Summary["from"], entry.Summary["to"] = from, string(to)
	if _, err := audit.Append(ctx, tx, entry); err != nil {
		return fmt.Errorf("approval: audit case %d: %w", caseID, err)
	}
	return nil
}
