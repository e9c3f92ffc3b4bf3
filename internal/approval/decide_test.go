package approval

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/handoff"
	"github.com/countersign/countersign/models"
)

var ctx = context.Background()

func TestPlanStoredWithKeysBeforeApproval(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	id := f.requested(refundSpec(24900), lead)
	acts, err := liveActions(ctx, f.db.Gorm, id)
	must(t, err)
	if len(acts) != 3 {
		t.Fatalf("refund plan has %d actions, want stripe refund, email, zendesk", len(acts))
	}
	want := []string{
		"Stripe: refund 249.00 USD on charge ch_3PxAbCdEf (reason requested_by_customer)",
		"Email: refund confirmation to j•••@example.com (verified ",
		"Zendesk: normal-priority ticket for j•••@example.com with the reviewed refund reply and an internal note, status solved",
	}
	keyRE := regexp.MustCompile(`^call_\d+:[a-z]+\.[a-z_]+:(\d+)$`)
	for i, a := range acts {
		if !strings.HasPrefix(a.Description, want[i]) {
			t.Errorf("action %d: %q, want prefix %q", i+1, a.Description, want[i])
		}
		m := keyRE.FindStringSubmatch(a.Key)
		if m == nil || !strings.HasSuffix(a.Key, ":"+m[1]) || m[1] != itoa(a.ID) || !strings.Contains(a.Key, a.Connector+"."+a.Operation) {
			t.Errorf("action %d: idempotency key %q", a.ID, a.Key)
		}
		if a.Status != "planned" {
			t.Errorf("action %d status %s", a.ID, a.Status)
		}
	}
	zd := acts[2].Params
	if zd["requester_email"] != "jane@example.com" || zd["reply"] != handoff.Reply("refund") || zd["external_id"] != nil ||
		!strings.Contains(fmt.Sprint(zd["note"]), "Countersign case") {
		t.Errorf("zendesk params %v: want the verified customer as requester, the reviewed reply, an internal note, no call id", zd)
	}
	if got := f.status(id); got != "awaiting_approval" {
		t.Errorf("status %s", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSelfApprovalAndSameApproverTwiceRefused(t *testing.T) {
	f := newFixture(t)
	// A finance approver who requested the approval cannot approve it.
	fin := f.user(time.Time{}, auth.FinanceApprover)
	id := f.requested(refundSpec(150_000), fin)
	if _, err := f.svc.Approve(ctx, fin, id, f.fp(id)); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("self approval: %v, want forbidden", err)
	}
	if _, err := f.svc.Reject(ctx, fin, id, "other", "mine"); !errors.Is(err, apperr.ErrForbidden) {
		t.Fatalf("self rejection: %v, want forbidden", err)
	}
	a := f.user(time.Time{}, auth.FinanceApprover)
	res, err := f.svc.Approve(ctx, a, id, f.fp(id))
	must(t, err)
	if res.Approvals != 1 || res.Required != 2 || res.Status != models.StatusAwaitingApproval {
		t.Fatalf("first approval: %+v", res)
	}
	if _, err := f.svc.Approve(ctx, a, id, f.fp(id)); !errors.Is(err, apperr.ErrConflict) {
		t.Fatalf("same approver twice: %v, want conflict", err)
	}
	if got := f.status(id); got != "awaiting_approval" {
		t.Fatalf("status %s after refused second approval", got)
	}
	b := f.user(time.Time{}, auth.FinanceApprover)
	res, err = f.svc.Approve(ctx, b, id, f.fp(id))
	must(t, err)
	if res.Status != models.StatusExecuting || f.hooks.Load() != 1 {
		t.Fatalf("second approval: %+v hooks %d", res, f.hooks.Load())
	}
	if n := f.count(`SELECT count(*) FROM actions WHERE case_id = ? AND status = 'queued'`, id); n != 3 {
		t.Errorf("queued actions %d", n)
	}
}

// Two approvers giving the final approval at the same moment: one transition, one
// OnApproved call, the other gets "already decided by".
func TestConcurrentFinalApprovals(t *testing.T) {
	for round := 0; round < 5; round++ {
		f := newFixture(t)
		lead := f.user(time.Time{}, auth.SupportLead)
		id := f.requested(refundSpec(50_000), lead)
		fp := f.fp(id)
		a, b := f.user(time.Time{}, auth.FinanceApprover), f.user(time.Time{}, auth.FinanceApprover)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, p := range []*auth.Principal{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = f.svc.Approve(ctx, p, id, fp)
			}()
		}
		close(start)
		wg.Wait()
		var ok, lost int
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, apperr.ErrConflict) && strings.Contains(err.Error(), "already approved by user:"):
				lost++
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 || lost != 1 {
			t.Fatalf("round %d: %d won, %d lost (%v)", round, ok, lost, errs)
		}
		if f.hooks.Load() != 1 || f.count(`SELECT count(*) FROM case_decisions WHERE case_id = ? AND decision = 'hook'`, id) != 1 {
			t.Fatalf("OnApproved called %d times", f.hooks.Load())
		}
		if n := f.count(`SELECT count(*) FROM audit_log WHERE object_id = ? AND action = 'case.approved'`, itoa(id)); n != 1 {
			t.Fatalf("case.approved entries %d", n)
		}
	}
}

