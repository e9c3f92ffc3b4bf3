package handoff

import "strings"

// template is the reviewed wording of one case kind's summary.
type template struct {
	title  string
	asked  func(in Input) string // what the caller asked for
	public string                // what the customer is told happens next
}

// templates is every kind's wording, in one place for review. Every text a
// customer or an agent reads about a case comes from here: the summary's title and
// "asked" line, the public next step (email, Zendesk), the first public Zendesk
// reply (Reply) and the replies after Stripe closes a dispute (FollowUpReply).
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
		// The amount is what the caller promised; the balance is the billing
		// system's, in what we learned.
		s := "about the open balance" + on(in)
		if d := in.Fields["promise_to_pay_date"]; d != "" {
			s += "; promised to pay"
			if in.Amount != "" {
				s += " " + in.Amount
			}
			s += " by " + d
		} else if in.Amount != "" {
			s += " (the call speaks of " + in.Amount + ")"
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

// replies are the reviewed first public Zendesk replies, by case kind. They name
// no amount, card or account detail: the email confirmation carries those. A kind
// without one gets an internal-only ticket.
var replies = map[string]string{
	"refund": "Hello,\n\nYour refund has been approved and sent to your original payment method. " +
		"You will receive a confirmation email; banks usually show the money within 5 to 10 business days.\n\n" +
		"If anything looks wrong, reply to this message.\n\nBilling team",
	"dispute": "Hello,\n\nWe have received your dispute about a charge on your account and are reviewing it " +
		"with our payment provider. We will update this ticket when there is an outcome.\n\nBilling team",
	"payment_blocker": "Hello,\n\nWe are sorry your payment could not go through. A member of our billing team " +
		"is looking into it now and will reply here shortly.\n\nBilling team",
}

// followUpReplies are the reviewed public replies after the first, by event. They
// name no amount, card or outcome detail the customer's bank has not told them.
var followUpReplies = map[string]string{
	"dispute_won": "Hello,\n\nYour card issuer has closed the dispute about this charge. " +
		"They will tell you the result directly. If you still have a question about the charge, reply to this message.\n\nBilling team",
	"dispute_lost": "Hello,\n\nYour card issuer has closed the dispute about this charge. " +
		"They will tell you the result directly. If you still have a question about the charge, reply to this message.\n\nBilling team",
}

// Reply is the reviewed first public reply for a case of kind, or "" for none.
func Reply(kind string) string { return replies[kind] }

// FollowUpReply is the reviewed public reply after event ("dispute_won",
// "dispute_lost"), or "" for none.
func FollowUpReply(event string) string { return followUpReplies[event] }
