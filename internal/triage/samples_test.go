package triage

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// sampleCall is the part of a DialNexa call_ended payload triage needs.
type sampleCall struct {
	Payload struct {
		Call struct {
			ID               string         `json:"id"`
			Status           string         `json:"status"`
			InitiatedAt      time.Time      `json:"initiated_at"`
			Duration         int            `json:"duration"`
			Summary          string         `json:"summary"`
			Transcript       string         `json:"transcript"`
			PostCallAnalysis map[string]any `json:"post_call_analysis"`
		} `json:"call"`
	} `json:"payload"`
}

func loadSample(t *testing.T, name string) Input {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var s sampleCall
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c := s.Payload.Call
	return Input{
		CallID:     c.ID,
		Status:     c.Status,
		Summary:    c.Summary,
		Transcript: c.Transcript,
		Analysis:   c.PostCallAnalysis,
		ReceivedAt: c.InitiatedAt.Add(time.Duration(c.Duration) * time.Second),
	}
}

func TestSamples(t *testing.T) {
	tests := []struct {
		file     string
		kinds    []Kind
		destType string
		destRef  string
		amount   string
		currency string
		urgency  int
		deadline string // RFC 3339, "" for none
		next     string
		fields   map[string]any
	}{
		{
			file: "charge-dispute.json", kinds: []Kind{Dispute},
			destType: "payment", destRef: "PAY-77311", amount: "89.0", currency: "USD",
			urgency: UrgencyHigh, deadline: "2026-11-25T23:59:59Z",
			next:   "Finance approval required: verify payment PAY-77311 and decide: refund the charge or submit dispute evidence",
			fields: map[string]any{FieldPaymentID: "PAY-77311", FieldApprovalRequired: true, FieldIssueResolved: false},
		},
		{
			file: "refund-request.json", kinds: []Kind{Refund},
			destType: "invoice", destRef: "INV-20931", amount: "249.0", currency: "USD",
			urgency: UrgencyNormal, deadline: "2026-11-26T23:59:59Z",
			next:   "Finance approval required: verify invoice INV-20931 and approve refund of 249.0 USD",
			fields: map[string]any{FieldRefundReason: "Charged for annual renewal after cancellation"},
		},
		{
			file: "receipt-resend.json", kinds: []Kind{DocumentResend},
			destType: "receipt", destRef: "RCPT-10442",
			urgency: UrgencyLow,
			next:    "Resolved on the call; confirm and close: send receipt RCPT-10442 to verified recipient",
			fields:  map[string]any{FieldCustomerEmailVerified: true, FieldIssueResolved: true},
		},
		{
			file: "collections-promise-to-pay.json", kinds: []Kind{Collections},
			destType: "invoice", destRef: "INV-20577", amount: "420.0", currency: "USD",
			urgency: UrgencyNormal, deadline: "2026-12-05T23:59:59Z",
			next:   "Record promise to pay of 210.0 USD by 2026-12-05 for invoice INV-20577 and follow up",
			fields: map[string]any{FieldPromiseToPay: true, FieldPromiseToPayAmount: "210.0", FieldPromiseToPayDate: "2026-12-05"},
		},
		{file: "no-answer.json"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := Classify(loadSample(t, tt.file), DefaultMapping())
			if got := kindsOf(res.Specs); !equalKinds(got, tt.kinds) {
				t.Fatalf("kinds = %v, want %v; specs: %+v", got, tt.kinds, res.Specs)
			}
			for k, want := range tt.fields {
				if res.Fields[k] != want {
					t.Errorf("Fields[%s] = %#v, want %#v", k, res.Fields[k], want)
				}
			}
			if len(tt.kinds) == 0 {
				return
			}
			s := res.Specs[0]
			if s.Confidence < 0.9 {
				t.Errorf("confidence = %.2f, want >= 0.9 (intent matches text); reasons %q", s.Confidence, s.Reasons)
			}
			if s.DestinationType != tt.destType || s.DestinationRef != tt.destRef {
				t.Errorf("destination = %s %s, want %s %s", s.DestinationType, s.DestinationRef, tt.destType, tt.destRef)
			}
			if s.AmountText != tt.amount || s.Currency != tt.currency {
				t.Errorf("amount = %q %q, want %q %q", s.AmountText, s.Currency, tt.amount, tt.currency)
			}
			if s.Urgency != tt.urgency {
				t.Errorf("urgency = %d, want %d; reasons %q", s.Urgency, tt.urgency, s.Reasons)
			}
			if got := fmtDeadline(s.FollowUpDeadline); got != tt.deadline {
				t.Errorf("deadline = %q, want %q", got, tt.deadline)
			}
			if s.NextStep != tt.next {
				t.Errorf("next step = %q, want %q", s.NextStep, tt.next)
			}
		})
	}
}

func kindsOf(specs []Spec) []Kind {
	var out []Kind
	for _, s := range specs {
		out = append(out, s.Kind)
	}
	return out
}

func equalKinds(a, b []Kind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fmtDeadline(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339)
}