func TestEditVoidsApprovals(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit Edit
	}{
		{"amount", Edit{Amount: "1500.01"}},
		{"recipient", Edit{Recipient: "other@example.com"}},
		{"destination", Edit{Destination: "ch_3OtherCharge"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			lead := f.user(time.Time{}, auth.SupportLead)
			id := f.requested(refundSpec(150_000), lead)
			before := f.fp(id)
			a := f.user(time.Time{}, auth.FinanceApprover)
			_, err := f.svc.Approve(ctx, a, id, before)
			must(t, err)
			res, err := f.svc.EditPlan(ctx, lead, id, tt.edit)
			must(t, err)
			if res.Fingerprint == before || f.fp(id) == before {
				t.Fatal("fingerprint unchanged after edit")
			}
			if n := f.count(`SELECT count(*) FROM approvals WHERE case_id = ? AND voided_at IS NULL`, id); n != 0 {
				t.Errorf("%d live approvals after edit", n)
			}
			if f.status(id) != "awaiting_approval" {
				t.Errorf("status %s", f.status(id))
			}
			if n := f.count(`SELECT count(*) FROM actions WHERE case_id = ? AND status = 'cancelled'`, id); n != 3 {
				t.Errorf("cancelled old actions %d", n)
			}
			// The old page's fingerprint is refused.
			b := f.user(time.Time{}, auth.FinanceApprover)
			if _, err := f.svc.Approve(ctx, b, id, before); !errors.Is(err, apperr.ErrConflict) {
				t.Errorf("approval with stale fingerprint: %v", err)
			}
		})
	}
}

func TestEditRefusesBadAmounts(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	id := f.requested(refundSpec(10_000), lead)
	for _, am := range []string{"0", "-1", "NaN", "1e30", "10.001", "abc"} {
		if _, err := f.svc.EditPlan(ctx, lead, id, Edit{Amount: am}); !errors.Is(err, apperr.ErrValidation) {
			t.Errorf("amount %q: %v, want validation", am, err)
		}
	}
}

func TestStepUpAboveThreshold(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	id := f.requested(refundSpec(500_001), lead)
	stale := f.user(time.Now().Add(-11*time.Minute), auth.FinanceApprover)
	_, err := f.svc.Approve(ctx, stale, id, f.fp(id))
	var su *ErrStepUp
	if !errors.As(err, &su) || su.Within != 10 {
		t.Fatalf("stale sign-in: %v, want step-up", err)
	}
	if n := f.count(`SELECT count(*) FROM approvals WHERE case_id = ?`, id); n != 0 {
		t.Fatalf("approval recorded despite step-up")
	}
	fresh := f.user(time.Time{}, auth.FinanceApprover)
	if _, err := f.svc.Approve(ctx, fresh, id, f.fp(id)); err != nil {
		t.Fatalf("fresh sign-in: %v", err)
	}
	// At the threshold itself no step-up.
	id2 := f.requested(refundSpec(500_000), lead)
	if _, err := f.svc.Approve(ctx, stale, id2, f.fp(id2)); err != nil {
		t.Fatalf("at threshold: %v", err)
	}
}

