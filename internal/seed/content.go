package seed

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// kindContent is what a call of one kind sounds like: summaries and short transcripts
// whose {amount}, {ref} and {name} placeholders are filled per call.
type kindContent struct {
	intent    string
	summaries []string
	agent     []string
	caller    [][]string // alternative caller lines, in conversation order
	closing   []string
}

var content = map[string]kindContent{
	"dispute": {
		intent: "dispute",
		summaries: []string{
			"Caller disputes a charge of {amount} on {ref}; says it was billed twice this month.",
			"Customer does not recognise the {amount} charge ({ref}) and is considering a chargeback.",
			"Caller reports a duplicate charge of {amount} for the same invoice {ref}.",
		},
		agent: []string{"Thanks for calling billing, how can I help?", "I can see the charge. Can you confirm the amount?"},
		caller: [][]string{
			{"I was charged twice for the same invoice.", "There's a charge on my card I don't recognise.", "You billed me {amount} again after I cancelled."},
			{"It's {amount}, reference {ref}.", "The amount is {amount}.", "Yes, {amount} on {ref}."},
		},
		closing: []string{"I've opened a dispute review; finance will confirm within two business days."},
	},
	"refund": {
		intent: "refund",
		summaries: []string{
			"Caller requests a refund of {amount} for {ref}; service was not delivered.",
			"Customer asks for a refund of {amount} on {ref} after cancelling within the trial.",
			"Refund request for {amount} ({ref}); product returned last week.",
		},
		agent: []string{"Hello, you're through to accounts. What can I do for you?", "Understood. Which invoice is this about?"},
		caller: [][]string{
			{"I'd like a refund please, I cancelled before renewal.", "I need my money back for last month.", "The order never arrived, I want a refund."},
			{"It's {ref}, {amount}.", "Invoice {ref}, the amount was {amount}.", "{ref}. {amount} in total."},
		},
		closing: []string{"I've submitted the refund request for approval; you'll get an email once it's processed."},
	},
	"collections": {
		intent: "collections",
		summaries: []string{
			"Outbound collections call about overdue invoice {ref} ({amount}); customer promised to pay by the end of next week.",
			"Customer acknowledges the open balance of {amount} on {ref} and asks for a payment plan.",
			"Reminder call for {ref}; {amount} overdue; customer says payment was sent yesterday.",
		},
		agent: []string{"Hi, I'm calling about an overdue balance on your account.", "Can we agree on a date for the payment?"},
		caller: [][]string{
			{"Yes, sorry, it slipped through.", "I thought that was already paid.", "Money is tight this month."},
			{"I can pay {amount} by Friday.", "Can I split {amount} over two months?", "I'll send it next week."},
		},
		closing: []string{"Thank you, I've noted the promise to pay and we'll follow up."},
	},
	"document_resend": {
		intent: "invoice_resend",
		summaries: []string{
			"Caller asks for a copy of invoice {ref} to be sent to their accounts payable email.",
			"Customer needs the receipt for {ref} for an expense report.",
			"Request to resend the annual statement and invoice {ref}.",
		},
		agent: []string{"Good morning, billing support.", "Which document do you need, and where should it go?"},
		caller: [][]string{
			{"Could you resend invoice {ref}?", "I need a receipt for my last payment.", "Our finance team never got the invoice."},
			{"To the email on file, please.", "Please send it to our accounts payable address.", "The usual address is fine."},
		},
		closing: []string{"I'll send it to the verified address on your account."},
	},
	"billing_correction": {
		intent: "billing_update",
		summaries: []string{
			"Caller needs the billing address of customer {ref} corrected after moving offices.",
			"Customer asks to add a VAT number and correct the company name on future invoices.",
			"Tax details on the latest invoice are wrong; caller requests a corrected invoice for {ref}.",
		},
		agent: []string{"Thanks for calling. How can I help with your account?", "I can help with that. What needs to change?"},
		caller: [][]string{
			{"Our address on the invoices is out of date.", "The company name is wrong on the invoice.", "We need our tax ID on the invoices."},
			{"The new address is in the email I sent.", "Please reissue the last invoice with the correct details.", "It should say the new legal name."},
		},
		closing: []string{"I've raised a billing correction; a specialist will verify and update it."},
	},
	"payment_blocker": {
		intent: "payment_failed",
		summaries: []string{
			"VIP customer's renewal payment of {amount} failed; account at risk of suspension.",
			"Caller cannot pay {ref}: card declined repeatedly; service is blocked for their team.",
			"Failed renewal on {ref} ({amount}); customer needs access restored today.",
		},
		agent: []string{"Hello, I see there's an issue with your subscription.", "I'm sorry about that. Let me check the payment."},
		caller: [][]string{
			{"Our renewal failed and the whole team is locked out.", "My card keeps getting declined.", "We can't log in since the payment failed."},
			{"It's {amount} for the annual plan.", "Please fix it today, we have a deadline.", "Subscription {ref}."},
		},
		closing: []string{"I'm escalating this to finance right now as a priority."},
	},
	"review": {
		intent: "other",
		summaries: []string{
			"Caller asked several billing questions; intent unclear.",
			"Customer mentioned a charge and a document but gave no reference.",
			"Short call about the account; caller wants someone to call back.",
		},
		agent: []string{"Hi, how can I help today?", "Could you tell me a bit more?"},
		caller: [][]string{
			{"I'm not sure, something about my bill.", "I had a question about a payment and an invoice.", "Someone told me to call this number."},
			{"Can someone call me back?", "I don't have the number with me.", "I'll check and get back to you."},
		},
		closing: []string{"I'll pass this to the team to review."},
	},
}

