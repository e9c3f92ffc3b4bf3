package triage

import (
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

// UrgencyNames are the levels as the console and reasons spell them.
var UrgencyNames = [...]string{"low", "normal", "high", "critical"}

// UrgencyReasonPrefix starts every reason that explains a spec's urgency, so a
// page can show them beside the level.
const UrgencyReasonPrefix = "urgency "

// Deadline windows, measured from when the call was received.
const (
	deadlineCritical = 24 * time.Hour // a promise or follow-up due within a day
	deadlineHigh     = 48 * time.Hour
	chargebackWindow = 72 * time.Hour // a chargeback whose response is due this soon is lost money
)

// highAmount is the amount, in major units, from which a case is high;
// currencies with small units get their own line.
var highAmount = map[string]int64{"JPY": 100_000, "KRW": 1_000_000, "": 1_000}

// DefaultCriticalAmounts is the line, in major units per currency ("" for any
// other currency), from which an amount alone makes a case critical
// (COUNTERSIGN_CRITICAL_AMOUNTS overrides it).
var DefaultCriticalAmounts = map[string]int64{"JPY": 1_500_000, "KRW": 15_000_000, "": 10_000}

// signals are facts read from the call's text that urgency rules need.
type signals struct {
	chargeback bool // the caller or summary speaks of a chargeback
	duplicate  bool // ... or of being charged twice
}

var (
	chargebackPhrases = []string{"chargeback", "charge back"}
	duplicatePhrases  = []string{"charged twice", "double charged", "double charge", "duplicate charge", "two charges"}
)

func readSignals(t text) signals {
	return signals{chargeback: mentionsAny(t, chargebackPhrases), duplicate: mentionsAny(t, duplicatePhrases)}
}

// urgencyRule is one written-down rule: when it applies, the case is at least
// level, for reason. The rules are listed in doc.go's order.
type urgencyRule struct {
	level   int
	reason  func(s Spec, in Input) string
	applies func(k Kind, s Spec, sig signals, in Input) bool
}

func fixed(r string) func(Spec, Input) string { return func(Spec, Input) string { return r } }

var urgencyRules = []urgencyRule{
	{UrgencyCritical, fixed("VIP customer cannot pay (payment blocker)"),
		func(k Kind, s Spec, _ signals, _ Input) bool { return k == PaymentBlocker && s.VIP }},
	{UrgencyCritical, fixed("chargeback with a response due within 72 hours"),
		func(k Kind, s Spec, sig signals, in Input) bool {
			return k == Dispute && sig.chargeback && dueWithin(s, in, chargebackWindow)
		}},
	{UrgencyCritical, fixed("deadline within 24 hours (or already past)"),
		func(_ Kind, s Spec, _ signals, in Input) bool { return dueWithin(s, in, deadlineCritical) }},
	{UrgencyCritical, func(s Spec, in Input) string {
		return "amount at or above the critical line of " + amountText(line(in.CriticalAmounts, DefaultCriticalAmounts, s.Currency), s.Currency)
	}, func(_ Kind, s Spec, _ signals, in Input) bool {
		return atLeast(s.AmountText, line(in.CriticalAmounts, DefaultCriticalAmounts, s.Currency))
	}},
	{UrgencyHigh, fixed("VIP customer"), func(_ Kind, s Spec, _ signals, _ Input) bool { return s.VIP }},
	{UrgencyHigh, fixed("payment blocker: the customer cannot pay"),
		func(k Kind, _ Spec, _ signals, _ Input) bool { return k == PaymentBlocker }},
	{UrgencyHigh, fixed("chargeback or duplicate charge"),
		func(k Kind, _ Spec, sig signals, _ Input) bool {
			return k == Dispute && (sig.chargeback || sig.duplicate)
		}},
	{UrgencyHigh, func(s Spec, _ Input) string {
		return "large amount (" + amountText(line(nil, highAmount, s.Currency), s.Currency) + " or more)"
	}, func(_ Kind, s Spec, _ signals, _ Input) bool {
		return atLeast(s.AmountText, line(nil, highAmount, s.Currency))
	}},
	{UrgencyHigh, fixed("deadline within 48 hours"),
		func(_ Kind, s Spec, _ signals, in Input) bool { return dueWithin(s, in, deadlineHigh) }},
}

// urgency is low when the call already resolved the issue and nothing awaits
// approval; otherwise the highest level any rule gives (normal when none
// applies), with one reason per rule at that level.
func urgency(k Kind, s Spec, f fields, sig signals, in Input) (int, []string) {
	if f.isTrue(FieldIssueResolved) && !f.isTrue(FieldApprovalRequired) {
		return UrgencyLow, []string{UrgencyReasonPrefix + "low: resolved on the call, nothing awaits approval"}
	}
	level, why := UrgencyNormal, []string(nil)
	for _, r := range urgencyRules {
		if r.level < level || !r.applies(k, s, sig, in) {
			continue
		}
		if r.level > level {
			level, why = r.level, nil
		}
		why = append(why, UrgencyReasonPrefix+UrgencyNames[r.level]+": "+r.reason(s, in))
	}
	if why != nil {
		return level, why
	}
	return UrgencyNormal, []string{UrgencyReasonPrefix + "normal: no rule for high or critical applies"}
}

// dueWithin reports a follow-up deadline within d of the call (or already past).
func dueWithin(s Spec, in Input, d time.Duration) bool {
	return s.FollowUpDeadline != nil && !in.ReceivedAt.IsZero() && s.FollowUpDeadline.Sub(in.ReceivedAt) <= d
}

// line is the currency's threshold in major units from lines, then defaults.
func line(lines, defaults map[string]int64, currency string) int64 {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	for _, m := range []map[string]int64{lines, defaults} {
		if v, ok := m[cur]; ok {
			return v
		}
	}
	if v, ok := lines[""]; ok {
		return v
	}
	return defaults[""]
}

func amountText(n int64, currency string) string {
	return strings.TrimSpace(strconv.FormatInt(n, 10) + " " + strings.ToUpper(strings.TrimSpace(currency)))
}

// atLeast compares the whole-unit part of the amount text with limit; no
// floats, and text that is not a plain number never reaches a line.
func atLeast(amount string, limit int64) bool {
	whole, _, _ := strings.Cut(strings.ReplaceAll(strings.TrimSpace(amount), ",", ""), ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return false
	}
	return n >= limit
}

// ParseAmountLines reads "USD=10000,JPY=1500000,default=10000" (major units per
// currency; "default" for any other currency).
func ParseAmountLines(s string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		cur, val, ok := strings.Cut(part, "=")
		n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
		if !ok || err != nil || n <= 0 {
			return nil, errAmountLine(part)
		}
		cur = strings.ToUpper(strings.TrimSpace(cur))
		if cur == "DEFAULT" {
			cur = ""
		} else if len(cur) != 3 {
			return nil, errAmountLine(part)
		}
		out[cur] = n
	}
	return out, nil
}

type errAmountLine string

func (e errAmountLine) Error() string {
	return "\"" + string(e) + "\" is not CUR=amount (a 3-letter currency or default, a whole positive number of major units)"
}
