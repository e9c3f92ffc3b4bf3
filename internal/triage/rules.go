package triage

import (
	"fmt"
	"regexp"
	"strings"
)

// Phrase weights. A kind's text confidence combines its best phrase in the
// caller's lines and its best phrase in the summary (1-(1-a)(1-b)), so one
// weak word alone stays under ReviewThreshold, a weak word in both places or
// one strong phrase passes it, and text alone never reaches intent-level
// confidence (textCap).
const (
	strong  = 0.7
	weak    = 0.45
	gated   = 0.3 // a VIP-only phrase said by a non-VIP caller
	textCap = 0.85
)

// rule is one phrase that suggests a kind. Phrases are lower case and match
// at a word start ("dispute" matches "disputes", not "undisputed").
type rule struct {
	kind    Kind
	phrase  string
	weight  float64
	vipOnly bool // payment blockers are a VIP matter unless a renewal failed
}

var rules = []rule{
	{Dispute, "charged twice", strong, false},
	{Dispute, "double charged", strong, false},
	{Dispute, "double charge", strong, false},
	{Dispute, "duplicate charge", strong, false},
	{Dispute, "two charges", strong, false},
	{Dispute, "chargeback", strong, false},
	{Dispute, "charge back", strong, false},
	{Dispute, "didn't authorize", strong, false},
	{Dispute, "did not authorize", strong, false},
	{Dispute, "never authorized", strong, false},
	{Dispute, "unauthorized charge", strong, false},
	{Dispute, "dispute", weak, false},
	{Dispute, "fraud", weak, false},

	{Refund, "money back", strong, false},
	{Refund, "want a refund", strong, false},
	{Refund, "requested a refund", strong, false},
	{Refund, "requests a refund", strong, false},
	{Refund, "refund request", strong, false},
	{Refund, "refund", weak, false},

	{Collections, "promise to pay", strong, false},
	{Collections, "promised to pay", strong, false},
	{Collections, "will pay by", strong, false},
	{Collections, "overdue", strong, false},
	{Collections, "past due", strong, false},
	{Collections, "payment plan", strong, false},
	{Collections, "collections", weak, false},
	{Collections, "outstanding balance", weak, false},

	{DocumentResend, "resend", strong, false},
	{DocumentResend, "send again", strong, false},
	{DocumentResend, "sent again", strong, false},
	{DocumentResend, "invoice copy", strong, false},
	{DocumentResend, "copy of the invoice", strong, false},
	{DocumentResend, "copy of my invoice", strong, false},
	{DocumentResend, "tax form", strong, false},
	{DocumentResend, "w-9", strong, false},
	{DocumentResend, "w9", strong, false},
	{DocumentResend, "1099", strong, false},
	{DocumentResend, "receipt", weak, false},
	{DocumentResend, "statement", weak, false},
	{DocumentResend, "payment link", weak, false},

	{BillingCorrection, "billing address", strong, false},
	{BillingCorrection, "change address", strong, false},
	{BillingCorrection, "change my address", strong, false},
	{BillingCorrection, "change the address", strong, false},
	{BillingCorrection, "tax id", strong, false},
	{BillingCorrection, "vat number", strong, false},
	{BillingCorrection, "vat id", strong, false},

	{PaymentBlocker, "renewal failed", strong, false},
	{PaymentBlocker, "failed renewal", strong, false},
	{PaymentBlocker, "renewal didn't go through", strong, false},
	{PaymentBlocker, "payment blocked", strong, true},
	{PaymentBlocker, "payment is blocked", strong, true},
	{PaymentBlocker, "card declined", strong, true},
	{PaymentBlocker, "card was declined", strong, true},
	{PaymentBlocker, "can't pay", strong, true},
	{PaymentBlocker, "cannot pay", strong, true},
	{PaymentBlocker, "unable to pay", strong, true},
}

// sensitivePhrases are requests a voice agent must never act on alone:
// redirecting money or documents is the classic social-engineering move.
var sensitivePhrases = []string{
	"bank details", "new bank account", "different bank account", "change my bank",
	"update my bank", "routing number", "iban", "sort code", "swift code",
	"direct deposit", "payout details",
	"change my email", "change the email", "update my email", "different email",
}

// taxPhrases mark a billing correction that touches tax identity; it needs
// a verified customer (customer_email_verified) or a human.
var taxPhrases = []string{"tax id", "tax number", "tax identification", "vat number", "vat id"}

// refPatterns find destination references in the text when the analysis
// left them out; the first match fills the field.
var refPatterns = []struct {
	field string
	re    *regexp.Regexp
	lits  []string // a match contains one of these: a cheap test before the regexp
}{
	{FieldPaymentID, regexp.MustCompile(`\b(?:ch|pi|py)_[0-9A-Za-z]{6,}\b|\bPAY-[0-9]+\b`), []string{"ch_", "pi_", "py_", "PAY-"}},
	{FieldInvoiceNumber, regexp.MustCompile(`\bINV-[0-9A-Z]+(?:-[0-9A-Z]+)*\b|\bin_[0-9A-Za-z]{6,}\b`), []string{"INV-", "in_"}},
	{FieldReceiptNumber, regexp.MustCompile(`\b(?:RCPT|R)-[0-9]+\b`), []string{"R-"}},
	{FieldSubscriptionID, regexp.MustCompile(`\bsub_[0-9A-Za-z]{6,}\b`), []string{"sub_"}},
	{FieldCustomerID, regexp.MustCompile(`\bcus_[0-9A-Za-z]{6,}\b`), []string{"cus_"}},
}