// fill replaces the placeholders of s.
func fill(s, amount, ref, name string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	return strings.NewReplacer("{amount}", amount, "{ref}", ref, "{name}", name).Replace(s)
}

// transcript builds a short alternating conversation as (jsonb text, plain text).
func transcript(r *rand.Rand, kc kindContent, amount, ref, name string, hangup bool) (string, string) {
	var turns [][2]string
	turns = append(turns, [2]string{"agent", kc.agent[0]})
	turns = append(turns, [2]string{"caller", fill(pick(r, kc.caller[0]...), amount, ref, name)})
	if !hangup {
		turns = append(turns, [2]string{"agent", kc.agent[1]})
		turns = append(turns, [2]string{"caller", fill(pick(r, kc.caller[1]...), amount, ref, name)})
		turns = append(turns, [2]string{"agent", pick(r, kc.closing...)})
	}
	var js, txt strings.Builder
	js.WriteByte('[')
	at := 0
	for i, t := range turns {
		if i > 0 {
			js.WriteByte(',')
			txt.WriteByte('\n')
		}
		js.WriteString(`{"speaker":"`)
		js.WriteString(t[0])
		js.WriteString(`","text":`)
		js.WriteString(jsonString(t[1]))
		js.WriteString(`,"at":"`)
		js.WriteString(strconv.Itoa(at))
		js.WriteString(`"}`)
		at += 4 + r.IntN(20)
		if t[0] == "agent" {
			txt.WriteString("Agent: ")
		} else {
			txt.WriteString("Caller: ")
		}
		txt.WriteString(t[1])
	}
	js.WriteByte(']')
	return js.String(), txt.String()
}

// jsonString quotes s as a JSON string (the generated text is plain; this still
// escapes quotes, backslashes and control characters properly).
func jsonString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&0xf])
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsonObject writes flat key/value pairs (values already JSON) as an object.
func jsonObject(kv ...string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(kv[i]))
		b.WriteByte(':')
		b.WriteString(kv[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

func jsonArray(items ...string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonString(s))
	}
	b.WriteByte(']')
	return b.String()
}
