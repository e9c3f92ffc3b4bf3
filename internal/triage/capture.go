package triage

import (
	"net/url"
	"strings"
)

// Captured is one field of the brief's capture list, typed, with the transcript
// passage it came from ("" when the analysis gave it and no line says it).
type Captured struct {
	Value   string `json:"value"`
	Passage string `json:"passage,omitempty"`
}

// CaptureFields is the brief's capture list, in display order, then a
// collections promise to pay (amount and date, typed).
var CaptureFields = []string{FieldTaxRegion, FieldFinanceOwner, FieldEscalationReason, FieldCreditRequest,
	FieldCallbackExpected, FieldCRMLink, FieldSupportTicketLink, FieldPaymentLink, FieldPromiseToPayAmount,
	FieldPromiseToPayDate}

// CaptureLabels name the capture fields for people.
var CaptureLabels = map[string]string{
	FieldTaxRegion: "Tax region", FieldFinanceOwner: "Finance owner", FieldEscalationReason: "Escalation reason",
	FieldCreditRequest: "Credit request", FieldCallbackExpected: "Callback expected", FieldCRMLink: "CRM link",
	FieldSupportTicketLink: "Support ticket link", FieldPaymentLink: "Payment-platform link",
	FieldPromiseToPayAmount: "Promised amount", FieldPromiseToPayDate: "Promised by",
}

var linkFields = map[string]bool{FieldCRMLink: true, FieldSupportTicketLink: true, FieldPaymentLink: true}

// callbackPhrases in the caller's own lines mean they expect a call back.
var callbackPhrases = []string{"call me back", "call back", "callback", "ring me back", "get back to me"}

// escalationPhrases in the caller's lines are an escalation when the analysis
// names no reason.
var escalationPhrases = []string{"speak to a manager", "talk to a manager", "supervisor", "escalate", "complaint"}

// Capture reads the capture list from a classified call: the mapped analysis
// fields (links only when they are http(s) URLs), then the caller's words for a
// callback or an escalation. Passages are the first transcript line naming the
// value.
func Capture(in Input, fs map[string]any) map[string]Captured {
	f := fields(fs)
	out := map[string]Captured{}
	lines := strings.Split(in.Transcript, "\n")
	for _, name := range CaptureFields {
		var v string
		if name == FieldCallbackExpected {
			if b, ok := f.flag(name); ok {
				v = map[bool]string{true: "yes", false: "no"}[b]
			}
		} else {
			v = f.text(name)
		}
		if v == "" || (linkFields[name] && !isURL(v)) {
			continue
		}
		raw := v
		if name == FieldPromiseToPayDate {
			d, ok := parseDeadline(v)
			if !ok {
				continue // not a date: never guessed
			}
			v = d.Format("2006-01-02")
		}
		if name == FieldPromiseToPayAmount && f.text(FieldCurrency) != "" {
			v += " " + strings.ToUpper(f.text(FieldCurrency))
		}
		out[name] = Captured{Value: v, Passage: passage(lines, raw)}
	}
	// Only the caller's words count here: the summary is not normalised for nothing.
	t := text{caller: normaliseText(callerLines(in.Transcript))}
	if _, ok := out[FieldCallbackExpected]; !ok && mentionsAny(text{caller: t.caller}, callbackPhrases) {
		out[FieldCallbackExpected] = Captured{Value: "yes", Passage: passageOf(lines, callbackPhrases)}
	}
	if _, ok := out[FieldEscalationReason]; !ok && mentionsAny(text{caller: t.caller}, escalationPhrases) {
		p := passageOf(lines, escalationPhrases)
		out[FieldEscalationReason] = Captured{Value: "caller asked to escalate", Passage: p}
	}
	return out
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// passage is the first transcript line containing v (case-insensitive).
func passage(lines []string, v string) string {
	if len(v) < 2 || v == "yes" || v == "no" {
		return ""
	}
	lv := strings.ToLower(v)
	for _, l := range lines {
		if strings.Contains(strings.ToLower(l), lv) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// passageOf is the first caller line with one of the phrases.
func passageOf(lines, phrases []string) string {
	for _, l := range lines {
		ll := strings.ToLower(l)
		if !strings.HasPrefix(ll, "user:") && !strings.HasPrefix(ll, "caller:") && !strings.HasPrefix(ll, "customer:") {
			continue
		}
		for _, p := range phrases {
			if strings.Contains(ll, p) {
				return strings.TrimSpace(l)
			}
		}
	}
	return ""
}
