package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// logout signs the current persona out through the identity provider.
func logout(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Click(tid("logout")),
		chromedp.WaitVisible(tid("message")),
	); err != nil {
		t.Fatalf("logout: %v", err)
	}
}

// TestTwoApproverRefund: a refund above the two-approver tier is verified and sent
// for approval by a support lead, approved by one finance approver, and — with that
// first approval visible — by a second one, which starts execution.
func TestTwoApproverRefund(t *testing.T) {
	inst := start(t)
	var caseID int64
	if err := dbScalar(t, inst, `SELECT id FROM cases WHERE kind = 'refund' AND currency = 'USD' AND status = 'new'
		AND amount_minor >= 100000 AND amount_minor < 500000 ORDER BY id LIMIT 1`, &caseID); err != nil {
		t.Fatalf("no refund case in the two-approver tier among the demo calls: %v", err)
	}
	var email string
	if err := dbScalar(t, inst, `SELECT k.customer_email FROM calls k JOIN cases c ON c.call_id = k.id WHERE c.id = $1`, &email, caseID); err != nil {
		t.Fatal(err)
	}
	casePage := inst.URL + "/cases/" + itoa(caseID)
	ctx := browser(t)

	login(t, ctx, inst.URL, "sam")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(casePage),
		chromedp.WaitVisible(tid("decision-panel")),
	); err != nil {
		t.Fatalf("case page: %v", err)
	}
	if req := text(t, ctx, "requirement"); !strings.Contains(strings.ToLower(req), "two") {
		t.Errorf("requirement %q, want two approvers", req)
	}
	// When the billing system had no email on file, the support lead verifies the
	// address by calling back; otherwise the on-file address is already verified.
	needVerify, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="verify-form"]')`))
	if err != nil {
		t.Fatal(err)
	}
	if needVerify {
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS(`[data-testid="verify-form"] input[name="email"]`), email),
			chromedp.SetValue(chromedp.CSS(`[data-testid="verify-form"] select[name="method"]`), "call_back"),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="verify-form"] input[name="note"]`), "Called the number on file; customer confirmed the address"),
			chromedp.Submit(tid("verify-form")),
			chromedp.WaitVisible(tid("recipient-verified")),
		); err != nil {
			t.Fatalf("verify recipient: %v", err)
		}
	}
	if err := chromedp.Do(ctx,
		chromedp.Submit(tid("request-form")),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.WaitVisible(tid("decision-status")),
	); err != nil {
		t.Fatalf("request approval: %v", err)
	}
	screenshot(t, ctx, "decision-requested")
	if st := text(t, ctx, "decision-status"); !strings.Contains(strings.ToLower(st), "awaiting") {
		t.Fatalf("status after request %q, want awaiting approval", st)
	}
	logout(t, ctx)

	login(t, ctx, inst.URL, "fiona")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(casePage),
		chromedp.WaitVisible(tid("approve")),
		chromedp.Click(chromedp.CSS(`[data-testid="approve-confirm"] input`)),
		chromedp.Click(tid("approve")),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.WaitVisible(tid("approvals")),
	); err != nil {
		t.Fatalf("first approval: %v", err)
	}
	if st := text(t, ctx, "decision-status"); !strings.Contains(strings.ToLower(st), "awaiting") {
		t.Errorf("after one of two approvals the case should still await approval, got %q", st)
	}
	logout(t, ctx)

	login(t, ctx, inst.URL, "felix")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(casePage),
		chromedp.WaitVisible(tid("approvals")),
	); err != nil {
		t.Fatal(err)
	}
	if ap := text(t, ctx, "approvals"); !strings.Contains(ap, "Fiona") {
		t.Errorf("the second approver should see the first approval, got %q", ap)
	}
	screenshot(t, ctx, "decision-second-approver")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="approve-confirm"] input`)),
		chromedp.Click(tid("approve")),
		chromedp.Sleep(500*time.Millisecond),
		chromedp.WaitVisible(tid("decision-status")),
	); err != nil {
		t.Fatalf("second approval: %v", err)
	}
	st := strings.ToLower(text(t, ctx, "decision-status"))
	if !strings.Contains(st, "executing") && !strings.Contains(st, "done") && !strings.Contains(st, "approved") {
		t.Errorf("after the second approval the status is %q, want approved/executing/done", st)
	}
	// The approval queued the connector actions: the actions panel refreshes itself
	// until the sandbox Stripe answers, then shows the refund's id.
	var actions string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		actions, _ = chromedp.Run(ctx, chromedp.Text(tid("case-actions")))
		if strings.Contains(actions, "re_") && !strings.Contains(strings.ToLower(actions), "queued") && !strings.Contains(strings.ToLower(actions), "running") {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	screenshot(t, ctx, "decision-executed")
	if !strings.Contains(actions, "re_") {
		t.Fatalf("no Stripe refund id on the case after approval: %q", actions)
	}
	if !strings.Contains(strings.ToLower(actions), "done") {
		t.Errorf("actions did not reach done: %q", actions)
	}
	var refunds int64
	if err := dbScalar(t, inst, `SELECT count(*) FROM actions WHERE case_id = $1 AND connector = 'stripe' AND status = 'done' AND receipt_id LIKE 're_%'`, &refunds, caseID); err != nil || refunds != 1 {
		t.Errorf("done Stripe refunds with a receipt = %d (%v), want 1", refunds, err)
	}
	// The case moved to done: its Zendesk ticket follows through the outbox and its
	// own job (a note, status solved for a refund).
	var followed int64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && followed == 0; time.Sleep(200 * time.Millisecond) {
		_ = dbScalar(t, inst, `SELECT count(*) FROM audit_log WHERE action = 'ticket.updated' AND object_type = 'case'
			AND object_id = $1 AND summary->>'event' = 'done' AND summary->>'status' = 'solved'`, &followed, itoa(caseID))
	}
	if followed != 1 {
		t.Errorf("ticket updates after the case was done = %d, want 1", followed)
	}
}