func TestIllegalTransitionsChangeNothing(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	fin := f.user(time.Time{}, auth.FinanceApprover)
	id := f.requested(refundSpec(50_000), lead)
	_, err := f.svc.Reject(ctx, fin, id, "duplicate", "charged once only")
	must(t, err)
	auditBefore := f.count(`SELECT count(*) FROM audit_log`)
	other := f.user(time.Time{}, auth.FinanceApprover)
	checks := map[string]error{}
	_, checks["approve rejected"] = f.svc.Approve(ctx, other, id, f.fp(id))
	_, checks["request rejected"] = f.svc.RequestApproval(ctx, lead, id, "")
	_, checks["needs info rejected"] = f.svc.NeedsInfo(ctx, other, id, "x")
	_, checks["edit rejected"] = f.svc.EditPlan(ctx, lead, id, Edit{Amount: "1"})
	for name, err := range checks {
		if !errors.Is(err, apperr.ErrConflict) {
			t.Errorf("%s: %v, want conflict", name, err)
		}
	}
	if !strings.Contains(checks["approve rejected"].Error(), "already rejected by "+fin.Label()) {
		t.Errorf("message %q", checks["approve rejected"])
	}
	if f.status(id) != "rejected" || f.count(`SELECT count(*) FROM audit_log`) != auditBefore {
		t.Errorf("illegal transitions changed something: %s", f.status(id))
	}
	// Execute an unapproved case; re-open a done one.
	id2 := f.newCase(refundSpec(100))
	tx := f.db.Gorm.Begin()
	if err := MoveCaseTx(ctx, tx, id2, models.StatusExecuting, audit.Entry{Actor: "system"}); !errors.Is(err, apperr.ErrConflict) {
		t.Errorf("execute new case: %v", err)
	}
	tx.Rollback()
	must(t, f.db.Gorm.Exec(`UPDATE cases SET status = 'done' WHERE id = ?`, id2).Error)
	tx = f.db.Gorm.Begin()
	if err := MoveCaseTx(ctx, tx, id2, models.StatusAwaitingApproval, audit.Entry{Actor: "system"}); !errors.Is(err, apperr.ErrConflict) {
		t.Errorf("re-open done case: %v", err)
	}
	tx.Rollback()
}

func TestRejectNeedsReasonAndNote(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	fin := f.user(time.Time{}, auth.FinanceApprover)
	id := f.requested(refundSpec(50_000), lead)
	for _, c := range [][2]string{{"", "note"}, {"because", "note"}, {"other", ""}, {"other", "   "}} {
		if _, err := f.svc.Reject(ctx, fin, id, c[0], c[1]); !errors.Is(err, apperr.ErrValidation) {
			t.Errorf("reject %q %q: %v, want validation", c[0], c[1], err)
		}
	}
	if f.status(id) != "awaiting_approval" {
		t.Fatal("refused rejection changed the case")
	}
	if _, err := f.svc.NeedsInfo(ctx, fin, id, ""); !errors.Is(err, apperr.ErrValidation) {
		t.Errorf("needs info without what: %v", err)
	}
	_, err := f.svc.NeedsInfo(ctx, fin, id, "the charge id")
	must(t, err)
	if f.status(id) != "needs_info" {
		t.Fatal("needs info")
	}
	// Info added: back to awaiting approval, with a note required.
	if _, err := f.svc.RequestApproval(ctx, lead, id, ""); !errors.Is(err, apperr.ErrValidation) {
		t.Errorf("re-request without note: %v", err)
	}
	_, err = f.svc.RequestApproval(ctx, lead, id, "charge id confirmed on call-back")
	must(t, err)
	if f.status(id) != "awaiting_approval" {
		t.Fatal("info added")
	}
}

