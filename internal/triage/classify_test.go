package triage

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var received = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// call builds a completed call; analysis values use json.Number for numbers,
// as ingest decodes them.
func call(summary, transcript string, analysis map[string]any) Input {
	return Input{CallID: "call_test", Status: "completed", Summary: summary, Transcript: transcript, Analysis: analysis, ReceivedAt: received}
}

func num(s string) json.Number { return json.Number(s) }

func hasReason(s Spec, sub string) bool {
	for _, r := range s.Reasons {
		if strings.Contains(r, sub) {
			return true
		}
	}
	return false
}

func mustMapping(t *testing.T, s string) Mapping {
	t.Helper()
	m, err := ParseMapping(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name    string
		in      Input
		mapping string // ParseMapping overrides; "" for the default
		kinds   []Kind
		check   func(t *testing.T, r Result)
	}{
		{
			name: "refund intent corroborated by text",
			in: call("Caller wants a refund for INV-1.", "Agent: Hi.\nUser: I want a refund.",
				map[string]any{"call_intent": "refund_request", "invoice_number": "INV-1", "amount": num("12.50"), "currency": "EUR"}),
			kinds: []Kind{Refund},
			check: func(t *testing.T, r Result) {
				s := r.Specs[0]
				if s.Confidence < 0.9 || s.AmountText != "12.50" || s.Currency != "EUR" || s.DestinationRef != "INV-1" {
					t.Errorf("spec = %+v", s)
				}
				if s.NextStep != "Verify invoice INV-1 and approve refund of 12.50 EUR" {
					t.Errorf("next step = %q", s.NextStep)
				}
			},
		},
		{
			name:  "dispute from rules only stays below intent confidence",
			in:    call("Caller reports a duplicate charge.", "Agent: Hi.\nUser: I was charged twice for May.", nil),
			kinds: []Kind{Dispute},
			check: func(t *testing.T, r Result) {
				if c := r.Specs[0].Confidence; c < ReviewThreshold || c >= 0.9 {
					t.Errorf("confidence = %.2f, want [0.6, 0.9)", c)
				}
			},
		},
		{
			name:  "collections from a promise in the caller's words",
			in:    call("", "Agent: Your invoice is open.\nCaller: I will pay by Friday.", nil),
			kinds: []Kind{Collections},
		},
		{
			name:  "tax form resend",
			in:    call("", "Agent: Hello.\nUser: Can you resend my W-9 please?", nil),
			kinds: []Kind{DocumentResend},
			check: func(t *testing.T, r Result) {
				if got := r.Specs[0].NextStep; got != "Verify the recipient, then send the requested document" {
					t.Errorf("next step = %q", got)
				}
			},
		},
		{
			name:  "billing address change needs no tax verification",
			in:    call("", "User: I need to change my billing address.", nil),
			kinds: []Kind{BillingCorrection},
		},
		{
			name: "VIP blocked payment is critical",
			in: call("", "User: My card was declined and I can't pay for the renewal.",
				map[string]any{"vip": true, "subscription_id": "sub_1Q2w3E4r"}),
			kinds: []Kind{PaymentBlocker},
			check: func(t *testing.T, r Result) {
				s := r.Specs[0]
				if !s.VIP || s.Urgency != UrgencyCritical || s.DestinationType != "subscription" {
					t.Errorf("spec = %+v", s)
				}
			},
		},
		{
			name:  "failed renewal is a blocker without VIP",
			in:    call("The customer's renewal failed.", "User: My renewal failed this morning.", nil),
			kinds: []Kind{PaymentBlocker},
		},
		{
			name:  "non-VIP declined card goes to review",
			in:    call("", "User: My card was declined.", nil),
			kinds: []Kind{Review},
			check: func(t *testing.T, r Result) {
				s := r.Specs[0]
				if !hasReason(s, "suspected payment_blocker") || !hasReason(s, "needs a VIP") {
					t.Errorf("reasons = %q", s.Reasons)
				}
			},
		},
		{
			name: "dispute that also asks for a receipt opens two cases",
			in: call("Caller disputes a charge and wants the receipt resent.",
				"User: I didn't authorize this charge. Also please resend the receipt.",
				map[string]any{"call_intent": "charge_dispute", "payment_id": "ch_3PxAbCdEf"}),
			kinds: []Kind{Dispute, DocumentResend},
			check: func(t *testing.T, r Result) {
				if s := r.Specs[0]; s.DestinationType != "charge" || s.DestinationRef != "ch_3PxAbCdEf" {
					t.Errorf("dispute destination = %s %s", s.DestinationType, s.DestinationRef)
				}
			},
		},
		{
			name:  "rules-only multi-case: dispute and billing correction",
			in:    call("", "User: I was charged twice. And please change my billing address.", nil),
			kinds: []Kind{Dispute, BillingCorrection},
		},
		{
			name:  "money back folds into the dispute",
			in:    call("Duplicate charge.", "User: I was charged twice and I want my money back.", nil),
			kinds: []Kind{Dispute},
			check: func(t *testing.T, r Result) {
				if !hasReason(r.Specs[0], "folded into the dispute") {
					t.Errorf("reasons = %q", r.Specs[0].Reasons)
				}
			},
		},
		{
			name: "text contradicting the intent goes to review",
			in: call("Caller says the charge was fraudulent and filed a chargeback.",
				"User: I never authorized this. My bank is doing a chargeback.",
				map[string]any{"call_intent": "refund_request"}),
			kinds: []Kind{Review},
			check: func(t *testing.T, r Result) {
				s := r.Specs[0]
				if s.Confidence >= ReviewThreshold || !hasReason(s, "suspected refund") || !hasReason(s, "suggests dispute") {
					t.Errorf("spec = %.2f %q", s.Confidence, s.Reasons)
				}
				if s.NextStep != "Decide the case kind (suspected refund) and the billing match" {
					t.Errorf("next step = %q", s.NextStep)
				}
			},
		},
		{
			name:  "intent alone, no text",
			in:    call("", "", map[string]any{"call_intent": "collections", "invoice_number": "INV-9"}),
			kinds: []Kind{Collections},
			check: func(t *testing.T, r Result) {
				if c := r.Specs[0].Confidence; c < ReviewThreshold || c >= 0.9 {
					t.Errorf("confidence = %.2f", c)
				}
			},
		},
		{
			name:  "one weak keyword alone is a review",
			in:    call("", "User: It's about my statement.", nil),
			kinds: []Kind{Review},
			check: func(t *testing.T, r Result) {
				if !hasReason(r.Specs[0], "suspected document_resend") {
					t.Errorf("reasons = %q", r.Specs[0].Reasons)
				}
			},
		},
		{
			name: "weak extra suspicion rides on the confident case",
			in: call("", "User: I want a refund, it is on my statement.",
				map[string]any{"call_intent": "refund_request"}),
			kinds: []Kind{Refund},
			check: func(t *testing.T, r Result) {
				if !hasReason(r.Specs[0], "suspected document_resend") {
					t.Errorf("reasons = %q", r.Specs[0].Reasons)
				}
			},
		},
		{
			name:  "nothing matched is an unclassified review",
			in:    call("Caller asked about opening hours.", "Agent: Hi.\nUser: When are you open?", nil),
			kinds: []Kind{Review},
			check: func(t *testing.T, r Result) {
				if !hasReason(r.Specs[0], "unclassified") {
					t.Errorf("reasons = %q", r.Specs[0].Reasons)
				}
			},
		},
		{
			name:  "hangup yields nothing even with analysis",
			in:    Input{Status: "hangup", Analysis: map[string]any{"call_intent": "collections"}},
			kinds: nil,
		},
		{
			name:  "completed call without content yields nothing",
			in:    call("  ", "\n", map[string]any{"call_intent": nil}),
			kinds: nil,
		},
		{
			name: "bank details change is sensitive",
			in: call("", "User: I want a refund, and please change my bank details to the new account.",
				map[string]any{"call_intent": "refund_request"}),
			kinds: []Kind{Refund, Review},
			check: func(t *testing.T, r Result) {
				if !hasReason(r.Specs[1], "sensitive request") {
					t.Errorf("reasons = %q", r.Specs[1].Reasons)
				}
			},
		},
		{
			name: "tax id change without verification is review",
			in: call("", "User: Our VAT number changed, please update it.",
				map[string]any{"call_intent": "tax_id_change"}),
			kinds: []Kind{Review},
			check: func(t *testing.T, r Result) {
				s := r.Specs[0]
				if !hasReason(s, "suspected billing_correction") || !hasReason(s, "tax id change without a verified customer") {
					t.Errorf("reasons = %q", s.Reasons)
				}
			},
		},
		{
			name: "tax id change with a verified customer",
			in: call("", "User: Our VAT number changed, please update it.",
				map[string]any{"call_intent": "tax_id_change", "customer_email_verified": true, "customer_id": "cus_Abc123xyz"}),
			kinds: []Kind{BillingCorrection},
			check: func(t *testing.T, r Result) {
				if s := r.Specs[0]; s.DestinationType != "customer" || s.DestinationRef != "cus_Abc123xyz" {
					t.Errorf("destination = %s %s", s.DestinationType, s.DestinationRef)
				}
			},
		},
		{
			name:  "intent other falls through to rules",
			in:    call("", "User: Could I get an invoice copy?", map[string]any{"call_intent": "other"}),
			kinds: []Kind{DocumentResend},
		},
		{
			name:  "unmapped intent value falls through with a note",
			in:    call("", "User: Please resend the invoice.", map[string]any{"call_intent": "misc_billing"}),
			kinds: []Kind{DocumentResend},
			check: func(t *testing.T, r Result) {
				if !hasReason(r.Specs[0], "call_intent=misc_billing is not mapped") {
					t.Errorf("reasons = %q", r.Specs[0].Reasons)
				}
			},
		},
		{
			name: "mapping override: field names and intent value",
			in: call("", "User: I filed a chargeback.",
				map[string]any{"reason_code": "CHARGEBACK", "claimed_amount": num("1500"), "call_intent": "refund_request", "amount": num("1")}),
			mapping: "intent=reason_code,amount=claimed_amount,intent.value.chargeback=dispute",
			kinds:   []Kind{Dispute},
			check: func(t *testing.T, r Result) {
				s := r.Specs[0]
				if s.AmountText != "1500" || s.Confidence < 0.9 || r.Fields[FieldIntent] != "CHARGEBACK" {
					t.Errorf("spec = %+v fields = %v", s, r.Fields)
				}
				if !hasReason(s, "urgency high: chargeback or duplicate charge") || !hasReason(s, "urgency high: large amount (1000 or more)") {
					t.Errorf("reasons = %q", s.Reasons)
				}
			},
		},
		{
			name:    "intent value mapped to review",
			in:      call("", "User: I want a refund.", map[string]any{"call_intent": "escalate"}),
			mapping: "intent.value.escalate=review",
			kinds:   []Kind{Review},
		},
		{
			name:  "agent lines are not the caller's request",
			in:    call("", "Agent: Would you like us to resend a receipt?\nUser: No. I want a refund.", map[string]any{"call_intent": "refund_request"}),
			kinds: []Kind{Refund},
		},
		{
			name: "summary-only extra kind is ignored when there is an intent",
			in: call("Overdue invoice; agent will resend the payment link.", "User: I can pay on the fifth.",
				map[string]any{"call_intent": "collections"}),
			kinds: []Kind{Collections},
		},
		{
			name:  "unlabelled transcript is read whole",
			in:    call("", "I was charged twice, I want a chargeback.", nil),
			kinds: []Kind{Dispute},
		},
		{
			name:  "word boundaries: undisputed is not a dispute",
			in:    call("", "User: The amount is undisputed, when are you open?", nil),
			kinds: []Kind{Review},
		},
		{
			name:  "references found in the text fill the destination",
			in:    call("Caller wants a refund for INV-1182.", "User: I want a refund for invoice INV-1182.", nil),
			kinds: []Kind{Refund},
			check: func(t *testing.T, r Result) {
				s := r.Specs[0]
				if s.DestinationType != "invoice" || s.DestinationRef != "INV-1182" || !hasReason(s, "taken from the call text") {
					t.Errorf("spec = %+v", s)
				}
			},
		},
		{
			name: "approval not required changes the refund step",
			in: call("", "User: I want a refund.",
				map[string]any{"call_intent": "refund_request", "payment_id": "pi_3PxAbCdEf", "approval_required": false}),
			kinds: []Kind{Refund},
			check: func(t *testing.T, r Result) {
				if got := r.Specs[0].NextStep; got != "Verify payment pi_3PxAbCdEf and issue refund (no approval requested)" {
					t.Errorf("next step = %q", got)
				}
			},
		},
		{
			name: "float64 and string-typed analysis values",
			in: call("", "User: I want a refund.",
				map[string]any{"call_intent": "refund_request", "amount": 249.5, "vip": "yes", "issue_resolved": num("0")}),
			kinds: []Kind{Refund},
			check: func(t *testing.T, r Result) {
				s := r.Specs[0]
				if s.AmountText != "249.5" || !s.VIP || r.Fields[FieldIssueResolved] != false {
					t.Errorf("spec = %+v fields = %v", s, r.Fields)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := DefaultMapping()
			if tt.mapping != "" {
				m = mustMapping(t, tt.mapping)
			}
			r := Classify(tt.in, m)
			if got := kindsOf(r.Specs); !equalKinds(got, tt.kinds) {
				for _, s := range r.Specs {
					t.Logf("%s %.2f %q", s.Kind, s.Confidence, s.Reasons)
				}
				t.Fatalf("kinds = %v, want %v", got, tt.kinds)
			}
			for _, s := range r.Specs {
				if s.Confidence < 0 || s.Confidence > 1 || (s.Kind != Review && s.Confidence < ReviewThreshold) {
					t.Errorf("%s confidence %.2f out of range", s.Kind, s.Confidence)
				}
				if s.Urgency < UrgencyLow || s.Urgency > UrgencyCritical {
					t.Errorf("%s urgency %d out of range", s.Kind, s.Urgency)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestCallerLines(t *testing.T) {
	tr := "Agent: Want a receipt?\nUser: No, I want\na refund.\nAgent: Resend what?\nCaller: nothing"
	if got := callerLines(tr); got != "No, I want\na refund.\nnothing\n" {
		t.Errorf("callerLines = %q", got)
	}
	if got := callerLines("just words"); got != "just words" {
		t.Errorf("unlabelled = %q", got)
	}
}

func TestSensitiveNeedsARequest(t *testing.T) {
	// Naming the bank account a charge hit is not a request to redirect money.
	r := Classify(call("", "User: I was charged twice on my bank account.", nil), DefaultMapping())
	if got := kindsOf(r.Specs); !equalKinds(got, []Kind{Dispute}) {
		t.Errorf("kinds = %v, want [dispute]", got)
	}
	r = Classify(call("", "User: Please send the refund to my new bank account.", map[string]any{"call_intent": "refund_request"}), DefaultMapping())
	if got := kindsOf(r.Specs); !equalKinds(got, []Kind{Refund, Review}) {
		t.Errorf("kinds = %v, want [refund review]", got)
	}
}
