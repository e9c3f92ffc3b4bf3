package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
)

// TestStepUpCarriesApprovalThrough: an approval refused for a stale sign-in is held;
// coming back from the fresh sign-in completes it with its comment, once.
func TestStepUpCarriesApprovalThrough(t *testing.T) {
	c := newDecConsole(t)
	lead := c.login(time.Time{}, auth.SupportLead)
	finID, stale := authtest.NewSession(t, c.db, c.cfg, authtest.User{Roles: []string{auth.FinanceApprover}, AuthTime: time.Now().Add(-30 * time.Minute)})
	id := c.newCase(600_000)
	c.do("POST", "/cases/"+id+"/request-approval", lead, url.Values{})
	rec := c.do("POST", "/cases/"+id+"/approve", stale, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}, "comment": {"matches the invoice"}})
	if rec.Code != http.StatusSeeOther || !strings.Contains(rec.Header().Get("Location"), url.QueryEscape("/approve/resume")) {
		t.Fatalf("step-up redirect: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	// Back with a sign-in that is still stale: nothing recorded, the page says why.
	rec = c.do("GET", "/cases/"+id+"/approve/resume", stale, nil)
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "still older than 10 minutes") {
		t.Fatalf("stale resume: %d\n%.400s", rec.Code, rec.Body)
	}
	fresh := authtest.SessionFor(t, c.db, c.cfg, finID, time.Now())
	rec = c.do("GET", "/cases/"+id+"/approve/resume", fresh, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/cases/"+id+"?decided=resumed_approved" {
		t.Fatalf("resume: %d %s\n%.400s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if n := c.count(`SELECT count(*) FROM approvals WHERE case_id = ? AND comment = 'matches the invoice' AND voided_at IS NULL`, id); n != 1 {
		t.Fatalf("approvals with the comment: %d", n)
	}
	rec = c.do("GET", "/cases/"+id+"/approve/resume", fresh, nil)
	if rec.Header().Get("Location") != "/cases/"+id+"?decided=nothing_held" {
		t.Fatalf("second resume: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	if body := c.do("GET", "/cases/"+id+"?decided=resumed_approved", fresh, nil).Body.String(); !strings.Contains(body, "Another finance approver must approve too") {
		t.Error("case page does not say what is left")
	}
}

// TestApproveNeedsConfirmationAndComment: the confirmation box is required, and a
// comment where the policy asks for one.
func TestApproveNeedsConfirmationAndComment(t *testing.T) {
	c := newDecConsole(t)
	ctx := context.Background()
	v, err := approval.CurrentPolicy(ctx, c.db.Gorm)
	if err != nil {
		t.Fatal(err)
	}
	tier := v.Rules.Currencies["USD"]
	tier.CommentAbove = 20_000
	v.Rules.Currencies["USD"] = tier
	if _, err := approval.SavePolicy(ctx, c.db.Gorm, v.Rules, approvalEntry()); err != nil {
		t.Fatal(err)
	}
	lead := c.login(time.Time{}, auth.SupportLead)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	id := c.newCase(24_900)
	c.do("POST", "/cases/"+id+"/request-approval", lead, url.Values{})
	page := c.do("GET", "/cases/"+id, fin, nil).Body.String()
	if !strings.Contains(testid(page, "approve-confirm"), "Stripe: refund 249.00 USD on charge ch_3PxAbCdEf") {
		t.Errorf("confirmation does not state money and target:\n%s", testid(page, "approve-confirm"))
	}
	if rec := c.do("POST", "/cases/"+id+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(id)}, "comment": {"ok"}}); rec.Code != http.StatusBadRequest {
		t.Errorf("approve without confirmation: %d", rec.Code)
	}
	rec := c.do("POST", "/cases/"+id+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "Add a comment") {
		t.Fatalf("approve without required comment: %d\n%.300s", rec.Code, rec.Body)
	}
	rec = c.do("POST", "/cases/"+id+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}, "comment": {"invoice double-charged"}})
	if rec.Code != http.StatusSeeOther || c.status(id) != "executing" {
		t.Fatalf("approve with comment: %d %s", rec.Code, c.status(id))
	}
}

