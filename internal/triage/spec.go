package triage

import (
	"fmt"
	"strings"
	"time"
)

// buildSpecs turns candidates into specs. Confident candidates become specs
// of their kind. Everything that must go to a human (contradictions,
// sensitive requests, and weak suspicions when nothing else is confident)
// is merged into a single Review spec, so one call opens at most one review.
func buildSpecs(cs []candidate, in Input, f fields, sig signals, refNotes []string) []Spec {
	var specs []Spec
	var forced, weakCs []candidate
	for _, c := range cs {
		switch {
		case c.forceReview:
			forced = append(forced, c)
		case c.conf < ReviewThreshold:
			weakCs = append(weakCs, c)
		default:
			specs = append(specs, newSpec(c.kind, c.kind, c.conf, c.reasons, in, f, sig))
		}
	}
	if len(specs) > 0 {
		for _, c := range weakCs {
			specs[0].Reasons = append(specs[0].Reasons, suspicion(c)...)
		}
	} else {
		forced = append(forced, weakCs...)
	}
	if len(forced) > 0 || len(specs) == 0 {
		specs = append(specs, reviewSpec(forced, in, f, sig))
	}
	for i := range specs {
		specs[i].Reasons = append(specs[i].Reasons, refNotes...)
	}
	return specs
}

func suspicion(c candidate) []string {
	if c.kind == Review {
		return c.reasons
	}
	head := fmt.Sprintf("suspected %s (confidence %.2f)", c.kind, c.conf)
	return append([]string{head}, c.reasons...)
}

func reviewSpec(cs []candidate, in Input, f fields, sig signals) Spec {
	var reasons []string
	conf, suspected := 0.0, Review
	for _, c := range cs {
		reasons = append(reasons, suspicion(c)...)
		conf = max(conf, c.conf)
		if suspected == Review && c.kind != Review {
			suspected = c.kind
		}
	}
	if len(cs) == 0 {
		reasons = []string{"unclassified: no mapped intent and no rule matched"}
	}
	return newSpec(Review, suspected, conf, reasons, in, f, sig)
}

// newSpec fills a spec of kind; like is the kind whose destination and next
// step apply (the suspected kind for a Review spec).
func newSpec(kind, like Kind, conf float64, reasons []string, in Input, f fields, sig signals) Spec {
	s := Spec{
		Kind:       kind,
		Confidence: min(1, max(0, conf)),
		Reasons:    append([]string(nil), reasons...),
		Currency:   f.text(FieldCurrency),
		VIP:        f.isTrue(FieldVIP),
		AmountText: amountFor(like, f),
	}
	s.DestinationType, s.DestinationRef = destination(like, f)
	var note string
	if s.FollowUpDeadline, note = deadline(f); note != "" {
		s.Reasons = append(s.Reasons, note)
	}
	var why []string
	s.Urgency, why = urgency(like, s, f, sig, in)
	s.Reasons = append(s.Reasons, why...)
	s.NextStep = nextStep(kind, like, s, f)
	return s
}

// amountFor is the amount in question; a collections call without an
// invoice amount falls back to the promised amount.
func amountFor(k Kind, f fields) string {
	if a := f.text(FieldAmount); a != "" || k != Collections {
		return a
	}
	return f.text(FieldPromiseToPayAmount)
}

// destinations lists, per kind, the fields that name the object in the
// billing system the case is about, best first.
var destinations = map[Kind][]string{
	Dispute:           {FieldPaymentID, FieldInvoiceNumber, FieldSubscriptionID, FieldCustomerID},
	Refund:            {FieldPaymentID, FieldInvoiceNumber, FieldSubscriptionID, FieldCustomerID},
	Collections:       {FieldInvoiceNumber, FieldSubscriptionID, FieldCustomerID, FieldPaymentID},
	DocumentResend:    {FieldReceiptNumber, FieldInvoiceNumber, FieldPaymentID, FieldCustomerID},
	BillingCorrection: {FieldCustomerID, FieldSubscriptionID, FieldInvoiceNumber},
	PaymentBlocker:    {FieldSubscriptionID, FieldCustomerID, FieldInvoiceNumber, FieldPaymentID},
	Review:            {FieldPaymentID, FieldInvoiceNumber, FieldReceiptNumber, FieldSubscriptionID, FieldCustomerID},
}

// stripePrefixes refine a payment or invoice id into the Stripe object it names.
var stripePrefixes = []struct{ prefix, typ string }{
	{"ch_", "charge"}, {"py_", "charge"}, {"pi_", "payment"}, {"in_", "invoice"},
	{"sub_", "subscription"}, {"cus_", "customer"},
}

var fieldDestType = map[string]string{
	FieldPaymentID: "payment", FieldInvoiceNumber: "invoice", FieldReceiptNumber: "receipt",
	FieldSubscriptionID: "subscription", FieldCustomerID: "customer",
}

func destination(k Kind, f fields) (typ, ref string) {
	for _, name := range destinations[k] {
		if ref = f.text(name); ref == "" {
			continue
		}
		for _, p := range stripePrefixes {
			if strings.HasPrefix(ref, p.prefix) {
				return p.typ, ref
			}
		}
		return fieldDestType[name], ref
	}
	return "", ""
}

// deadline reads follow_up_deadline, then promise_to_pay_date. An
// unparseable value is skipped with a note, never guessed.
func deadline(f fields) (*time.Time, string) {
	var note string
	for _, name := range []string{FieldFollowUpDeadline, FieldPromiseToPayDate} {
		raw := f.text(name)
		if raw == "" {
			continue
		}
		if t, ok := parseDeadline(raw); ok {
			return &t, note
		}
		if note == "" {
			note = fmt.Sprintf("%s %q is not a date or RFC 3339 time; ignored", name, raw)
		}
	}
	return nil, note
}
