// Package demo makes realistic, varied DialNexa call events: every case kind, several
// currencies and amounts, VIP customers, unanswered collection attempts, and some
// transcripts in which a caller reads a card number aloud (so suppression shows).
// The same seed and index always give the same bytes.
package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

type person struct{ name, email, phone string }

var people = []person{
	{"Jordan Lee", "jordan.lee@example.com", "+14155550142"},
	{"Priya Raman", "priya.raman@example.com", "+14155550177"},
	{"Mateo García", "mateo.garcia@example.com", "+34911555010"},
	{"Hannah Schmidt", "hannah.schmidt@example.de", "+4930555012"},
	{"Aiko Tanaka", "aiko.tanaka@example.jp", "+81355550123"},
	{"Oliver Bennett", "oliver.bennett@example.co.uk", "+442079460958"},
	{"Fatima Khan", "fatima.khan@example.com", "+12125550198"},
	{"Lucas Martin", "lucas.martin@example.fr", "+33155550147"},
	{"Grace O'Neill", "grace.oneill@example.ie", "+35315550112"},
	{"Samuel Okafor", "samuel.okafor@example.com", "+13125550166"},
}

type scenario struct {
	intent   string
	currency string
	amounts  []float64
	build    func(r *rand.Rand, p person, amount string, ref string) (transcript, summary string, extra map[string]any)
}

var scenarios = []scenario{
	{"refund_request", "USD", []float64{49, 89.5, 249, 1200, 2499.99}, refundTalk},
	{"charge_dispute", "USD", []float64{19.99, 120, 349, 1800}, disputeTalk},
	{"receipt_resend", "EUR", []float64{79, 129}, receiptTalk},
	{"collections", "GBP", []float64{310, 640, 1275.4}, collectionsTalk},
	{"refund_request", "JPY", []float64{4800, 12000, 98000}, refundTalk},
	{"other", "USD", []float64{0}, addressTalk},
	{"payment_blocked", "USD", []float64{5400, 12500}, blockerTalk},
	{"billing_address_change", "EUR", []float64{0}, correctionTalk},
}

// cards are Luhn-valid test numbers a careless caller might read out.
var cards = []string{"4242 4242 4242 4242", "5555 5555 5555 4444", "four zero zero zero zero five six six five five six six five five five six"}

// Call returns the JSON body of call number i for seed, and its call id.
func Call(seed uint64, i int, at time.Time) (body []byte, callID string) {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	p := people[r.IntN(len(people))]
	callID = fmt.Sprintf("call_demo_%x_%06d", seed, i)
	if r.IntN(10) == 0 { // an unanswered collections attempt
		return mustJSON(map[string]any{"event_type": "call_ended", "payload": map[string]any{"call": map[string]any{
			"id": callID, "direction": "outbound", "type": "phone_call", "status": "hangup",
			"from_number": "18005550199", "to_number": strings.TrimPrefix(p.phone, "+"), "agent_id": "agent_collect3",
			"initiated_at": at.Format(time.RFC3339), "duration": 0, "hangup_reason": "user_did_not_pick_up"}}}), callID
	}
	sc := scenarios[r.IntN(len(scenarios))]
	amount := sc.amounts[r.IntN(len(sc.amounts))]
	amountText := formatAmount(amount, sc.currency)
	ref := fmt.Sprintf("INV-%05d", 20000+r.IntN(9000))
	transcript, summary, extra := sc.build(r, p, amountText, ref)
	analysis := map[string]any{"call_intent": sc.intent, "invoice_number": ref, "currency": sc.currency,
		"customer_email": p.email, "customer_name": p.name, "approval_required": amount >= 200,
		"issue_resolved": false, "customer_email_verified": r.IntN(3) > 0}
	if amount > 0 {
		analysis["amount"] = json.Number(amountText)
	}
	for k, v := range extra {
		analysis[k] = v
	}
	if sc.intent == "payment_blocked" {
		analysis["vip"] = true
	}
	return mustJSON(map[string]any{"event_type": "call_ended", "payload": map[string]any{"call": map[string]any{
		"id": callID, "direction": "inbound", "type": "phone_call", "status": "completed",
		"from_number": strings.TrimPrefix(p.phone, "+"), "to_number": "18005550199", "agent_id": "agent_billing7x2k",
		"initiated_at": at.Format(time.RFC3339), "duration": 60 + r.IntN(400),
		"transcript": transcript, "summary": summary,
		"recording_url":      "https://recordings.dialnexa.com/" + callID + ".mp3?expires=1764601331&signature=demo",
		"hangup_reason":      "user_disconnected",
		"post_call_analysis": analysis}}}), callID
}

