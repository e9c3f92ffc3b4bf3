package handoff

import "strings"

// template is the reviewed wording of one case kind's summary.
type template struct {
	title  string
	asked  func(in Input) string // what the caller asked for
	public string                // what the customer is told happens next
}

// templates is every kind's wording, in one place for review.
var templates = map[string]template{
	"refund": {"Refund request", func(in Input) string {
		return "a refund" + of(in.Amount) + on(in) + because(in.Fields["refund_reason"])
	}, "Approved refunds go back to your original payment method; banks usually show them within 5 to 10 business days."},
	"dispute": {"Disputed charge", func(in Input) string {
		what := "to reverse a disputed charge"
		if r := strings.ToLower(in.Fields["dispute_reason"]); strings.Contains(r, "duplicate") || strings.Contains(r, "twice") {
			what = "to reverse a duplicate charge"
		}
		return what + of(in.Amount) + on(in) + because(in.Fields["dispute_reason"])
	}, "Our finance team is reviewing the charge and will either refund it or explain it to you."},
	"collections": {"Collections follow-up", func(in Input) string {
		s := "about the open balance" + of(in.Amount) + on(in)
		if d := in.Fields["promise_to_pay_date"]; d != "" {
			s += "; promised to pay by " + d
		}
		return s
	}, "We have noted your payment plan and will send you a link to pay."},
	"document_resend": {"Document resend", func(in Input) string {
		return "to resend " + docName(in) + " to the verified billing email"
	}, "We send the document only to the billing email we have verified for your account."},
	"billing_correction": {"Billing details correction", func(in Input) string {
		return "to correct the billing details (address or tax id) of " + orUnknown(in.Customer) + "; an approval applies the address the call gave and the tax id kept encrypted in the vault to the billing system (tax values never copied into notes)"
	}, "Our billing team updates your billing details after verifying the change."},
	"payment_blocker": {"Payment blocked", func(in Input) string {
		return "to unblock a failed or blocked payment" + of(in.Amount) + on(in)
	}, "Our finance team has been alerted and is working to unblock your payment."},
	"review": {"Needs review", func(in Input) string {
		if in.Suspected != "" && in.Suspected != "review" {
			return "unclear (looks like a " + strings.ReplaceAll(in.Suspected, "_", " ") + ")" + of(in.Amount) + on(in)
		}
		return "unclear: a person decides what the call was about" + on(in)
	}, "A member of our team is reviewing your request and will get back to you."},
}

func templateOf(kind string) template {
	if t, ok := templates[kind]; ok {
		return t
	}
	return templates["review"]
}

func of(amount string) string {
	if amount == "" {
		return ""
	}
	return " of " + amount
}

func on(in Input) string {
	if in.ObjectRef == "" {
		return ""
	}
	return " on " + strings.TrimSpace(in.ObjectType+" "+in.ObjectRef)
}

func because(reason string) string {
	if reason == "" {
		return ""
	}
	return " (reason given: " + reason + ")"
}

func docName(in Input) string {
	switch {
	case in.Fields["receipt_number"] != "":
		return "receipt " + in.Fields["receipt_number"]
	case in.Fields["invoice_number"] != "":
		return "invoice " + in.Fields["invoice_number"]
	case in.ObjectRef != "":
		return strings.TrimSpace(in.ObjectType + " " + in.ObjectRef)
	}
	return "the requested document"
}