// text is the call's words prepared for matching.
type text struct {
	caller  string // the caller's lines, normalised
	summary string // normalised
	raw     string // summary and full transcript as sent, for references
}

var (
	callerLabels = []string{"user:", "caller:", "customer:"}
	agentLabels  = []string{"agent:", "assistant:", "bot:"}
)

func newText(summary, transcript string) text {
	return text{
		caller:  normaliseText(callerLines(transcript)),
		summary: normaliseText(summary),
		raw:     summary + "\n" + transcript,
	}
}

// callerLines keeps the caller's lines without their label; an unlabelled
// line continues the previous speaker. A transcript with no known speaker
// labels at all is taken whole.
func callerLines(transcript string) string {
	var b strings.Builder
	labelled, caller := false, false
	for line := range strings.Lines(transcript) {
		l := strings.ToLower(strings.TrimSpace(line))
		switch {
		case hasAnyPrefix(l, agentLabels):
			labelled, caller = true, false
			continue
		case hasAnyPrefix(l, callerLabels):
			labelled, caller = true, true
			_, line, _ = strings.Cut(line, ":")
		}
		if caller {
			b.WriteString(strings.TrimSpace(line))
			b.WriteString("\n")
		}
	}
	if !labelled {
		return transcript
	}
	return b.String()
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// curlyQuotes folds typographic apostrophes; built once (a Replacer compiles its
// table on first use, and this runs for every call triaged).
var curlyQuotes = strings.NewReplacer("\u2019", "'", "\u2018", "'")

func normaliseText(s string) string {
	s = strings.ToLower(s)
	s = curlyQuotes.Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// contains reports whether phrase occurs in s starting at a word boundary
// (and, for phrases ending in a digit, not followed by another digit).
func contains(s, phrase string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], phrase)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(phrase)
		if (start == 0 || !isWordByte(s[start-1])) && !(isDigit(phrase[len(phrase)-1]) && end < len(s) && isDigit(s[end])) {
			return true
		}
		i = start + 1
	}
}

func isDigit(b byte) bool    { return '0' <= b && b <= '9' }
func isWordByte(b byte) bool { return isDigit(b) || 'a' <= b && b <= 'z' || b == '_' }

// evidence is what the text says about one kind.
type evidence struct {
	caller, summary float64 // best phrase weight per source
	reasons         []string
	matched         []string // "source:phrase", to skip "refund" after "want a refund"
}

// covered reports whether a longer phrase already matched in the same
// source contains phrase (rules list the longer phrases first).
func (e *evidence) covered(source, phrase string) bool {
	for _, m := range e.matched {
		src, p, _ := strings.Cut(m, ":")
		if src == source && strings.Contains(p, phrase) {
			return true
		}
	}
	return false
}

func (e *evidence) confidence() float64 {
	return min(textCap, 1-(1-e.caller)*(1-e.summary))
}

// scan runs the rule table over the caller's lines and the summary.
func scan(t text, vip bool) map[Kind]*evidence {
	ev := map[Kind]*evidence{}
	for _, r := range rules {
		w, note := r.weight, ""
		if r.vipOnly && !vip {
			w, note = gated, " (payment blocker needs a VIP or a failed renewal)"
		}
		for _, src := range []struct {
			name string
			s    string
			best func(*evidence) *float64
		}{
			{"transcript", t.caller, func(e *evidence) *float64 { return &e.caller }},
			{"summary", t.summary, func(e *evidence) *float64 { return &e.summary }},
		} {
			if !contains(src.s, r.phrase) {
				continue
			}
			e := ev[r.kind]
			if e == nil {
				e = &evidence{}
				ev[r.kind] = e
			}
			*src.best(e) = max(*src.best(e), w)
			if !e.covered(src.name, r.phrase) {
				e.matched = append(e.matched, src.name+":"+r.phrase)
				e.reasons = append(e.reasons, fmt.Sprintf("%s mentions '%s'%s", src.name, r.phrase, note))
			}
		}
	}
	return ev
}

// sensitiveReasons lists the sensitive requests found in the text.
func sensitiveReasons(t text) []string {
	var out []string
	for _, p := range sensitivePhrases {
		if contains(t.caller, p) || contains(t.summary, p) {
			out = append(out, fmt.Sprintf("sensitive request: call mentions '%s'", p))
		}
	}
	return out
}

func mentionsAny(t text, phrases []string) bool {
	for _, p := range phrases {
		if contains(t.caller, p) || contains(t.summary, p) {
			return true
		}
	}
	return false
}

// fillRefs adds references found in the text for fields the analysis left
// empty, and says so.
func fillRefs(f fields, t text) []string {
	var reasons []string
	for _, p := range refPatterns {
		if f.text(p.field) != "" {
			continue
		}
		if !containsAny(t.raw, p.lits) {
			continue
		}
		if ref := p.re.FindString(t.raw); ref != "" {
			f[p.field] = ref
			reasons = append(reasons, fmt.Sprintf("%s %s taken from the call text", p.field, ref))
		}
	}
	return reasons
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
