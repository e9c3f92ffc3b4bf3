package approval

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/models"
)

// TestLifecycleTables pins the edges the product relies on, and the ones it must not
// have, in both tables.
func TestLifecycleTables(t *testing.T) {
	cases := []struct {
		from, to models.CaseStatus
		ok       bool
	}{
		{models.StatusNew, models.StatusNeedsInfo, true}, // claim check: already refunded
		{models.StatusTriaged, models.StatusNew, true},   // claim check: back to review
		{models.StatusExecuting, models.StatusNeedsAttention, true},
		{models.StatusNeedsAttention, models.StatusExecuting, true},        // retry
		{models.StatusNeedsAttention, models.StatusAwaitingApproval, true}, // edit after a failure
		{models.StatusExecuting, models.StatusAwaitingApproval, false},     // through needs_attention
		{models.StatusApproved, models.StatusDone, false},                  // only through executing
		{models.StatusAwaitingApproval, models.StatusNeedsAttention, false},
		{models.StatusDone, models.StatusNeedsAttention, false},
		{models.StatusRejected, models.StatusNew, false},
	}
	for _, c := range cases {
		if got := Allowed(c.from, c.to); got != c.ok {
			t.Errorf("case %s -> %s allowed = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
	acts := []struct {
		from, to models.ActionStatus
		ok       bool
	}{
		{models.ActionPlanned, models.ActionQueued, true},
		{models.ActionRunning, models.ActionRunning, true}, // rerun after a crash
		{models.ActionRunning, models.ActionQueued, true},  // temporary failure
		{models.ActionDone, models.ActionNeedsAttention, true},
		{models.ActionFailed, models.ActionQueued, true},
		{models.ActionPlanned, models.ActionRunning, false},
		{models.ActionCancelled, models.ActionQueued, false},
		{models.ActionDone, models.ActionQueued, false},
		{models.ActionQueued, models.ActionQueued, false},
	}
	for _, c := range acts {
		if got := ActionAllowed(c.from, c.to); got != c.ok {
			t.Errorf("action %s -> %s allowed = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
	for from, tos := range actionTransitions {
		for _, to := range append(tos, from) {
			if !from.Valid() || !to.Valid() {
				t.Errorf("action table names unknown status %q -> %q", from, to)
			}
		}
	}
}

// TestMoveActionTx moves a planned action through the owner and refuses an
// illegal move without changing the row or the audit log.
func TestMoveActionTx(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	lead := f.user(time.Time{}, auth.SupportLead)
	id := f.requested(refundSpec(500), lead)
	var actionID int64
	must(t, f.db.Gorm.Raw(`SELECT id FROM actions WHERE case_id = ? AND status = 'planned' ORDER BY id LIMIT 1`, id).Scan(&actionID).Error)
	if actionID == 0 {
		t.Fatal("no planned action")
	}
	auditBefore := f.count(`SELECT count(*) FROM audit_log`)
	tx := f.db.Gorm.Begin()
	err := MoveActionTx(ctx, tx, actionID, models.ActionDone, ActionFields{}, audit.Entry{Actor: "system", Action: "action.x"})
	var im *IllegalMove
	if !errors.As(err, &im) || !errors.Is(err, apperr.ErrConflict) || im.From != "planned" || im.To != "done" {
		t.Errorf("planned -> done: %v, want IllegalMove planned -> done", err)
	}
	tx.Rollback()
	tx = f.db.Gorm.Begin()
	msg := "boom"
	must(t, MoveActionTx(ctx, tx, actionID, models.ActionQueued, ActionFields{LastError: &msg}, audit.Entry{Actor: "system", Action: "action.queued"}))
	must(t, tx.Commit().Error)
	if n := f.count(`SELECT count(*) FROM actions WHERE id = ? AND status = 'queued' AND last_error = 'boom'`, actionID); n != 1 {
		t.Errorf("action not queued with its error")
	}
	if got := f.count(`SELECT count(*) FROM audit_log`) - auditBefore; got != 1 {
		t.Errorf("audit entries written: %d, want 1", got)
	}
	tx = f.db.Gorm.Begin()
	if err := MoveActionTx(ctx, tx, 987654321, models.ActionQueued, ActionFields{}, audit.Entry{}); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("missing action: %v, want ErrNotFound", err)
	}
	tx.Rollback()
}
