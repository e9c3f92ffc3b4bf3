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

// In serve a connector without credentials is off: a plan that needs it cannot be
// approved, by a person or by the automatic policy, and the refusal says why.
func TestPlanNeedingAnOffConnectorCannotBeApproved(t *testing.T) {
	f := newFixture(t)
	f.svc.ConnectorMode = func(name string) string {
		if name == "stripe" {
			return "off"
		}
		return "real"
	}
	lead, approver := f.user(time.Time{}, auth.SupportLead), f.user(time.Time{}, auth.FinanceApprover)
	id := f.requested(refundSpec(50000), lead)
	_, err := f.svc.Approve(context.Background(), approver, id, f.fp(id))
	if !errors.Is(err, apperr.ErrValidation) || !strings.Contains(err.Error(), "stripe connector, which is off") {
		t.Fatalf("approve with Stripe off: %v, want a validation error naming the connector", err)
	}
	if st := f.status(id); st != "awaiting_approval" {
		t.Errorf("status %q, want awaiting_approval", st)
	}
	small := f.requested(refundSpec(500), lead) // below the automatic threshold
	if st := f.status(small); st != "awaiting_approval" {
		t.Errorf("automatic approval with Stripe off: status %q, want awaiting_approval", st)
	}
	f.svc.ConnectorMode = func(string) string { return "sandbox" }
	if _, err := f.svc.Approve(context.Background(), approver, id, f.fp(id)); err != nil {
		t.Fatalf("approve with Stripe sandboxed: %v", err)
	}
}
