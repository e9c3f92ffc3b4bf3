package triage

import (
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
	base := func() Input {
		return call("", "User: I want a refund.", map[string]any{"call_intent": "refund_request"})
	}
	tests := []struct {
		name string
		edit func(in *Input)
		want int
	}{
		{"normal", func(*Input) {}, UrgencyNormal},
		{"resolved without approval is low", func(in *Input) { in.Analysis["issue_resolved"] = true }, UrgencyLow},
		{"resolved but awaiting approval stays normal", func(in *Input) {
			in.Analysis["issue_resolved"] = true
			in.Analysis["approval_required"] = true
		}, UrgencyNormal},
		{"VIP", func(in *Input) { in.Analysis["vip"] = true }, UrgencyHigh},
		{"large USD amount", func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("1000.00"), "USD"
		}, UrgencyHigh},
		{"small USD amount", func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("999.99"), "USD"
		}, UrgencyNormal},
		{"5000 JPY is not large", func(in *Input) {
			in.Analysis["amount"], in.Analysis["currency"] = num("5000"), "JPY"
		}, UrgencyNormal},
		{"deadline within 48h", func(in *Input) { in.Analysis["follow_up_deadline"] = "2026-11-25" }, UrgencyHigh},
		{"deadline already past", func(in *Input) { in.Analysis["follow_up_deadline"] = "2026-11-20" }, UrgencyHigh},
		{"deadline in 3 days", func(in *Input) { in.Analysis["follow_up_deadline"] = "2026-11-27" }, UrgencyNormal},
		{"deadline without receive time", func(in *Input) {
			in.Analysis["follow_up_deadline"] = "2026-11-25"
			in.ReceivedAt = time.Time{}
		}, UrgencyNormal},
		{"repeat caller", func(in *Input) { in.PriorCalls = 1 }, UrgencyHigh},
		{"frequent caller", func(in *Input) { in.PriorCalls = 3 }, UrgencyCritical},
		{"capped at critical", func(in *Input) {
			in.PriorCalls = 5
			in.Analysis["vip"] = true
			in.Analysis["follow_up_deadline"] = "2026-11-24"
		}, UrgencyCritical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(&in)
			s := Classify(in, DefaultMapping()).Specs[0]
			if s.Urgency != tt.want {
				t.Errorf("urgency = %d, want %d; reasons %q", s.Urgency, tt.want, s.Reasons)
			}
		})
	}
}