func TestUnverifiedRecipientBlocksApproval(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	fin := f.user(time.Time{}, auth.FinanceApprover)
	spec := caseSpec{kind: "document_resend", callEmail: "new.address@example.org", onFile: "jane@example.com",
		dest: "ch_3PxAbCdEf", currency: "USD", verified: true, fields: `{"receipt_number":"R-1182"}`}
	id := f.requested(spec, lead)
	_, err := f.svc.Approve(ctx, fin, id, f.fp(id))
	if !errors.Is(err, apperr.ErrValidation) || !strings.Contains(err.Error(), "Waiting for verification") || !strings.Contains(err.Error(), "n•••@example.org") {
		t.Fatalf("unverified recipient: %v", err)
	}
	if err := f.svc.VerifyRecipient(ctx, fin, id, "new.address@example.org", "call_back", "x"); !errors.Is(err, apperr.ErrForbidden) {
		t.Errorf("finance approver verifying: %v", err)
	}
	must(t, f.svc.VerifyRecipient(ctx, lead, id, "New.Address@example.org", "call_back", "called the number on file"))
	acts, _ := liveActions(ctx, f.db.Gorm, id)
	if !strings.Contains(acts[0].Description, "Email: receipt R-1182 to n•••@example.org (verified ") || !strings.Contains(acts[0].Description, "via call-back") {
		t.Errorf("description after verification: %q", acts[0].Description)
	}
	if _, err := f.svc.Approve(ctx, fin, id, f.fp(id)); err != nil {
		t.Fatalf("after verification: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'recipient.verified'`); n != 1 {
		t.Errorf("recipient.verified entries %d", n)
	}
}

func TestAutomaticApproval(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	s := refundSpec(9_999)
	s.verified = true
	id := f.requested(s, lead)
	if f.status(id) != "executing" || f.hooks.Load() != 1 {
		t.Fatalf("automatic: status %s hooks %d", f.status(id), f.hooks.Load())
	}
	s.amount = ptr(10_000)
	id = f.requested(s, lead)
	if f.status(id) != "awaiting_approval" {
		t.Fatalf("at the automatic limit: %s", f.status(id))
	}
}

// Every decision writes its audit entry in the decision's transaction: when the
// transaction rolls back (here: the job enqueuer fails) no entry remains.
func TestAuditInSameTransaction(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	fin := f.user(time.Time{}, auth.FinanceApprover)
	id := f.requested(refundSpec(50_000), lead)
	if n := f.count(`SELECT count(*) FROM audit_log WHERE action = 'approval.requested' AND object_id = ?`, itoa(id)); n != 1 {
		t.Fatalf("approval.requested entries %d", n)
	}
	before := f.count(`SELECT count(*) FROM audit_log`)
	f.svc.OnApproved = func(context.Context, *gormDB, int64, string) error { return errors.New("queue down") }
	if _, err := f.svc.Approve(ctx, fin, id, f.fp(id)); err == nil {
		t.Fatal("approval succeeded with a failing enqueuer")
	}
	if after := f.count(`SELECT count(*) FROM audit_log`); after != before {
		t.Fatalf("rolled-back approval left %d audit entries", after-before)
	}
	if f.status(id) != "awaiting_approval" || f.count(`SELECT count(*) FROM approvals WHERE case_id = ?`, id) != 0 {
		t.Fatal("rolled-back approval left changes")
	}
	f.svc.OnApproved = nil
	_, err := f.svc.Approve(ctx, fin, id, f.fp(id))
	must(t, err)
	for _, action := range []string{"approval.approved", "case.approved", "case.executing"} {
		if n := f.count(`SELECT count(*) FROM audit_log WHERE action = ? AND object_id = ?`, action, itoa(id)); n != 1 {
			t.Errorf("%s entries %d", action, n)
		}
	}
}