func formatAmount(a float64, currency string) string {
	if currency == "JPY" {
		return fmt.Sprintf("%.0f", a)
	}
	return fmt.Sprintf("%.2f", a)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func maybeCard(r *rand.Rand) string {
	if r.IntN(4) != 0 {
		return ""
	}
	return " My card is " + cards[r.IntN(len(cards))] + " if you need it."
}

func refundTalk(r *rand.Rand, p person, amount, ref string) (string, string, map[string]any) {
	t := "Agent: Thanks for calling Acme billing, this is Nova. How can I help?\n" +
		"User: Hi, this is " + p.name + ". I cancelled my plan but was charged " + amount + " anyway. I'd like a refund." + maybeCard(r) + "\n" +
		"Agent: I'm sorry about that. Can you read me the invoice number?\n" +
		"User: It's " + ref + ".\n" +
		"Agent: Thank you. I've logged the refund request for our finance team; you'll get an email within two business days.\n" +
		"User: Okay, thanks."
	s := "Caller requested a refund of " + amount + " for invoice " + ref + " charged after cancellation; logged for finance approval."
	return t, s, map[string]any{"refund_reason": "Charged after cancellation"}
}

func disputeTalk(r *rand.Rand, p person, amount, ref string) (string, string, map[string]any) {
	t := "Agent: Acme billing, this is Nova.\n" +
		"User: I've been charged twice for the same invoice, " + ref + ", " + amount + " each time. I want the duplicate charge reversed." + maybeCard(r) + "\n" +
		"Agent: I can see two charges. I'll open a dispute review with finance.\n" +
		"User: Please do, and send me a statement when it's fixed."
	s := "Caller reports a duplicate charge of " + amount + " on " + ref + " and disputes the second charge."
	return t, s, map[string]any{"dispute_reason": "Duplicate charge", "payment_id": fmt.Sprintf("ch_3Demo%08d", r.IntN(1e8))}
}

// receiptTalk asks for a receipt, or (for references ending in an odd digit, so
// the random sequence of the other calls is unchanged) a copy of the invoice.
func receiptTalk(r *rand.Rand, p person, amount, ref string) (string, string, map[string]any) {
	if (ref[len(ref)-1]-'0')%2 == 1 {
		t := "Agent: Acme billing, Nova speaking.\n" +
			"User: Could you send me a copy of invoice " + ref + " again? I can't find the PDF.\n" +
			"Agent: Of course. I'll email it to the billing email on file.\n" +
			"User: Thanks, that's " + p.email + "."
		s := "Caller asked for a copy of invoice " + ref + " to be resent to the billing email on file."
		return t, s, map[string]any{"call_intent": "invoice_resend"}
	}
	t := "Agent: Acme billing, Nova speaking.\n" +
		"User: Could you resend the receipt for " + ref + "? Our accountant needs it.\n" +
		"Agent: Of course. I'll send it to the billing email on file.\n" +
		"User: Great, that's " + p.email + "."
	s := "Caller asked for the receipt for " + ref + " to be resent to the billing email on file."
	return t, s, map[string]any{"receipt_number": "R-" + ref[4:]}
}

func collectionsTalk(r *rand.Rand, p person, amount, ref string) (string, string, map[string]any) {
	due := time.Now().UTC().AddDate(0, 0, 2+r.IntN(10)).Format("2006-01-02")
	t := "Agent: Hello, this is Nova from Acme billing about the overdue invoice " + ref + " for " + amount + ".\n" +
		"User: Yes, sorry, cash flow was tight. I can pay the " + amount + " by " + due + ".\n" +
		"Agent: Thank you, I'll note your promise to pay by " + due + " and send a payment link.\n" +
		"User: That works."
	s := "Customer acknowledged overdue invoice " + ref + " and promised to pay " + amount + " by " + due + "."
	return t, s, map[string]any{"promise_to_pay": true, "promise_to_pay_amount": json.Number(amount),
		"promise_to_pay_date": due, "follow_up_deadline": due}
}

func addressTalk(r *rand.Rand, p person, amount, ref string) (string, string, map[string]any) {
	t := "Agent: Acme billing, this is Nova.\n" +
		"User: We moved offices; please change the billing address on our invoices, and our VAT number is DE123456789.\n" +
		"Agent: I'll pass the billing address change to the team."
	s := "Caller asked to change the billing address and gave a VAT number."
	return t, s, nil
}

func blockerTalk(r *rand.Rand, p person, amount, ref string) (string, string, map[string]any) {
	t := "Agent: Acme billing, Nova speaking.\n" +
		"User: This is " + p.name + ". Our renewal failed and now our payment is blocked; we're a priority account and need this fixed today.\n" +
		"Agent: I understand the urgency. I'm alerting our finance team right away."
	s := "VIP customer's renewal payment of " + amount + " failed and their account payment is blocked; urgent."
	return t, s, map[string]any{"subscription_id": fmt.Sprintf("sub_Demo%06d", r.IntN(1e6))}
}

func correctionTalk(r *rand.Rand, p person, amount, ref string) (string, string, map[string]any) {
	t := "Agent: Acme billing, this is Nova.\n" +
		"User: This is " + p.name + ". Invoice " + ref + " still shows our old billing address and company name; please correct the billing address and reissue the invoice.\n" +
		"Agent: I'll send the billing correction to the finance team and they'll reissue it."
	s := "Caller asked to correct the billing address and company name on " + ref + " and a reissued invoice."
	return t, s, map[string]any{"new_billing_address": "Hauptstraße 5, 10115 Berlin"}
}
