package approval

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/models"
)

// executing is a 500.00 USD refund requested by a support lead and approved by a
// finance approver: executing, its three actions queued. It returns the case and
// the approver.
func (f *fixture) executing() (int64, *auth.Principal) {
	f.t.Helper()
	lead := f.user(time.Time{}, auth.SupportLead)
	id := f.requested(refundSpec(50_000), lead)
	a := f.user(time.Time{}, auth.FinanceApprover)
	if _, err := f.svc.Approve(ctx, a, id, f.fp(id)); err != nil {
		f.t.Fatalf("approve: %v", err)
	}
	return id, a
}

// action moves the action at position pos of the case as the workers would, with
// the receipt id rid ("" for none); caseTo, when set, moves the case too.
func (f *fixture) action(caseID int64, pos int, to models.ActionStatus, rid string, caseTo models.CaseStatus) int64 {
	f.t.Helper()
	var id int64
	must(f.t, f.db.Gorm.Raw(`SELECT id FROM actions WHERE case_id = ? AND position = ? AND status <> 'cancelled'`, caseID, pos).Scan(&id).Error)
	tx := f.db.Gorm.Begin()
	defer tx.Rollback()
	fields := ActionFields{}
	if to == models.ActionNeedsAttention || to == models.ActionFailed {
		msg := "Stripe: the charge was already refunded (charge_already_refunded)"
		fields.LastError = &msg
	}
	if rid != "" {
		fields.ReceiptID = &rid
	}
	if to == models.ActionDone {
		must(f.t, MoveActionTx(ctx, tx, id, models.ActionRunning, ActionFields{}, audit.Entry{}))
	}
	must(f.t, MoveActionTx(ctx, tx, id, to, fields, audit.Entry{Actor: "system:jobs", Action: "action." + string(to)}))
	if caseTo != "" {
		must(f.t, MoveCaseTx(ctx, tx, caseID, caseTo, audit.Entry{Actor: "system:jobs"}))
	}
	must(f.t, tx.Commit().Error)
	return id
}

