package jobs

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/config"
)

func TestAlertRules(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	amount := func(n int64) *int64 { return &n }
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	s := &Service{opts: Options{Now: func() time.Time { return now }}}
	tests := []struct {
		name string
		c    alertCase
		want []string
	}{
		{"VIP blocker", alertCase{Kind: "payment_blocker", VIP: true, Urgency: 3}, []string{AlertVIPBlocker}},
		{"VIP blocker already sent to review", alertCase{Kind: "review", Suspected: "payment_blocker", VIP: true}, []string{AlertVIPBlocker}},
		{"urgent renewal failure", alertCase{Kind: "payment_blocker", Urgency: 2}, []string{AlertRenewalFailure}},
		{"calm renewal failure", alertCase{Kind: "payment_blocker", Urgency: 1}, nil},
		{"duplicate charge", alertCase{Kind: "dispute", Fields: `{"dispute_reason": "Duplicate charge"}`}, []string{AlertDuplicateCharge}},
		{"chargeback", alertCase{Kind: "dispute", Reasons: `["transcript mentions 'chargeback'"]`}, []string{AlertChargeback}},
		{"the urgency rule's name is not a chargeback", alertCase{Kind: "dispute",
			Reasons: `["transcript mentions 'duplicate charge'", "urgency high: chargeback or duplicate charge"]`}, []string{AlertDuplicateCharge}},
		{"plain dispute", alertCase{Kind: "dispute", Reasons: `["transcript mentions 'dispute'"]`}, nil},
		{"VIP refund is no alert", alertCase{Kind: "refund", VIP: true}, nil},
		{"deadline within 4h", alertCase{Kind: "refund", Status: "awaiting_approval", ApprovalDeadline: at(3 * time.Hour)}, []string{AlertApprovalDeadline}},
		{"deadline tomorrow", alertCase{Kind: "refund", Status: "awaiting_approval", ApprovalDeadline: at(20 * time.Hour)}, nil},
		{"large amount waiting", alertCase{Kind: "refund", Status: "awaiting_approval", AmountMinor: amount(500000), Currency: "USD"}, []string{AlertAwaitingApproval}},
		{"small amount waiting", alertCase{Kind: "refund", Status: "awaiting_approval", AmountMinor: amount(499999), Currency: "USD"}, nil},
		{"JPY line", alertCase{Kind: "refund", Status: "awaiting_approval", AmountMinor: amount(98000), Currency: "JPY"}, nil},
		{"promise date come", alertCase{Kind: "collections", Status: "new", ApprovalDeadline: at(-time.Hour)}, []string{AlertPromiseDue}},
		{"promise date ahead", alertCase{Kind: "collections", Status: "new", ApprovalDeadline: at(time.Hour)}, nil},
		{"promise of a closed case", alertCase{Kind: "collections", Status: "done", ApprovalDeadline: at(-time.Hour)}, nil},
		{"large amount not yet waiting", alertCase{Kind: "refund", Status: "new", AmountMinor: amount(900000), Currency: "USD"}, nil},
	}
	for _, tt := range tests {
		got := append(ingestReasons(tt.c), s.eventReasons(tt.c, now)...)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: reasons %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAlertTextHasImpactAndUrgency(t *testing.T) {
	n := int64(540000)
	c := alertCase{ID: 7, Kind: "payment_blocker", VIP: true, Urgency: 3, AmountMinor: &n, Currency: "USD",
		Reasons: `["urgency critical: VIP customer cannot pay (payment blocker)"]`}
	got := alertText(c, AlertVIPBlocker, "*Payment blocked — Jordan Lee (VIP)*")
	for _, want := range []string{"*VIP payment blocker*", "*Impact:* a VIP customer cannot pay (5,400.00 USD)",
		"*Urgency:* critical: VIP customer cannot pay (payment blocker)", "Jordan Lee"} {
		if !strings.Contains(got, want) {
			t.Errorf("alert text lacks %q:\n%s", want, got)
		}
	}
}

// TestEveryAlertReasonCanHaveAChannel: COUNTERSIGN_SLACK_CHANNELS accepts a channel
// for every reason an alert is raised for (it used to refuse four of them, which
// then always went to the default channel).
func TestEveryAlertReasonCanHaveAChannel(t *testing.T) {
	for reason := range alertTitles {
		if !slices.Contains(config.SlackAlertKinds, reason) {
			t.Errorf("alert reason %q cannot be given a channel: not in config.SlackAlertKinds", reason)
		}
		if alertImpacts[reason] == "" {
			t.Errorf("alert reason %q has no reviewed impact wording", reason)
		}
	}
}
