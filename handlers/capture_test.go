package handlers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
)

func TestCapturedFieldsShownAndFilterable(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	with := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", CustomerLabel: "Has capture"})
	without := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", CustomerLabel: "No capture"})
	err := h.db.Gorm.Exec(`UPDATE cases SET capture = '{"tax_region": {"value": "EU-DE", "passage": "User: we are in region EU-DE"},
		"support_ticket_link": {"value": "https://acme.zendesk.com/agent/tickets/4711"}}'::jsonb WHERE id = ?`, with).Error
	if err != nil {
		t.Fatal(err)
	}
	rec := h.get(sam, "/cases/"+strconv.FormatInt(with, 10))
	wantStatus(t, rec, http.StatusOK)
	got := testid(rec.Body.String(), "captured")
	for _, want := range []string{"Tax region", "EU-DE", "User: we are in region EU-DE", "Support ticket link",
		`href="https://acme.zendesk.com/agent/tickets/4711"`} {
		if !strings.Contains(got, want) {
			t.Errorf("captured panel lacks %q: %s", want, got)
		}
	}
	rec = h.get(sam, "/queues/refund?captured=tax_region")
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	if testid(body, "row-"+strconv.FormatInt(with, 10)) == "" || testid(body, "row-"+strconv.FormatInt(without, 10)) != "" {
		t.Errorf("captured=tax_region filter: rows wrong")
	}
}
