package handoff

import (
	"strings"
	"testing"
	"time"
)

func refund() Input {
	d := time.Date(2026, 11, 26, 23, 59, 59, 0, time.UTC)
	return Input{CaseID: 11, Kind: "refund", CallRef: "call_rf7k2m9q4xbt", Customer: "Jordan Lee",
		CallSummary: "Caller requested a refund of USD 249 for invoice INV-20931.", Amount: "249.00 USD",
		ObjectType: "invoice", ObjectRef: "INV-20931", StripeID: "in_123", Owner: "Finance · refunds",
		NextStep: "Approve refund", Deadline: &d, Fields: map[string]string{"refund_reason": "Charged after cancellation"},
		Verified: []string{"amount matches (249.00 USD)"}, CaseURL: "https://cs.example/cases/11",
		StripeDashboard: "https://dashboard.stripe.com/test"}
}

func TestInternalCarriesEveryPart(t *testing.T) {
	got := Build(refund()).Internal()
	for _, want := range []string{
		"Refund request — Jordan Lee · Countersign case 11",
		"Caller asked: a refund of 249.00 USD on invoice INV-20931 (reason given: Charged after cancellation)",
		"- Call: Caller requested a refund",
		"- Verified: amount matches (249.00 USD)",
		"Affected object: invoice INV-20931 (in_123)",
		"Owner: Finance · refunds",
		"Next step: Approve refund",
		"Deadline: 2026-11-26 23:59 UTC",
		"Case: https://cs.example/cases/11",
		"Transcript: https://cs.example/cases/11#call-h",
		"Stripe: https://dashboard.stripe.com/test/invoices/in_123",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("internal summary lacks %q:\n%s", want, got)
		}
	}
}

func TestPublicHasNoInternals(t *testing.T) {
	got := Build(refund()).Public()
	if !strings.Contains(got, "You asked us: a refund of 249.00 USD") || !strings.Contains(got, "case 11") {
		t.Errorf("public: %s", got)
	}
	for _, never := range []string{"Finance · refunds", "https://", "Verified"} {
		if strings.Contains(got, never) {
			t.Errorf("public reply carries %q: %s", never, got)
		}
	}
}

func TestEveryKindHasATemplate(t *testing.T) {
	for _, k := range []string{"refund", "dispute", "collections", "document_resend", "billing_correction", "payment_blocker", "review"} {
		in := refund()
		in.Kind = k
		s := Build(in)
		if _, ok := templates[k]; !ok || s.Asked == "" || s.Title == "" {
			t.Errorf("%s: %+v", k, s)
		}
	}
}

func TestNoRestrictedValueLeaves(t *testing.T) {
	in := refund()
	in.CallSummary = "Card 4242 4242 4242 4242, IBAN DE89370400440532013000, VAT DE123456788"
	in.Fields["refund_reason"] = "charged on 4242424242424242"
	in.Problems = []string{"caller gave SSN [ssn •••• 6789]"}
	s := Build(in)
	for name, out := range map[string]string{"internal": s.Internal(), "public": s.Public(), "slack": s.Slack()} {
		for _, v := range []string{"4242", "3000", "6789"} {
			if strings.Contains(out, v) {
				t.Errorf("%s summary leaks %s: %s", name, v, out)
			}
		}
	}
	for _, c := range s.Row() {
		if strings.Contains(c.(string), "4242") {
			t.Errorf("row leaks a card number: %v", c)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := Build(refund()), Build(refund())
	if a.Internal() != b.Internal() {
		t.Error("two builds of the same case differ")
	}
}

func TestStripeURL(t *testing.T) {
	for ref, want := range map[string]string{
		"ch_1": "https://dashboard.stripe.com/payments/ch_1", "re_9": "https://dashboard.stripe.com/refunds/re_9",
		"INV-20931": "", "ch_": "",
	} {
		if got := StripeURL("https://dashboard.stripe.com", ref); got != want {
			t.Errorf("StripeURL(%q) = %q, want %q", ref, got, want)
		}
	}
}
