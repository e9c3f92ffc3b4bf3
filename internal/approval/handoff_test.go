package approval

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

// Every outgoing payload a plan builds carries the handoff summary, and none
// carries a card number even when one slipped into a stored field.
func TestPlansCarryTheHandoff(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	leaky := `{"refund_reason": "card 4242 4242 4242 4242", "dispute_reason": "Duplicate charge", "receipt_number": "R-20931",
		"promise_to_pay_date": "2026-12-05", "zendesk_ticket_id": "4711"}`
	for _, s := range []caseSpec{
		{kind: "refund", amount: ptr(24900), currency: "USD", dest: "ch_3PxAbCdEf", callEmail: "jane@example.com", onFile: "jane@example.com", fields: leaky},
		{kind: "dispute", amount: ptr(4900), currency: "USD", dest: "ch_3PxDup", callEmail: "jane@example.com", onFile: "jane@example.com", fields: leaky},
		{kind: "collections", amount: ptr(64000), currency: "GBP", dest: "INV-20577", fields: leaky},
		{kind: "document_resend", dest: "INV-20931", callEmail: "jane@example.com", onFile: "jane@example.com", fields: leaky},
		{kind: "payment_blocker", amount: ptr(540000), currency: "USD", dest: "sub_Demo1", vip: true, fields: `{}`},
	} {
		id := f.requested(s, lead)
		must(t, f.db.Gorm.Exec(`UPDATE cases SET owner = 'Finance · refunds', next_step = 'Approve it',
			record_url = 'https://cs.example/cases/' || id WHERE id = ?`, id).Error)
		ps, err := replan(ctx, f.db.Gorm, mustLoad(t, f, id), nil)
		must(t, err)
		summaries := 0
		for _, a := range ps.acts {
			raw, _ := json.Marshal(a.Params)
			text := string(raw)
			if strings.Contains(text, "4242 4242") || strings.Contains(text, "42424242") {
				t.Errorf("%s: %s/%s carries a card number: %s", s.kind, a.Connector, a.Operation, text)
			}
			if strings.Contains(text, "Caller asked:") || strings.Contains(text, "You asked us:") ||
				strings.Contains(text, "*Asked:*") || strings.Contains(text, "Owner: Finance") || strings.Contains(text, "Finance · refunds") {
				summaries++
			} else if a.Connector != "stripe" {
				t.Errorf("%s: %s/%s has no handoff summary: %s", s.kind, a.Connector, a.Operation, text)
			}
		}
		if summaries == 0 {
			t.Errorf("%s: no action carries the handoff", s.kind)
		}
	}
}

func mustLoad(t *testing.T, f *fixture, id int64) *caseData {
	t.Helper()
	c, err := loadCase(ctx, f.db.Gorm, id, false)
	must(t, err)
	return c
}

// A collections case names the open invoice and its balance.
func TestCollectionsHandoffNamesTheBalance(t *testing.T) {
	f := newFixture(t)
	id := f.newCase(caseSpec{kind: "collections", amount: ptr(64000), currency: "GBP", dest: "INV-20577"})
	must(t, f.db.Gorm.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status, due_date)
		VALUES (?, 'stripe', 'invoice', 'in_Open1', 64000, 'GBP', 'open', '2026-11-10')`, id).Error)
	sum, err := HandoffTx(ctx, f.db.Gorm, id)
	must(t, err)
	if got := sum.Internal(); !strings.Contains(got, "Verified: invoice in_Open1 is open with 640.00 GBP due on 2026-11-10") {
		t.Errorf("collections handoff: %s", got)
	}
}
