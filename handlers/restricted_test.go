package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/vault"
)

// A call that named a passport puts its case in restricted handling, shown on
// the case page beside what was suppressed; the mention is no "suppressed" value.
func TestCasePageShowsRestrictedHandling(t *testing.T) {
	h := newHarness(t)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "billing_correction", Summary: "New VAT id [vat].",
		Suppressed: map[string]int{"vat": 1, "passport": 1}})
	h.db.Gorm.Exec("UPDATE cases SET restricted = true WHERE id = ?", id)
	rec := h.get(fiona, "/cases/"+strconv.FormatInt(id, 10))
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	if r := testid(body, "restricted-handling"); !strings.Contains(r, "Restricted handling") || !strings.Contains(r, "passport") {
		t.Fatalf("restricted badge: %q", r)
	}
	if s := testid(body, "suppressed"); !strings.Contains(s, "1 VAT number suppressed") || strings.Contains(body, "passport suppressed") {
		t.Fatalf("suppressed badge: %q", s)
	}
	other := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", Suppressed: map[string]int{"card": 1}})
	if testid(h.get(fiona, "/cases/"+strconv.FormatInt(other, 10)).Body.String(), "restricted-handling") != "" {
		t.Fatal("a case without a private document is not restricted")
	}
}

// A support lead sees a restricted case in the queue and opens it, but the
// call's summary, transcript and fields are withheld with a notice; a finance
// approver (auth.Revealers) reads them. Every opening is audited, saying
// whether the body was withheld.
func TestRestrictedCaseBodyWithheldFromSupportLeads(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "billing_correction", Summary: "Caller sent a photo of her passport, new VAT id [vat].",
		Transcript: []ct.Turn{{Speaker: "User", Text: "I emailed you my passport scan yesterday"}},
		Suppressed: map[string]int{"vat": 1, "passport": 1}})
	h.db.Gorm.Exec("UPDATE cases SET restricted = true WHERE id = ?", id)
	path := "/cases/" + strconv.FormatInt(id, 10)

	if q := h.get(sam, "/queues/open").Body.String(); !strings.Contains(q, path) {
		t.Fatal("the restricted case is missing from the support lead's queue")
	}
	rec := h.get(sam, path)
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	if n := testid(body, "call-withheld"); !strings.Contains(n, "Withheld") {
		t.Fatalf("withheld notice: %q", n)
	}
	if strings.Contains(body, "passport scan") || strings.Contains(body, "photo of her passport") {
		t.Fatal("the support lead's page carries the call's body")
	}
	if testid(body, "restricted-handling") == "" {
		t.Fatal("the support lead should still see that the case is restricted")
	}

	body = h.get(fiona, path).Body.String()
	if testid(body, "call-withheld") != "" || !strings.Contains(body, "passport scan") || !strings.Contains(body, "photo of her passport") {
		t.Fatal("the finance approver should read the call")
	}

	var opened []string
	h.db.Gorm.Raw(`SELECT actor || ' ' || (summary->>'withheld') FROM audit_log
		WHERE action = 'restricted.case_opened' AND object_id = ? ORDER BY id`, strconv.FormatInt(id, 10)).Scan(&opened)
	if len(opened) != 2 || !strings.Contains(opened[0], "sam@") || !strings.HasSuffix(opened[0], "true") ||
		!strings.Contains(opened[1], "fiona@") || !strings.HasSuffix(opened[1], "false") {
		t.Fatalf("audited openings: %q", opened)
	}
	// An unrestricted case's opening is not audited.
	other := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund"})
	h.get(sam, "/cases/"+strconv.FormatInt(other, 10))
	var n int64
	h.db.Gorm.Raw(`SELECT count(*) FROM audit_log WHERE action = 'restricted.case_opened' AND object_id = ?`, strconv.FormatInt(other, 10)).Scan(&n)
	if n != 0 {
		t.Errorf("%d audited openings of an unrestricted case", n)
	}
}

// The decision panel's plan line for a billing correction names the new address
// and the vaulted VAT id by kind and ref; the page never carries the value.
func TestBillingCorrectionPlanLineWithoutTheTaxValue(t *testing.T) {
	h := newHarness(t)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	id := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "billing_correction", Summary: "New address and VAT id [vat].", DestinationRef: "cus_T1",
		Fields: map[string]any{"new_billing_address": "Hauptstraße 5, 10115 Berlin, DE"}, Suppressed: map[string]int{"vat": 1}})
	h.db.Gorm.Exec(`UPDATE cases SET destination_type = 'customer' WHERE id = ?`, id)
	var callID int64
	h.db.Gorm.Raw(`SELECT call_id FROM cases WHERE id = ?`, id).Scan(&callID)
	keys, err := vault.ParseKeys(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	q, args, err := keys.InsertStatement(callID, []redact.Finding{{Kind: redact.VAT, Value: "DE 978 401 563"}})
	if err != nil || h.db.Gorm.Exec(q, args...).Error != nil {
		t.Fatalf("seal: %v", err)
	}
	rec := h.get(fiona, "/cases/"+strconv.FormatInt(id, 10))
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	plan := testid(body, "planned-actions")
	if !strings.Contains(plan, "set billing address to Hauptstraße 5, 10115, Berlin, DE") || !strings.Contains(plan, "add tax id [vat] from the vault (vat-") {
		t.Fatalf("plan: %q", plan)
	}
	if strings.Contains(body, "978") {
		t.Fatal("the case page carries the VAT value")
	}
}
