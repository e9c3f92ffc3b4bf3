package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	ct "github.com/countersign/countersign/internal/console/consoletest"
)

// TestMarkTriaged: a support lead moves a new case to triaged from the case page; the
// change is audited, the button disappears, a second try is a conflict, and an auditor
// may not do it.
func TestMarkTriaged(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", "support_lead")
	audrey := h.user("Audrey Auditor", "audrey@example.com", "auditor")
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", CustomerLabel: "Ada Lovelace"})
	page := "/cases/" + strconv.FormatInt(id, 10)

	if testid(h.get(sam, page).Body.String(), "mark-triaged") == "" {
		t.Fatal("a new case should offer Mark triaged")
	}
	wantStatus(t, h.post(audrey, page+"/triage", url.Values{"return": {page}}), http.StatusForbidden)
	rec := h.post(sam, page+"/triage", url.Values{"return": {page}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("triage: %d %s", rec.Code, rec.Body.String())
	}
	if n := h.count(`SELECT count(*) FROM cases WHERE id = ? AND status = 'triaged'`, id); n != 1 {
		t.Fatal("case not triaged")
	}
	if n := h.count(`SELECT count(*) FROM audit_log WHERE action = 'case.triaged' AND object_id = ?`, strconv.FormatInt(id, 10)); n != 1 {
		t.Fatalf("audit entries = %d, want 1", n)
	}
	if testid(h.get(sam, page).Body.String(), "mark-triaged") != "" {
		t.Fatal("a triaged case should not offer Mark triaged again")
	}
	wantStatus(t, h.post(sam, page+"/triage", url.Values{"return": {page}}), http.StatusConflict)
}
