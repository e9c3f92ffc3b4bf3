package triage

import (
	"strings"
	"testing"
	"time"
)

func TestParseDeadline(t *testing.T) {
	tests := []struct {
		in   string
		want string // RFC 3339 UTC, "" for not a deadline
	}{
		{"2026-11-28", "2026-11-28T23:59:59Z"},
		{" 2026-11-28 ", "2026-11-28T23:59:59Z"},
		{"2026-11-28T09:30:00-05:00", "2026-11-28T14:30:00Z"},
		{"2026-11-28T09:30:00.5Z", "2026-11-28T09:30:00Z"},
		{"2026-11-28T09:30:00", "2026-11-28T09:30:00Z"},
		{"next Friday", ""},
		{"28/11/2026", ""},
	}
	for _, tt := range tests {
		got, ok := parseDeadline(tt.in)
		if (tt.want == "") != !ok || (ok && got.Format(time.RFC3339) != tt.want) {
			t.Errorf("parseDeadline(%q) = %v, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestDeadlineFields(t *testing.T) {
	collect := func(a map[string]any) Spec {
		a["call_intent"] = "collections"
		return Classify(call("", "User: I will pay by then.", a), DefaultMapping()).Specs[0]
	}
	s := collect(map[string]any{"promise_to_pay_date": "2026-12-05"})
	if fmtDeadline(s.FollowUpDeadline) != "2026-12-05T23:59:59Z" {
		t.Errorf("promise_to_pay_date fallback: %v", s.FollowUpDeadline)
	}
	s = collect(map[string]any{"follow_up_deadline": "soon", "promise_to_pay_date": "2026-12-05"})
	if fmtDeadline(s.FollowUpDeadline) != "2026-12-05T23:59:59Z" || !hasReason(s, `follow_up_deadline "soon" is not a date`) {
		t.Errorf("bad follow_up_deadline: %v %q", s.FollowUpDeadline, s.Reasons)
	}
	s = collect(map[string]any{"follow_up_deadline": "soon"})
	if s.FollowUpDeadline != nil {
		t.Errorf("unparseable deadline set: %v", s.FollowUpDeadline)
	}
}

func TestUrgency(t *testing.T) {
	refund := func() Input {
		return call("", "User: I want a refund.", map[string]any{"call_intent": "refund_request"})
	}
	tests := []struct {
		name string
		in   func() Input
		edit func(in *Input)
		want int
		why  string // a reason the spec must carry
	}{
		{"normal", refund, func(*Input) {}, UrgencyNormal, "urgency normal: no rule"},
		{"resolved without approval is low", refund, func(in *Input) { in.Analysis["issue_resolved"] = true }, UrgencyLow, "urgency low: resolved"},
		{"resolved VIP without approval is still low", refund, func(in *Input) {
			in.Analysis["issue_resolved"], in.Analysis["vip"] = true, true
		}, UrgencyLow, "urgency low"},
		{"resolved but awaiting approval stays normal", refund, func(in *Input) {
			in.Analysis["issue_resolved"] = true
			in.Analysis["approval_required"] = true
		}, UrgencyNormal, ""},
		{"VIP refund is high, not critical", refund, func(in *Input) { in.Analysis["vip"] = true }, UrgencyHigh, "urgency high: VIP customer"},
		{"large USD amount is high", refund, func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("1000.00"), "USD"
		}, UrgencyHigh, "urgency high: large amount (1000 USD or more)"},
		{"small USD amount", refund, func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("999.99"), "USD"
		}, UrgencyNormal, ""},
		{"amount at the critical line", refund, func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("10000.00"), "USD"
		}, UrgencyCritical, "urgency critical: amount at or above the critical line of 10000 USD"},
		{"configured critical line", refund, func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("2500"), "USD"
			in.CriticalAmounts = map[string]int64{"USD": 2500}
		}, UrgencyCritical, "critical line of 2500 USD"},
		{"configured line for another currency keeps the default", refund, func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("2500"), "USD"
			in.CriticalAmounts = map[string]int64{"EUR": 2500}
		}, UrgencyHigh, ""},
		{"98000 JPY is neither large nor critical", refund, func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("98000"), "JPY"
		}, UrgencyNormal, ""},
		{"deadline within 24h is critical", refund, func(in *Input) { in.Analysis["follow_up_deadline"] = "2026-11-24" }, UrgencyCritical,
			"urgency critical: deadline within 24 hours"},
		{"deadline already past is critical", refund, func(in *Input) { in.Analysis["follow_up_deadline"] = "2026-11-20" }, UrgencyCritical, ""},
		{"deadline within 48h is high", refund, func(in *Input) { in.Analysis["follow_up_deadline"] = "2026-11-25" }, UrgencyHigh,
			"urgency high: deadline within 48 hours"},
		{"deadline in 3 days", refund, func(in *Input) { in.Analysis["follow_up_deadline"] = "2026-11-27" }, UrgencyNormal, ""},
		{"deadline without receive time", refund, func(in *Input) {
			in.Analysis["follow_up_deadline"] = "2026-11-24"
			in.ReceivedAt = time.Time{}
		}, UrgencyNormal, ""},
		{"repeat calls alone are not urgent", refund, func(in *Input) { in.PriorCalls = 3 }, UrgencyNormal, ""},
		{"VIP, repeat caller and large amount stay high", refund, func(in *Input) {
			in.PriorCalls, in.Analysis["vip"] = 5, true
			in.Analysis["amount"], in.Analysis["currency"] = num("2499.99"), "USD"
		}, UrgencyHigh, "urgency high: large amount"},
		{"VIP payment blocker is critical", func() Input {
			return call("", "User: Our renewal failed and our payment is blocked.", map[string]any{"call_intent": "payment_blocked", "vip": true})
		}, func(*Input) {}, UrgencyCritical, "urgency critical: VIP customer cannot pay"},
		{"failed renewal without VIP is high", func() Input {
			return call("", "User: Our renewal failed.", map[string]any{"call_intent": "payment_blocked"})
		}, func(*Input) {}, UrgencyHigh, "urgency high: payment blocker"},
		{"duplicate charge is high", func() Input {
			return call("", "User: I was charged twice.", map[string]any{"call_intent": "charge_dispute"})
		}, func(*Input) {}, UrgencyHigh, "urgency high: chargeback or duplicate charge"},
		{"chargeback due in 3 days is critical", func() Input {
			return call("", "User: I filed a chargeback with my bank.", map[string]any{"call_intent": "charge_dispute", "follow_up_deadline": "2026-11-26"})
		}, func(*Input) {}, UrgencyCritical, "urgency critical: chargeback with a response due within 72 hours"},
		{"chargeback due in a week is high", func() Input {
			return call("", "User: I filed a chargeback with my bank.", map[string]any{"call_intent": "charge_dispute", "follow_up_deadline": "2026-12-01"})
		}, func(*Input) {}, UrgencyHigh, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in()
			tt.edit(&in)
			s := Classify(in, DefaultMapping()).Specs[0]
			if s.Urgency != tt.want || (tt.why != "" && !hasReason(s, tt.why)) {
				t.Errorf("urgency = %d, want %d with %q; reasons %q", s.Urgency, tt.want, tt.why, s.Reasons)
			}
			n := 0
			for _, r := range s.Reasons {
				if strings.HasPrefix(r, UrgencyReasonPrefix+UrgencyNames[s.Urgency]+": ") {
					n++
				}
			}
			if n == 0 {
				t.Errorf("no reason explains urgency %d: %q", s.Urgency, s.Reasons)
			}
		})
	}
}

func TestParseAmountLines(t *testing.T) {
	got, err := ParseAmountLines(" usd=5000, default=8000 ,JPY=900000")
	if err != nil || got["USD"] != 5000 || got[""] != 8000 || got["JPY"] != 900000 || len(got) != 3 {
		t.Fatalf("ParseAmountLines = %v, %v", got, err)
	}
	for _, bad := range []string{"USD", "USD=ten", "USD=-5", "DOLLARS=5", "USD=1.5"} {
		if _, err := ParseAmountLines(bad); err == nil {
			t.Errorf("ParseAmountLines(%q) accepted", bad)
		}
	}
}
