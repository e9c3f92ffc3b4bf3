package triage

import (
	"fmt"
	"strings"
)

// nextSteps says what a person does next for each kind. Each entry gets the
// destination phrase ("invoice INV-1182") and the spec's facts.
var nextSteps = map[Kind]func(dest string, s Spec, f fields) string{
	Dispute: func(dest string, _ Spec, _ fields) string {
		return "Verify " + dest + " and decide: refund the charge or submit dispute evidence"
	},
	Refund: func(dest string, s Spec, f fields) string {
		return "Verify " + dest + " and approve refund" + amountPhrase(s.AmountText, s.Currency)
	},
	Collections: func(dest string, s Spec, f fields) string {
		if f.isTrue(FieldPromiseToPay) {
			return "Record promise to pay" + amountPhrase(f.text(FieldPromiseToPayAmount), s.Currency) +
				datePhrase(f.text(FieldPromiseToPayDate)) + " for " + dest + " and follow up"
		}
		return "Follow up with the customer on " + dest
	},
	DocumentResend: func(dest string, _ Spec, f fields) string {
		if f.isTrue(FieldCustomerEmailVerified) {
			return "Send " + dest + " to verified recipient"
		}
		return "Verify the recipient, then send " + dest
	},
	BillingCorrection: func(dest string, _ Spec, _ fields) string {
		return "Verify the customer, then update billing details for " + dest
	},
	PaymentBlocker: func(dest string, _ Spec, _ fields) string {
		return "Alert finance in Slack and open a high-priority ticket for " + dest
	},
}

// nextStep builds the step for like (the suspected kind of a Review spec),
// then adjusts for approval_required and issue_resolved.
func nextStep(kind, like Kind, s Spec, f fields) string {
	if kind == Review {
		if like == Review {
			return "Decide the case kind and the billing match"
		}
		return fmt.Sprintf("Decide the case kind (suspected %s) and the billing match", like)
	}
	step := nextSteps[kind](destPhrase(kind, s), s, f)
	approval, approvalSet := f.flag(FieldApprovalRequired)
	switch {
	case f.isTrue(FieldIssueResolved) && !approval:
		return "Resolved on the call; confirm and close: " + lowerFirst(step)
	case approval:
		return "Finance approval required: " + lowerFirst(step)
	case approvalSet && kind == Refund:
		return strings.Replace(step, "approve refund", "issue refund (no approval requested)", 1)
	}
	return step
}

var genericDest = map[Kind]string{
	Dispute:           "the disputed charge",
	Refund:            "the charge",
	Collections:       "the open balance",
	DocumentResend:    "the requested document",
	BillingCorrection: "the customer",
	PaymentBlocker:    "the customer",
}

func destPhrase(k Kind, s Spec) string {
	if s.DestinationRef == "" {
		return genericDest[k]
	}
	return s.DestinationType + " " + s.DestinationRef
}

func amountPhrase(amount, currency string) string {
	if amount == "" {
		return ""
	}
	return strings.TrimRight(" of "+amount+" "+currency, " ")
}

func datePhrase(d string) string {
	if d == "" {
		return ""
	}
	return " by " + d
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
