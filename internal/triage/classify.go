package triage

import (
	"fmt"
	"strings"
	"time"
)

// ReviewThreshold is the confidence below which a spec goes to the review
// queue instead of its suspected kind's queue.
const ReviewThreshold = 0.6

// Intent confidences: the customer's own analysis is the first source of
// truth, but a transcript that contradicts it sends the call to a human.
const (
	intentCorroborated = 0.95
	intentAlone        = 0.85
	intentContradicted = 0.45
)

// Input is one finished call, already redacted.
type Input struct {
	CallID     string
	Status     string // "completed", "hangup", ...
	Summary    string
	Transcript string         // "Agent: ...\nUser: ..." lines, already redacted
	Analysis   map[string]any // post-call analysis; numbers as json.Number or float64
	ReceivedAt time.Time
	PriorCalls int // calls from the same number in the last 30 days
	// CriticalAmounts overrides DefaultCriticalAmounts (major units per
	// currency, "" for any other); nil keeps the defaults.
	CriticalAmounts map[string]int64
}

// Spec describes one case to open.
type Spec struct {
	Kind             Kind
	Confidence       float64  // 0..1; for Review, the strongest suspicion that sent the call there
	Reasons          []string // human-readable, shown on the case page
	Urgency          int      // 0 low, 1 normal, 2 high, 3 critical
	NextStep         string
	FollowUpDeadline *time.Time // UTC
	DestinationType  string     // "invoice", "charge", "payment", "subscription", "receipt", "customer" or ""
	DestinationRef   string
	AmountText       string // the amount exactly as sent; ingest converts it with internal/money
	Currency         string // as sent
	VIP              bool
}

// Result is the classification of one call.
type Result struct {
	Specs []Spec
	// Fields are the analysis fields under our names (the Field* constants):
	// strings for text and numbers (number text as sent), bools for flags.
	Fields map[string]any
}

// candidate is a suspected kind before it becomes a spec.
type candidate struct {
	kind        Kind
	conf        float64
	reasons     []string
	forceReview bool // contradiction or sensitive request: a human decides
}

// notConnected lists statuses of calls that never reached a person.
var notConnected = map[string]bool{"hangup": true, "no_answer": true, "busy": true, "failed": true}

// Classify turns one call into case specs. It is pure: same input, same output.
func Classify(in Input, m Mapping) Result {
	f := mapFields(in.Analysis, m)
	res := Result{Fields: f}
	if notConnected[strings.ToLower(strings.TrimSpace(in.Status))] || !hasContent(in, f) {
		return res
	}
	t := newText(in.Summary, in.Transcript)
	refNotes := fillRefs(f, t)
	ev := scan(t, f.isTrue(FieldVIP))
	cands := candidates(f, m, ev)
	cands = markSensitive(cands, f, t)
	res.Specs = buildSpecs(cands, in, f, readSignals(t), refNotes)
	return res
}

func hasContent(in Input, f fields) bool {
	return strings.TrimSpace(in.Summary) != "" || strings.TrimSpace(in.Transcript) != "" || f.text(FieldIntent) != ""
}

// candidates applies the sources of truth in order: the mapped intent, then
// the text rules for everything the intent does not already cover.
func candidates(f fields, m Mapping, ev map[Kind]*evidence) []candidate {
	var out []candidate
	intent, notes := resolveIntent(f, m)
	consumed := map[Kind]bool{}
	if intent != "" {
		c := intentCandidate(intent, f.text(FieldIntent), m.Intent, ev, consumed)
		out = append(out, c)
		consumed[intent] = true
	}
	for _, k := range Kinds {
		e := ev[k]
		if e == nil || consumed[k] || (intent != "" && e.caller == 0) {
			continue // with an intent, extra cases need the caller's own words
		}
		out = append(out, candidate{kind: k, conf: e.confidence(), reasons: e.reasons})
	}
	if len(out) > 0 {
		out[0].reasons = append(notes, out[0].reasons...)
	} else if len(notes) > 0 {
		out = append(out, candidate{kind: Review, reasons: notes})
	}
	return subsume(out)
}

// resolveIntent maps the intent value to a kind; "" means no usable intent.
func resolveIntent(f fields, m Mapping) (Kind, []string) {
	raw := f.text(FieldIntent)
	if raw == "" {
		return "", nil
	}
	k, ok := m.IntentValues[strings.ToLower(raw)]
	if !ok {
		return "", []string{fmt.Sprintf("post-call analysis %s=%s is not mapped to a kind", m.Intent, raw)}
	}
	return k, nil
}

func intentCandidate(k Kind, raw, field string, ev map[Kind]*evidence, consumed map[Kind]bool) candidate {
	c := candidate{kind: k, reasons: []string{fmt.Sprintf("post-call analysis %s=%s", field, raw)}}
	if k == Review { // the customer asked for a human: text only informs it
		c.conf, c.forceReview = intentCorroborated, true
		for _, other := range Kinds {
			if e := ev[other]; e != nil {
				c.reasons = append(c.reasons, fmt.Sprintf("text suggests %s", other))
				c.reasons = append(c.reasons, e.reasons...)
				consumed[other] = true
			}
		}
		return c
	}
	if e := ev[k]; e != nil {
		c.conf = intentCorroborated
		c.reasons = append(c.reasons, e.reasons...)
		return c
	}
	for _, other := range Kinds {
		e := ev[other]
		if e == nil || other.auxiliary() || e.confidence() < ReviewThreshold {
			continue
		}
		c.conf, c.forceReview = intentContradicted, true
		c.reasons = append(c.reasons, fmt.Sprintf("but the text suggests %s, not %s", other, k))
		c.reasons = append(c.reasons, e.reasons...)
		consumed[other] = true
	}
	if !c.forceReview {
		c.conf = intentAlone
		c.reasons = append(c.reasons, "no phrase in the summary or transcript corroborates it")
	}
	return c
}

// subsume folds a refund into a dispute about the same call: the dispute
// flow already covers giving the money back.
func subsume(cs []candidate) []candidate {
	d := indexOf(cs, Dispute)
	r := indexOf(cs, Refund)
	if d < 0 || r < 0 || cs[d].conf < cs[r].conf || cs[r].forceReview {
		return cs
	}
	cs[d].reasons = append(cs[d].reasons, "refund request folded into the dispute")
	return append(cs[:r], cs[r+1:]...)
}

func indexOf(cs []candidate, k Kind) int {
	for i, c := range cs {
		if c.kind == k {
			return i
		}
	}
	return -1
}

// markSensitive sends tax-identity changes without a verified customer to
// review, and adds a review candidate for requests to redirect money or
// documents.
func markSensitive(cs []candidate, f fields, t text) []candidate {
	taxChange := mentionsAny(t, taxPhrases) || strings.Contains(strings.ToLower(f.text(FieldIntent)), "tax")
	if i := indexOf(cs, BillingCorrection); i >= 0 && taxChange && !f.isTrue(FieldCustomerEmailVerified) {
		cs[i].forceReview = true
		cs[i].reasons = append(cs[i].reasons, "sensitive request: tax id change without a verified customer")
	}
	if rs := sensitiveReasons(t); len(rs) > 0 {
		cs = append(cs, candidate{kind: Review, conf: 1, reasons: rs, forceReview: true})
	}
	return cs
}