func TestEditAfterFailure(t *testing.T) {
	f := newFixture(t)
	id, first := f.executing()
	f.action(id, 1, models.ActionNeedsAttention, "", models.StatusNeedsAttention)
	var oldKeys []string
	must(t, f.db.Gorm.Raw(`SELECT idempotency_key FROM actions WHERE case_id = ?`, id).Scan(&oldKeys).Error)
	editor := f.user(time.Time{}, auth.FinanceApprover)
	res, err := f.svc.EditAfterFailure(ctx, editor, id, Edit{Amount: "450.00", Destination: "ch_3OtherCharge"}, "Customer gave the right charge on a call back.", true)
	must(t, err)
	if res.Status != models.StatusAwaitingApproval || f.status(id) != "awaiting_approval" || res.Fingerprint != f.fp(id) {
		t.Fatalf("after the edit: %+v, case %s", res, f.status(id))
	}
	if n := f.count(`SELECT count(*) FROM actions WHERE case_id = ? AND status = 'cancelled'`, id); n != 3 {
		t.Errorf("cancelled old actions %d, want the failed refund and the two behind it", n)
	}
	acts, err := liveActions(ctx, f.db.Gorm, id)
	must(t, err)
	if len(acts) != 3 || acts[0].Status != "planned" || acts[0].Params["amount"] != json.Number("45000") || acts[0].Params["charge"] != "ch_3OtherCharge" {
		t.Fatalf("new plan %+v", acts)
	}
	for _, a := range acts {
		if strings.Contains(strings.Join(oldKeys, " "), a.Key) {
			t.Errorf("action %d reuses idempotency key %s", a.ID, a.Key)
		}
	}
	if n := f.count(`SELECT count(*) FROM approvals WHERE case_id = ? AND voided_at IS NULL`, id); n != 0 {
		t.Errorf("%d live approvals after the edit", n)
	}
	for act, want := range map[string]int64{"case.replanned": 1, "approval.voided": 1} {
		if n := f.count(`SELECT count(*) FROM audit_log WHERE object_type = 'case' AND object_id = ? AND action = ?`, itoa(id), act); n != want {
			t.Errorf("%s entries %d, want %d", act, n, want)
		}
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE object_type = 'action' AND action = 'action.cancelled' AND summary->>'reason' LIKE 'plan edited after a failure:%'`); n != 3 {
		t.Errorf("action.cancelled entries %d, want 3", n)
	}
	if n := f.count(`SELECT count(*) FROM cases WHERE id = ? AND requested_by = ?`, id, editor.UserID); n != 1 {
		t.Error("the editor is not the case's requester")
	}
	// Four eyes: the editor cannot approve the new plan; the first approver can
	// again (their approval of the old plan is void), and it is on their list.
	if _, err := f.svc.Approve(ctx, editor, id, f.fp(id)); !errors.Is(err, apperr.ErrForbidden) {
		t.Errorf("editor approving their own edit: %v, want forbidden", err)
	}
	for who, want := range map[*auth.Principal]bool{editor: false, first: true} {
		list, err := AwaitingFor(ctx, f.db.Gorm, who.UserID, 50)
		must(t, err)
		if got := len(list) == 1 && list[0].CaseID == id; got != want {
			t.Errorf("user %d awaiting list %+v, want the case listed: %v", who.UserID, list, want)
		}
	}
	o, err := f.svc.Overview(ctx, first, id)
	must(t, err)
	if o.ReplannedBy == "" || !o.CanApprove {
		t.Errorf("overview for the first approver: replanned by %q, can approve %v (%s)", o.ReplannedBy, o.CanApprove, o.WhyNotApprove)
	}
	res, err = f.svc.Approve(ctx, first, id, f.fp(id))
	must(t, err)
	if res.Status != models.StatusExecuting {
		t.Errorf("approval of the new plan: %+v", res)
	}
}

// TestEditAfterFailureExecuting: a case still executing with a failed action (the
// workers had not moved it yet) goes through needs_attention.
func TestEditAfterFailureExecuting(t *testing.T) {
	f := newFixture(t)
	id, _ := f.executing()
	f.action(id, 1, models.ActionFailed, "", "")
	editor := f.user(time.Time{}, auth.SupportLead)
	if _, err := f.svc.EditAfterFailure(ctx, editor, id, Edit{Amount: "400"}, "Partial refund agreed on the call.", true); err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE object_id = ? AND action IN ('case.needs_attention', 'case.replanned')`, itoa(id)); n != 2 {
		t.Errorf("case moves audited %d, want executing → needs_attention → awaiting_approval", n)
	}
}

// TestEditAfterFailureRefused: nothing changes when anything of the plan took
// effect, or may still: a refund that went through is never planned twice.
func TestEditAfterFailureRefused(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(f *fixture, id int64)
		want  string // in the refusal
	}{
		{"refund done, email failed", func(f *fixture, id int64) {
			f.action(id, 1, models.ActionDone, "re_3Done", "")
			f.action(id, 2, models.ActionNeedsAttention, "", models.StatusNeedsAttention)
		}, "Action 1 (Stripe: refund 500.00 USD on charge ch_3PxAbCdEf (reason requested_by_customer)) is done (receipt re_3Done)"},
		{"refund pending at Stripe", func(f *fixture, id int64) {
			f.action(id, 1, models.ActionNeedsAttention, "re_3Pending", models.StatusNeedsAttention)
		}, "reached stripe as re_3Pending and its outcome is not settled"},
		{"refund running", func(f *fixture, id int64) {
			f.action(id, 1, models.ActionRunning, "", "")
			f.action(id, 2, models.ActionFailed, "", models.StatusNeedsAttention)
		}, "is running now"},
		{"email accepted by the provider", func(f *fixture, id int64) {
			f.action(id, 1, models.ActionFailed, "", models.StatusNeedsAttention)
			var a int64
			must(f.t, f.db.Gorm.Raw(`SELECT id FROM actions WHERE case_id = ? AND position = 2`, id).Scan(&a).Error)
			must(f.t, f.db.Gorm.Exec(`INSERT INTO action_effects (action_id, sent_receipt) VALUES (?, '{}'::jsonb)`, a).Error)
		}, "it was sent"},
		{"nothing failed", func(f *fixture, id int64) {}, "No action of case"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			id, _ := f.executing()
			tt.setup(f, id)
			snapshot := func() string {
				var s string
				must(t, f.db.Gorm.Raw(`SELECT (SELECT string_agg(id || status || receipt_id, ',' ORDER BY id) FROM actions WHERE case_id = ?) ||
					(SELECT count(*) FROM approvals WHERE case_id = ? AND voided_at IS NULL) || (SELECT count(*) FROM audit_log) ||
					(SELECT status || amount_minor FROM cases WHERE id = ?)`, id, id, id).Scan(&s).Error)
				return s
			}
			before := snapshot()
			info, err := f.svc.ReplanInfo(ctx, f.user(time.Time{}, auth.SupportLead), id)
			must(t, err)
			_, err = f.svc.EditAfterFailure(ctx, f.user(time.Time{}, auth.FinanceApprover), id, Edit{Amount: "450"}, "Customer asked for less.", true)
			if !errors.Is(err, apperr.ErrConflict) || !strings.Contains(err.Error(), tt.want) || info.Refusal != err.Error() {
				t.Fatalf("edit: %v (page said %q), want a conflict saying %q", err, info.Refusal, tt.want)
			}
			if after := snapshot(); after != before {
				t.Errorf("refused edit changed something: %s -> %s", before, after)
			}
		})
	}
}

