package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
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
