package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/models"
)

// failedCase approves a refund case and fails its Stripe action as the worker would:
// the action failed, the case needs attention. It returns the case and action ids.
func (c *decConsole) failedCase(lead, fin *http.Cookie) (string, string) {
	c.t.Helper()
	id := c.newCase(24900)
	c.do("POST", "/cases/"+id+"/request-approval", lead, url.Values{})
	if rec := c.do("POST", "/cases/"+id+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}}); rec.Code != http.StatusSeeOther {
		c.t.Fatalf("approve: %d", rec.Code)
	}
	var act int64
	c.db.Gorm.Raw(`SELECT id FROM actions WHERE case_id = ? AND connector = 'stripe'`, id).Scan(&act)
	ctx := context.Background()
	msg := "stripe: refund: permanent failure (status 400, code charge_already_refunded)"
	err := c.db.Gorm.Transaction(func(tx *gorm.DB) error {
		if err := approval.MoveActionTx(ctx, tx, act, models.ActionFailed, approval.ActionFields{LastError: &msg}, audit.Entry{}); err != nil {
			return err
		}
		cid, _ := strconv.ParseInt(id, 10, 64)
		return approval.MoveCaseTx(ctx, tx, cid, models.StatusNeedsAttention, audit.Entry{Actor: "system:jobs"})
	})
	if err != nil {
		c.t.Fatal(err)
	}
	return id, strconv.FormatInt(act, 10)
}

// TestFailedActionHandledThreeWays: a finance approver retries (back to the case),
// cancels with a reason, or marks resolved outside with evidence; the banner states
// the failure, the sidebar and dashboard count it.
func TestFailedActionHandledThreeWays(t *testing.T) {
	c := newDecConsole(t)
	lead := c.login(time.Time{}, auth.SupportLead)
	fin := c.login(time.Time{}, auth.FinanceApprover)

	id, act := c.failedCase(lead, fin)
	page := c.do("GET", "/cases/"+id+"?decided=executing", fin, nil).Body.String()
	if st := testid(page, "case-state"); !strings.Contains(st, "Needs attention") || !strings.Contains(st, "charge_already_refunded") {
		t.Errorf("banner %q, want the failure", st)
	}
	if decHasTestID(page, "decision-notice") {
		t.Error("an executing notice stands over a failed action")
	}
	if got := strings.TrimSpace(stripTags(between(page, `data-testid="count-attention"`, "</span>"))); got != "1" {
		t.Errorf("needs-attention count %q", got)
	}
	if dash := c.do("GET", "/dashboard", fin, nil).Body.String(); !strings.Contains(testid(dash, "figure-attention"), ">1<") && !strings.Contains(dash, "failed actions waiting for a person") {
		t.Errorf("no failures on the dashboard")
	}
	rec := c.do("POST", "/actions/"+act+"/retry", fin, url.Values{"back": {"/cases/" + id}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/cases/"+id+"?decided=retried" {
		t.Fatalf("retry: %d %s", rec.Code, rec.Header().Get("Location"))
	}

	id2, act2 := c.failedCase(lead, fin)
	if rec := c.do("POST", "/actions/"+act2+"/cancel", fin, url.Values{"back": {"/cases/" + id2}}); rec.Code != http.StatusBadRequest {
		t.Errorf("cancel without reason: %d", rec.Code)
	}
	rec = c.do("POST", "/actions/"+act2+"/cancel", fin, url.Values{"back": {"/cases/" + id2}, "reason": {"Customer was refunded by bank chargeback"}})
	if rec.Code != http.StatusSeeOther || c.status(id2) != "done" {
		t.Fatalf("cancel: %d %s", rec.Code, c.status(id2))
	}
	if n := c.count(`SELECT count(*) FROM actions WHERE case_id = ? AND status IN ('queued', 'failed')`, id2); n != 0 {
		t.Errorf("%d actions left queued or failed after the cancel", n)
	}

	id3, act3 := c.failedCase(lead, fin)
	rec = c.do("POST", "/actions/"+act3+"/resolve", fin, url.Values{"back": {"/cases/" + id3}, "reason": {"Refunded by hand in the Stripe dashboard"}, "evidence": {"re_manual_123"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("resolve: %d %s", rec.Code, rec.Body)
	}
	if st := c.status(id3); st != "executing" {
		t.Errorf("after resolving the failed refund the case is %s, want executing (the email and ticket go on)", st)
	}
	if n := c.count(`SELECT count(*) FROM audit_log WHERE action = 'action.resolved_outside' AND summary->>'evidence' = 're_manual_123'`); n != 1 {
		t.Errorf("resolved_outside audit entries %d", n)
	}
	if rec := c.do("POST", "/actions/"+act3+"/cancel", lead, url.Values{"reason": {"a support lead tries"}}); rec.Code != http.StatusForbidden {
		t.Errorf("support lead cancel: %d", rec.Code)
	}
}
