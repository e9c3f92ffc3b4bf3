package sandbox

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/demo"
	"github.com/countersign/countersign/internal/money"
)

// safeRef strips what cannot be part of a Stripe id from a reference.
var safeRef = regexp.MustCompile(`[^A-Za-z0-9]`)

// demoClaim is what a demo call's post-call analysis claims.
type demoClaim struct {
	Intent       string      `json:"call_intent"`
	Invoice      string      `json:"invoice_number"`
	Currency     string      `json:"currency"`
	Amount       json.Number `json:"amount"`
	Email        string      `json:"customer_email"`
	Name         string      `json:"customer_name"`
	PaymentID    string      `json:"payment_id"`
	Subscription string      `json:"subscription_id"`
	Receipt      string      `json:"receipt_number"`
}

// What the sandbox account holds for a claim, picked from the reference so the
// same demo data always gives the same spread. Most claims match; the rest are
// what a real account shows on its first day.
type fate int

const (
	matches        fate = iota
	unknown             // the billing system has no such invoice or charge
	otherAmount         // the caller misremembers the amount
	refundedBefore      // the charge was already refunded in full
)

func fateOf(ref string) fate {
	sum := sha256.Sum256([]byte(ref))
	switch sum[0] % 10 {
	case 0:
		return unknown
	case 1, 2:
		return otherAmount
	case 3:
		return refundedBefore
	}
	return matches
}

// chargedBack picks, from the reference, the disputed charges that also have a
// chargeback at Stripe (about half).
func chargedBack(ref string) bool {
	sum := sha256.Sum256([]byte(ref))
	return sum[1]%2 == 0
}

// otherEmail: one demo customer's billing email on file is not the one they give
// on calls, so their claims show an email mismatch.
const otherEmail = "samuel.okafor@example.com"

// seedAccount fills the Stripe fake from the claims of the first n demo calls of
// seed: customers, paid invoices with their charges, open invoices for collections,
// disputed charges with their Stripe disputes, past-due subscriptions. It is a
// small real account, not an echo of the callers: some references are unknown,
// some amounts differ, some charges are already refunded, one customer's billing
// email differs.
func (s *Sandbox) SeedAccount(seed uint64, n int, now time.Time) {
	f := s.Stripe
	customers := map[string]string{}
	for i := range n {
		body, _ := demo.Call(seed, i, now)
		var ev struct {
			Payload struct {
				Call struct {
					Analysis *demoClaim `json:"post_call_analysis"`
				} `json:"call"`
			} `json:"payload"`
		}
		if json.Unmarshal(body, &ev) != nil || ev.Payload.Call.Analysis == nil {
			continue
		}
		c := ev.Payload.Call.Analysis
		cus, ok := customers[c.Email]
		if !ok && c.Email != "" {
			email := c.Email
			if email == otherEmail {
				email = "accounts@okafor-holdings.example"
			}
			cus = f.AddCustomer(stripefake.Customer{ID: "cus_Demo" + safeRef.ReplaceAllString(strings.Split(c.Email, "@")[0], ""),
				Email: email, Name: c.Name, Currency: strings.ToLower(c.Currency)})
			customers[c.Email] = cus
		}
		s.seedClaim(c, cus, now)
	}
}

func (s *Sandbox) seedClaim(c *demoClaim, cus string, now time.Time) {
	f := s.Stripe
	amount, err := money.ParseMajor(c.Amount.String(), c.Currency)
	if err != nil || amount.Minor <= 0 {
		return
	}
	ref := c.Invoice
	if c.PaymentID != "" {
		ref = c.PaymentID
	}
	fa := fateOf(ref)
	if fa == unknown {
		return
	}
	onFile := amount.Minor
	if fa == otherAmount {
		onFile += amount.Minor / 4 // the invoice was for more than the caller says
	}
	cur := strings.ToLower(c.Currency)
	email := f.CustomerEmail(cus)
	if c.Intent == "payment_blocked" && strings.HasPrefix(c.Subscription, "sub_") {
		f.AddSubscription(stripefake.Subscription{ID: c.Subscription, Customer: cus, Status: "past_due", Currency: cur})
	}
	inv := "in_Demo" + safeRef.ReplaceAllString(c.Invoice, "")
	if c.Intent == "collections" {
		f.AddInvoice(stripefake.Invoice{ID: inv, Number: c.Invoice, Customer: cus, CustomerEmail: email, CustomerName: c.Name, Currency: cur,
			Status: "open", AmountDue: onFile, DueDate: now.AddDate(0, 0, -14).Truncate(24 * time.Hour)})
		return
	}
	// Stripe numbers a charge's receipt once it has sent one: the number the caller
	// quotes, when they quote one.
	charge := stripefake.Charge{ID: "ch_Demo" + safeRef.ReplaceAllString(c.Invoice, ""), Amount: onFile, Currency: cur,
		Customer: cus, Email: email, Name: c.Name, ReceiptNumber: c.Receipt, Created: now.AddDate(0, 0, -20).Unix()}
	if c.PaymentID != "" {
		// Some callers also filed a chargeback with their bank: Stripe holds a
		// dispute on the charge, which can then no longer be refunded.
		charge.ID, charge.Disputed = c.PaymentID, chargedBack(c.PaymentID)
	}
	if fa == refundedBefore {
		charge.AmountRefunded = onFile
	}
	// Stripe collects an invoice with a payment intent: the invoice payment names
	// the intent, whose latest_charge is this charge.
	charge.PaymentIntent = "pi_" + strings.TrimPrefix(charge.ID, "ch_")
	ch := f.AddCharge(charge)
	f.AddInvoice(stripefake.Invoice{ID: inv, Number: c.Invoice, Customer: cus, CustomerEmail: email, CustomerName: c.Name, Currency: cur,
		Status: "paid", AmountDue: onFile, AmountPaid: onFile})
	s.linkCharge(inv, ch)
	if charge.Disputed {
		f.AddDispute(stripefake.Dispute{ID: "dp_Demo" + strings.TrimPrefix(ch, "ch_3Demo"), Charge: ch, Currency: cur,
			Amount: onFile, Reason: "duplicate", DueBy: now.AddDate(0, 0, 7).Truncate(time.Hour)})
	}
}

// DisputeEvents are charge.dispute.created events for the account's open
// disputes, as Stripe would send them; dev posts them to its own webhook so the
// dispute cases and their deadlines show.
func (s *Sandbox) DisputeEvents(now time.Time) [][]byte {
	if s.Stripe == nil {
		return nil
	}
	var out [][]byte
	for _, d := range s.Stripe.DisputeObjects() {
		b, _ := json.Marshal(map[string]any{"id": fmt.Sprintf("evt_sandbox_%s", d["id"]), "object": "event",
			"type": "charge.dispute.created", "created": now.Unix(), "livemode": false,
			"data": map[string]any{"object": d}})
		out = append(out, b)
	}
	return out
}
