package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// TestEditAfterFailure: a finance approver who did not approve the case opens
// "Edit and ask again" from the failed case, saves a smaller amount, and the case
// awaits approval again, in the first approver's list and not in the editor's.
func TestEditAfterFailure(t *testing.T) {
	c := newDecConsole(t)
	lead := c.login(time.Time{}, auth.SupportLead)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	editor := c.login(time.Time{}, auth.FinanceApprover)
	id, _ := c.failedCase(lead, fin)

	page := c.do("GET", "/cases/"+id, editor, nil).Body.String()
	if !strings.Contains(testid(page, "replan-link"), `href="/cases/`+id+`/replan"`) {
		t.Fatalf("no Edit and ask again on the failed case: %s", testid(page, "decision-panel"))
	}
	for _, who := range []*http.Cookie{c.login(time.Time{}, auth.Auditor), c.login(time.Time{}, auth.Admin)} {
		if rec := c.do("GET", "/cases/"+id+"/replan", who, nil); rec.Code != http.StatusForbidden {
			t.Errorf("replan page for a role that may not edit: %d", rec.Code)
		}
		if rec := c.do("POST", "/cases/"+id+"/replan", who, url.Values{"amount": {"200.00"}, "reason": {"not mine"}, "checked": {"yes"}}); rec.Code != http.StatusForbidden {
			t.Errorf("replan post for a role that may not edit: %d", rec.Code)
		}
	}
	rec := c.do("GET", "/cases/"+id+"/replan", editor, nil)
	wantStatus(t, rec, http.StatusOK)
	form := testid(rec.Body.String(), "replan-form")
	if !strings.Contains(form, `value="249.00"`) || !strings.Contains(form, `value="ch_3PxAbCdEf"`) {
		t.Errorf("editor not prefilled with the plan: %s", form)
	}
	if eff := testid(rec.Body.String(), "replan-effects"); !strings.Contains(eff, "Stripe: refund 249.00 USD") || !strings.Contains(rec.Body.String(), "void the approvals given by") {
		t.Errorf("effects %s", eff)
	}

	// Unchecked: refused, nothing changed, the typed reason kept.
	rec = c.do("POST", "/cases/"+id+"/replan", editor, url.Values{"amount": {"200.00"}, "reason": {"Customer agreed to 200 on a call back"}})
	wantStatus(t, rec, http.StatusBadRequest)
	if !strings.Contains(testid(rec.Body.String(), "flash"), "checked the failed actions had no effect") ||
		!strings.Contains(rec.Body.String(), "Customer agreed to 200 on a call back</textarea>") || !strings.Contains(rec.Body.String(), `value="200.00"`) {
		t.Errorf("refusal page: %s", testid(rec.Body.String(), "replan-form"))
	}
	if c.status(id) != "needs_attention" {
		t.Fatalf("a refused edit moved the case to %s", c.status(id))
	}

	// A cross-site POST is refused before the handler (CSRF).
	req := httptest.NewRequest("POST", "/cases/"+id+"/replan", strings.NewReader(url.Values{"amount": {"1.00"}, "reason": {"forged request"}, "checked": {"yes"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(editor)
	cross := httptest.NewRecorder()
	c.h.ServeHTTP(cross, req)
	if cross.Code != http.StatusForbidden || c.status(id) != "needs_attention" {
		t.Fatalf("cross-site post: %d, case %s", cross.Code, c.status(id))
	}

	rec = c.do("POST", "/cases/"+id+"/replan", editor, url.Values{"amount": {"200.00"}, "currency": {"USD"}, "destination": {"ch_3PxAbCdEf"},
		"reason": {"Customer agreed to 200 on a call back"}, "checked": {"yes"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/cases/"+id+"?decided=replanned" {
		t.Fatalf("save: %d %s %.400s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
	}
	if c.status(id) != "awaiting_approval" {
		t.Fatalf("after the edit the case is %s", c.status(id))
	}
	page = c.do("GET", "/cases/"+id+"?decided=replanned", editor, nil).Body.String()
	if st := testid(page, "case-state"); !strings.Contains(st, "Plan edited by") || !strings.Contains(st, "after a failure; awaiting approval again") {
		t.Errorf("banner %q", st)
	}
	if !strings.Contains(testid(page, "timeline"), "edited the plan after a failure and asked for approval again") {
		t.Errorf("timeline %s", testid(page, "timeline"))
	}
	if decHasTestID(page, "approve-form") || !strings.Contains(testid(page, "why-not-approve"), "You requested or changed this case") {
		t.Error("the editor may approve their own edit")
	}
	if body := c.do("GET", "/approvals", fin, nil).Body.String(); !decHasTestID(body, "awaiting-"+id) {
		t.Error("the re-planned case is not in the first approver's Awaiting my approval")
	}
	if body := c.do("GET", "/approvals", editor, nil).Body.String(); decHasTestID(body, "awaiting-"+id) {
		t.Error("the editor's own edit is in their Awaiting my approval")
	}
}

// TestEditAfterFailureRefusedWhenDone: the refund went through and the email
// after it failed: the page says why the plan cannot be edited, shows no form,
// and a POST changes nothing (409).
func TestEditAfterFailureRefusedWhenDone(t *testing.T) {
	c := newDecConsole(t)
	lead := c.login(time.Time{}, auth.SupportLead)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	id := c.newCase(24900)
	c.do("POST", "/cases/"+id+"/request-approval", lead, url.Values{})
	if rec := c.do("POST", "/cases/"+id+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d", rec.Code)
	}
	cid, _ := strconv.ParseInt(id, 10, 64)
	ctx := context.Background()
	err := c.db.Gorm.Transaction(func(tx *gorm.DB) error {
		var refund, email int64
		tx.Raw(`SELECT id FROM actions WHERE case_id = ? AND connector = 'stripe'`, cid).Scan(&refund)
		tx.Raw(`SELECT id FROM actions WHERE case_id = ? AND connector = 'email'`, cid).Scan(&email)
		rid, msg := "re_3Done", "smtp: mailbox unavailable (550)"
		for _, m := range []struct {
			id int64
			to models.ActionStatus
			f  approval.ActionFields
		}{{refund, models.ActionRunning, approval.ActionFields{}}, {refund, models.ActionDone, approval.ActionFields{ReceiptID: &rid}},
			{email, models.ActionNeedsAttention, approval.ActionFields{LastError: &msg}}} {
			if err := approval.MoveActionTx(ctx, tx, m.id, m.to, m.f, audit.Entry{}); err != nil {
				return err
			}
		}
		return approval.MoveCaseTx(ctx, tx, cid, models.StatusNeedsAttention, audit.Entry{Actor: "system:jobs"})
	})
	if err != nil {
		t.Fatal(err)
	}
	editor := c.login(time.Time{}, auth.SupportLead)
	body := c.do("GET", "/cases/"+id+"/replan", editor, nil).Body.String()
	if r := testid(body, "replan-refusal"); !strings.Contains(r, "is done (receipt re_3Done)") || !strings.Contains(r, "follow-up case") || decHasTestID(body, "replan-form") {
		t.Errorf("refusal %q (form shown: %v)", r, decHasTestID(body, "replan-form"))
	}
	rec := c.do("POST", "/cases/"+id+"/replan", editor, url.Values{"amount": {"100.00"}, "reason": {"Refund less"}, "checked": {"yes"}})
	wantStatus(t, rec, http.StatusConflict)
	if c.status(id) != "needs_attention" || c.count(`SELECT count(*) FROM actions WHERE case_id = ? AND connector = 'stripe' AND status <> 'cancelled'`, id) != 1 {
		t.Error("a refused edit changed the case or planned the refund again")
	}
}
