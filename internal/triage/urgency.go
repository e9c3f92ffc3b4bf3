package triage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Urgency levels.
const (
	UrgencyLow      = 0
	UrgencyNormal   = 1
	UrgencyHigh     = 2
	UrgencyCritical = 3
)

// deadlineSoon: a follow-up due within this window of the call (or already
// past) raises urgency.
const deadlineSoon = 48 * time.Hour

// highAmount is the amount, in major units, from which a case is more
// urgent; currencies with small units get their own threshold.
var highAmount = map[string]int64{"JPY": 100_000, "KRW": 1_000_000, "": 1_000}

// raise is one urgency factor: when it applies, urgency goes up by its step
// and the reason is recorded on the spec.
type raise struct {
	applies func(k Kind, s Spec, f fields, in Input) bool
	step    int
	reason  string
}

var raises = []raise{
	{func(_ Kind, s Spec, _ fields, _ Input) bool { return s.VIP }, 1, "VIP customer"},
	{func(_ Kind, s Spec, _ fields, _ Input) bool { return isHighAmount(s.AmountText, s.Currency) }, 1, "large amount"},
	{dueSoon, 1, "follow-up due within 48 hours"},
	{func(k Kind, _ Spec, _ fields, _ Input) bool { return k == PaymentBlocker }, 1, "payment blocker: customer cannot pay"},
	{func(_ Kind, _ Spec, _ fields, in Input) bool { return in.PriorCalls >= 1 }, 1, "repeat caller"},
	{func(_ Kind, _ Spec, _ fields, in Input) bool { return in.PriorCalls >= 3 }, 1, "3+ calls in 30 days"},
}

// urgency starts at normal (low when the call already resolved the issue
// and nothing awaits approval) and applies every factor, capped at critical.
func urgency(k Kind, s Spec, f fields, in Input) (int, []string) {
	u := UrgencyNormal
	if f.isTrue(FieldIssueResolved) && !f.isTrue(FieldApprovalRequired) {
		u = UrgencyLow
	}
	var why []string
	for _, r := range raises {
		if r.applies(k, s, f, in) {
			u += r.step
			why = append(why, fmt.Sprintf("urgency +%d: %s", r.step, r.reason))
		}
	}
	return min(u, UrgencyCritical), why
}

func dueSoon(_ Kind, s Spec, _ fields, in Input) bool {
	return s.FollowUpDeadline != nil && !in.ReceivedAt.IsZero() &&
		s.FollowUpDeadline.Sub(in.ReceivedAt) <= deadlineSoon
}

// isHighAmount compares the whole-unit part of the amount text with the
// currency's threshold; no floats, and text that is not a plain number is
// never "high".
func isHighAmount(amount, currency string) bool {
	whole, _, _ := strings.Cut(strings.ReplaceAll(strings.TrimSpace(amount), ",", ""), ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return false
	}
	limit, ok := highAmount[strings.ToUpper(currency)]
	if !ok {
		limit = highAmount[""]
	}
	return n >= limit
}