// TestFourEyesCoversVerification: whoever verified the recipient cannot be the only
// approver; refusals of who-you-are are audited.
func TestFourEyesCoversVerification(t *testing.T) {
	c := newDecConsole(t)
	multi := c.login(time.Time{}, auth.SupportLead, auth.FinanceApprover)
	lead := c.login(time.Time{}, auth.SupportLead)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	id := c.newCaseKind("document_resend", 0)
	rec := c.do("POST", "/cases/"+id+"/plan", lead, url.Values{"recipient": {"ap@acme.example"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("edit recipient: %d %.300s", rec.Code, rec.Body)
	}
	rec = c.do("POST", "/cases/"+id+"/recipients", multi, url.Values{"email": {"ap@acme.example"}, "method": {"call_back"}, "note": {"called the number on file"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("verify: %d %.300s", rec.Code, rec.Body)
	}
	c.do("POST", "/cases/"+id+"/request-approval", lead, url.Values{})
	rec = c.do("POST", "/cases/"+id+"/approve", multi, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "verified the recipient") {
		t.Fatalf("verifier approving alone: %d\n%.300s", rec.Code, rec.Body)
	}
	if n := c.count(`SELECT count(*) FROM audit_log WHERE action = 'approval.refused' AND object_id = ?`, id); n != 1 {
		t.Errorf("approval.refused entries %d", n)
	}
	rec = c.do("POST", "/cases/"+id+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("other approver: %d %.300s", rec.Code, rec.Body)
	}
	// A support lead's reveal is refused by the route and audited.
	if rec := c.do("POST", "/cases/"+id+"/reveal", lead, url.Values{"ref": {"all"}, "reason": {"curious about it"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("lead reveal: %d", rec.Code)
	}
	if n := c.count(`SELECT count(*) FROM audit_log WHERE action = 'restricted.reveal_refused' AND object_id = ?`, id); n != 1 {
		t.Errorf("reveal_refused entries: %d", n)
	}
	// Any other refused change is audited by the route guard.
	if rec := c.do("POST", "/admin/policy", lead, url.Values{"mode": {"json"}}); rec.Code != http.StatusForbidden {
		t.Fatalf("lead policy: %d", rec.Code)
	}
	if n := c.count(`SELECT count(*) FROM audit_log WHERE action = 'access.refused' AND summary->>'path' = '/admin/policy'`); n != 1 {
		t.Errorf("access.refused entries for the policy: %d", n)
	}
}

// TestSelfApprovalRefusedAndAudited: whoever requested the approval cannot approve
// it, even holding the finance approver role; the attempt is refused with the reason
// and audited, and nothing changes.
func TestSelfApprovalRefusedAndAudited(t *testing.T) {
	c := newDecConsole(t)
	multi := c.login(time.Time{}, auth.SupportLead, auth.FinanceApprover)
	id := c.newCase(5_000)
	if rec := c.do("POST", "/cases/"+id+"/request-approval", multi, url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("request approval: %d %.300s", rec.Code, rec.Body)
	}
	before := c.status(id)
	rec := c.do("POST", "/cases/"+id+"/approve", multi, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "another finance approver must decide it") {
		t.Fatalf("self-approval: %d, want 403 saying another approver must decide\n%.300s", rec.Code, rec.Body)
	}
	if after := c.status(id); after != before {
		t.Errorf("status %s after a refused self-approval, want %s", after, before)
	}
	if n := c.count(`SELECT count(*) FROM audit_log WHERE action = 'approval.refused' AND object_id = ?`, id); n != 1 {
		t.Errorf("approval.refused entries %d, want 1", n)
	}
	if n := c.count(`SELECT count(*) FROM approvals WHERE case_id = ?::bigint`, id); n != 0 {
		t.Errorf("%d approvals recorded after a refused self-approval", n)
	}
}

func (c *decConsole) count(q string, args ...any) int64 {
	c.t.Helper()
	var n int64
	if err := c.db.Gorm.Raw(q, args...).Scan(&n).Error; err != nil {
		c.t.Fatal(err)
	}
	return n
}

// newCaseKind inserts a case of kind for customer cus_T1 with no billing email on
// file and no amount when amount is 0.
func (c *decConsole) newCaseKind(kind string, amount int64) string {
	c.t.Helper()
	var callID, id int64
	err := c.db.Gorm.Raw(`INSERT INTO calls (dialnexa_id, customer_number, customer_ref, summary)
		VALUES ('call_k' || nextval('cases_id_seq'), '+14155550142', 'cus_T1', 'Please resend the invoice.') RETURNING id`).Scan(&callID).Error
	if err == nil {
		var am *int64
		if amount > 0 {
			am = &amount
		}
		err = c.db.Gorm.Raw(`INSERT INTO cases (call_id, kind, amount_minor, currency, destination_type, destination_ref, customer_label)
			VALUES (?, ?, ?, 'USD', 'invoice', 'in_1Abc', 'Acme Ltd') RETURNING id`, callID, kind, am).Scan(&id).Error
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return strconv.FormatInt(id, 10)
}

func approvalEntry() audit.Entry {
	return audit.Entry{Actor: "test", Action: "policy.changed"}
}
