package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/models"
)

// exceptionRow is the sheet row whose key (column A) is key, or nil.
func (w *workflow) exceptionRow(key string) []string {
	for _, r := range w.sb.Sheets.Rows(sandbox.SheetID, jobs.ExceptionSheet) {
		if len(r) > 0 && r[0] == key {
			return r
		}
	}
	return nil
}

func (w *workflow) sweepExceptions() {
	w.t.Helper()
	if err := w.g.Jobs.SweepExceptions(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// TestExceptionQueueFollowsFailedActionsAndPolicyExceptions drives the two other
// reasons of the exception review queue through the real webhook, approval and
// job path against the sandbox fakes: a policy exception (an approver sends the
// case back for information) and a failed action (Stripe refuses the refund).
// Each opens one row in Sheets, which is rewritten in place (same key, no second
// row) when the exception is resolved; sweeping again changes nothing.
func TestExceptionQueueFollowsFailedActionsAndPolicyExceptions(t *testing.T) {
	w := newWorkflow(t, nil)
	ctx := context.Background()
	w.sb.AddPaidInvoice("INV-20931", "jordan.lee@example.com", 24900, "USD")
	w.call("refund-request.json", "call_rf7k2m9q4xbt", "call_wf_exceptions")
	w.await("claim checked", `SELECT EXISTS (SELECT 1 FROM claim_checks c JOIN cases k ON k.id = c.case_id
		JOIN calls l ON l.id = k.call_id WHERE l.dialnexa_id = 'call_wf_exceptions' AND k.kind = 'refund')`)
	var caseID int64
	w.db.Gorm.Raw(`SELECT k.id FROM cases k JOIN calls l ON l.id = k.call_id WHERE l.dialnexa_id = 'call_wf_exceptions'`).Scan(&caseID)
	id := strconv.FormatInt(caseID, 10)
	svc := w.g.App.Approvals
	lead := w.principal("lead", auth.SupportLead)
	fin1, fin2 := w.principal("fin1", auth.FinanceApprover), w.principal("fin2", auth.FinanceApprover)

	// 1. A policy exception: sent back for information.
	res, err := svc.RequestApproval(ctx, lead, caseID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NeedsInfo(ctx, fin1, caseID, "Which plan was cancelled, and when?"); err != nil {
		t.Fatal(err)
	}
	w.sweepExceptions()
	pkey := "case-" + id + "-policy_exception"
	w.await("policy exception written", `SELECT EXISTS (SELECT 1 FROM exception_rows WHERE case_id = ? AND reason = 'policy_exception' AND synced = 'open')`, caseID)
	row := w.exceptionRow(pkey)
	if row == nil || row[1] != "open" || row[2] != "policy_exception" || !strings.Contains(row[3], "sent back for information") ||
		!strings.Contains(strings.Join(row, "|"), "Refund request") {
		t.Fatalf("policy exception row %q in %q", row, w.sb.Sheets.Rows(sandbox.SheetID, jobs.ExceptionSheet))
	}

	// Information added, asked again: the row is resolved in place.
	if res, err = svc.RequestApproval(ctx, lead, caseID, "Annual plan cancelled on 2026-11-18, per the call."); err != nil {
		t.Fatal(err)
	}
	w.sweepExceptions()
	w.await("policy exception resolved", `SELECT EXISTS (SELECT 1 FROM exception_rows WHERE case_id = ? AND reason = 'policy_exception' AND synced = 'resolved')`, caseID)
	if row = w.exceptionRow(pkey); row == nil || row[1] != "resolved" || row[5] == "" {
		t.Errorf("policy exception row after the information came: %q", row)
	}

	// 2. A failed action: Stripe refuses the refund (permanent, before any effect).
	w.sb.Stripe.FailNext(1, 400, "charge_already_refunded", 0)
	for _, a := range []*auth.Principal{fin1, fin2} {
		if res.Status != models.StatusAwaitingApproval {
			break
		}
		if res, err = svc.Approve(ctx, a, caseID, res.Fingerprint); err != nil {
			t.Fatalf("approve: %v", err)
		}
	}
	w.await("refund failed", `SELECT EXISTS (SELECT 1 FROM actions WHERE case_id = ? AND connector = 'stripe'
		AND operation = 'refund' AND status IN ('failed', 'needs_attention'))`, caseID)
	w.sweepExceptions()
	fkey := "case-" + id + "-failed_action"
	w.await("failed action written", `SELECT EXISTS (SELECT 1 FROM exception_rows WHERE case_id = ? AND reason = 'failed_action' AND synced = 'open')`, caseID)
	row = w.exceptionRow(fkey)
	if row == nil || row[1] != "open" || row[2] != "failed_action" || !strings.Contains(row[3], "stripe refund") ||
		!strings.Contains(row[3], "charge_already_refunded") {
		t.Fatalf("failed action row %q", row)
	}

	// Resolved outside Countersign (refunded in the Stripe dashboard): the row is
	// rewritten in place; a second sweep writes nothing more.
	var actionID int64
	w.db.Gorm.Raw(`SELECT id FROM actions WHERE case_id = ? AND operation = 'refund'`, caseID).Scan(&actionID)
	if err := w.g.Jobs.ResolveAction(ctx, fin1, actionID, "Refunded by hand in the Stripe dashboard", "re_manual_0001"); err != nil {
		t.Fatal(err)
	}
	w.sweepExceptions()
	w.await("failed action resolved", `SELECT EXISTS (SELECT 1 FROM exception_rows WHERE case_id = ? AND reason = 'failed_action' AND synced = 'resolved')`, caseID)
	w.sweepExceptions()
	time.Sleep(300 * time.Millisecond) // a wrongly queued extra write would land within a few polls
	rows := w.sb.Sheets.Rows(sandbox.SheetID, jobs.ExceptionSheet)
	if len(rows) != 2 {
		t.Errorf("exception rows %d, want 2 (one per reason): %q", len(rows), rows)
	}
	if row = w.exceptionRow(fkey); row == nil || row[1] != "resolved" || row[5] == "" {
		t.Errorf("failed action row after it was resolved: %q", row)
	}
}
