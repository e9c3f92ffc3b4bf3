package approval

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/auth"
)

// A dispute case whose charge has an open Stripe dispute plans the evidence (staged,
// then submitted as its own line before due_by), never a refund Stripe would refuse;
// a refund case on a disputed charge cannot be planned at all.
func TestDisputePlanAnswersTheStripeDispute(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	due := time.Now().Add(96 * time.Hour).UTC().Truncate(time.Second)
	id := f.newCase(caseSpec{kind: "dispute", amount: ptr(1999), currency: "USD", dest: "ch_3DemoDisputed",
		fields: `{"dispute_reason": "Duplicate charge"}`})
	must(t, f.db.Gorm.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status, disputed, due_date)
		VALUES (?, 'stripe', 'charge', 'ch_3DemoDisputed', 1999, 'USD', 'succeeded', true, NULL),
		       (?, 'stripe', 'dispute', 'dp_Demo1', 1999, 'USD', 'needs_response', true, ?)`, id, id, due).Error)
	if _, err := f.svc.RequestApproval(context.Background(), lead, id, ""); err != nil {
		t.Fatal(err)
	}
	var ops []string
	must(t, f.db.Gorm.Raw(`SELECT connector || '/' || operation FROM actions WHERE case_id = ? ORDER BY position`, id).Scan(&ops).Error)
	if got := strings.Join(ops, " "); !strings.HasPrefix(got, "stripe/stage_evidence stripe/submit_evidence ") || strings.Contains(got, "refund") {
		t.Errorf("plan %q, want staged then submitted evidence and no refund", got)
	}
	var params string
	must(t, f.db.Gorm.Raw(`SELECT params::text FROM actions WHERE case_id = ? AND operation = 'submit_evidence'`, id).Scan(&params).Error)
	if !strings.Contains(params, due.Format(time.RFC3339)) {
		t.Errorf("submit params %s, want due_by %s", params, due.Format(time.RFC3339))
	}

	refund := f.newCase(caseSpec{kind: "refund", amount: ptr(1999), currency: "USD", dest: "ch_3DemoDisputed2"})
	must(t, f.db.Gorm.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, disputed)
		VALUES (?, 'stripe', 'charge', 'ch_3DemoDisputed2', 1999, 'USD', true)`, refund).Error)
	_, err := f.svc.RequestApproval(context.Background(), lead, refund, "")
	if !errors.Is(err, apperr.ErrValidation) || !strings.Contains(err.Error(), "disputed at Stripe") {
		t.Errorf("refund on a disputed charge: %v, want a validation error", err)
	}
}
