package approval

import (
	"context"
	"testing"

	"github.com/countersign/countersign/internal/testdb"
)

// The default policy (migration version 1) at threshold − 1, threshold and
// threshold + 1 minor units.
func TestDefaultPolicyThresholds(t *testing.T) {
	db := testdb.New(t)
	v, err := CurrentPolicy(context.Background(), db.Gorm)
	if err != nil {
		t.Fatal(err)
	}
	if v.ID != 1 {
		t.Fatalf("current policy = %d, want the seeded version 1", v.ID)
	}
	tests := []struct {
		cur       string
		amount    int64
		approvals int
		stepUp    bool
	}{
		// USD: < 100.00 automatic, < 1,000.00 one, >= two; step-up above 5,000.00.
		{"USD", 9_999, 0, false}, {"USD", 10_000, 1, false}, {"USD", 10_001, 1, false},
		{"USD", 99_999, 1, false}, {"USD", 100_000, 2, false}, {"USD", 100_001, 2, false},
		{"USD", 499_999, 2, false}, {"USD", 500_000, 2, false}, {"USD", 500_001, 2, true},
		{"EUR", 9_999, 0, false}, {"GBP", 100_000, 2, false},
		// JPY (no minor unit): < 10,000 / < 100,000 / >=; step-up above 500,000.
		{"JPY", 9_999, 0, false}, {"JPY", 10_000, 1, false}, {"JPY", 10_001, 1, false},
		{"JPY", 99_999, 1, false}, {"JPY", 100_000, 2, false}, {"JPY", 100_001, 2, false},
		{"JPY", 499_999, 2, false}, {"JPY", 500_000, 2, false}, {"JPY", 500_001, 2, true},
		// A currency without policy: two approvers and step-up, whatever the amount.
		{"CHF", 1, 2, true}, {"CHF", 9_999, 2, true}, {"CHF", 10_000, 2, true}, {"CHF", 10_001, 2, true},
	}
	for _, tt := range tests {
		got := v.Rules.Require(Facts{Kind: "refund", AmountMinor: ptr(tt.amount), Currency: tt.cur, ClaimVerified: true})
		if got.Approvals != tt.approvals || got.StepUp != tt.stepUp {
			t.Errorf("%s %d: approvals %d step-up %v, want %d %v (%v)", tt.cur, tt.amount, got.Approvals, got.StepUp, tt.approvals, tt.stepUp, got.Reasons)
		}
	}
}

func TestAlwaysHuman(t *testing.T) {
	r, err := ParseRules([]byte(`{"currencies":{"USD":{"automatic_below":10000,"one_approver_below":100000,"step_up_above":500000}},
		"always_human_kinds":["dispute","billing_correction"],"no_amount_approvals":1,"step_up_minutes":10}`))
	if err != nil {
		t.Fatal(err)
	}
	small := ptr(100)
	tests := []struct {
		name string
		f    Facts
		want int
	}{
		{"verified small refund", Facts{Kind: "refund", AmountMinor: small, Currency: "USD", ClaimVerified: true}, 0},
		{"unverified claim", Facts{Kind: "refund", AmountMinor: small, Currency: "USD"}, 1},
		{"dispute", Facts{Kind: "dispute", AmountMinor: small, Currency: "USD", ClaimVerified: true}, 1},
		{"billing correction", Facts{Kind: "billing_correction", AmountMinor: small, Currency: "USD", ClaimVerified: true}, 1},
		{"vip", Facts{Kind: "refund", AmountMinor: small, Currency: "USD", ClaimVerified: true, VIP: true}, 1},
		{"unverified recipient", Facts{Kind: "document_resend", ClaimVerified: true, RecipientUnverified: true}, 1},
		{"no amount", Facts{Kind: "payment_blocker", ClaimVerified: true}, 1},
	}
	for _, tt := range tests {
		if got := r.Require(tt.f); got.Approvals != tt.want {
			t.Errorf("%s: approvals %d, want %d (%v)", tt.name, got.Approvals, tt.want, got.Reasons)
		}
	}
}

func TestParseRulesRefusesBadPolicy(t *testing.T) {
	for name, js := range map[string]string{
		"unknown field":    `{"currencies":{"USD":{"automatic_below":1,"one_approver_below":2,"step_up_above":3}},"no_amount_approvals":1,"step_up_minutes":10,"typo":1}`,
		"auto above one":   `{"currencies":{"USD":{"automatic_below":5,"one_approver_below":2,"step_up_above":3}},"no_amount_approvals":1,"step_up_minutes":10}`,
		"unknown currency": `{"currencies":{"XXQ":{"automatic_below":1,"one_approver_below":2,"step_up_above":3}},"no_amount_approvals":1,"step_up_minutes":10}`,
		"no currencies":    `{"currencies":{},"no_amount_approvals":1,"step_up_minutes":10}`,
		"bad kind":         `{"currencies":{"USD":{"automatic_below":1,"one_approver_below":2,"step_up_above":3}},"always_human_kinds":["nope"],"no_amount_approvals":1,"step_up_minutes":10}`,
		"zero approvals":   `{"currencies":{"USD":{"automatic_below":1,"one_approver_below":2,"step_up_above":3}},"no_amount_approvals":0,"step_up_minutes":10}`,
	} {
		if _, err := ParseRules([]byte(js)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