// TestEditAfterFailureRefundReportedFailed: a refund Stripe reported failed moved no
// money, so its receipt does not block the edit.
func TestEditAfterFailureRefundReportedFailed(t *testing.T) {
	f := newFixture(t)
	id, _ := f.executing()
	act := f.action(id, 1, models.ActionNeedsAttention, "re_3Failed", models.StatusNeedsAttention)
	must(t, f.db.Gorm.Exec(`UPDATE actions SET receipt = '{"refund_status": "failed"}'::jsonb WHERE id = ?`, act).Error)
	if _, err := f.svc.EditAfterFailure(ctx, f.user(time.Time{}, auth.FinanceApprover), id, Edit{Amount: "450"}, "Customer asked for less.", true); err != nil {
		t.Fatal(err)
	}
}

func TestEditAfterFailureChecks(t *testing.T) {
	f := newFixture(t)
	id, _ := f.executing()
	f.action(id, 1, models.ActionNeedsAttention, "", models.StatusNeedsAttention)
	fin := f.user(time.Time{}, auth.FinanceApprover)
	for _, tt := range []struct {
		name    string
		p       *auth.Principal
		edit    Edit
		reason  string
		checked bool
		want    error
	}{
		{"auditor", f.user(time.Time{}, auth.Auditor), Edit{Amount: "450"}, "a reason", true, apperr.ErrForbidden},
		{"admin", f.user(time.Time{}, auth.Admin), Edit{Amount: "450"}, "a reason", true, apperr.ErrForbidden},
		{"no reason", fin, Edit{Amount: "450"}, " ", true, apperr.ErrValidation},
		{"not checked", fin, Edit{Amount: "450"}, "a reason", false, apperr.ErrValidation},
		{"nothing changed", fin, Edit{Amount: "500.00", Currency: "usd"}, "a reason", true, apperr.ErrValidation},
		{"bad amount", fin, Edit{Amount: "-3"}, "a reason", true, apperr.ErrValidation},
	} {
		if _, err := f.svc.EditAfterFailure(ctx, tt.p, id, tt.edit, tt.reason, tt.checked); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if f.status(id) != "needs_attention" || f.count(`SELECT count(*) FROM actions WHERE case_id = ? AND status = 'cancelled'`, id) != 0 {
		t.Error("a refused edit changed the case")
	}
	// Before approval the plan editor is the way; the page says so.
	lead := f.user(time.Time{}, auth.SupportLead)
	other := f.requested(refundSpec(50_000), lead)
	if _, err := f.svc.EditAfterFailure(ctx, fin, other, Edit{Amount: "450"}, "a reason", true); !errors.Is(err, apperr.ErrConflict) ||
		!strings.Contains(err.Error(), "plan editor") {
		t.Errorf("awaiting case: %v", err)
	}
}
