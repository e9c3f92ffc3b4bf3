package sandbox

import (
	"strings"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/connector/tokenmetrics/tmfake"
)

// SeedDemo gives the Stripe fake the objects the shared sample calls refer to, so
// claim checks and refunds work end to end in dev: INV-20931 (249.00 USD, paid by a
// payment intent, as Stripe invoices are, Jordan Lee's email on file), INV-20577 (420.00 USD, open), the disputed
// payment PAY-77311 (89.00 USD), and a few crypto tokens.
func (s *Sandbox) SeedDemo() {
	if f := s.Stripe; f != nil {
		cus := f.AddCustomer(stripefake.Customer{ID: "cus_SandboxJordan", Email: "jordan.lee@example.com", Name: "Jordan Lee", Currency: "usd"})
		ch := f.AddCharge(stripefake.Charge{ID: "ch_SandboxINV20931", PaymentIntent: "pi_SandboxINV20931", Amount: 24900, Currency: "usd",
			Customer: cus, Email: "jordan.lee@example.com", Name: "Jordan Lee", ReceiptNumber: "R-20931"})
		in := f.AddInvoice(stripefake.Invoice{ID: "in_SandboxINV20931", Number: "INV-20931", Customer: cus, CustomerName: "Jordan Lee",
			CustomerEmail: "jordan.lee@example.com", Currency: "usd", Status: "paid", AmountDue: 24900, AmountPaid: 24900})
		s.linkCharge(in, ch)
		f.AddInvoice(stripefake.Invoice{ID: "in_SandboxINV20577", Number: "INV-20577", Customer: cus, CustomerName: "Jordan Lee",
			CustomerEmail: "jordan.lee@example.com", Currency: "usd", Status: "open", AmountDue: 42000,
			DueDate: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)})
		f.AddCharge(stripefake.Charge{ID: "ch_SandboxPAY77311", Amount: 8900, Currency: "usd", Customer: cus, Email: "jordan.lee@example.com"})
	}
	if t := s.TokenMetrics; t != nil {
		t.AddToken(tmfake.Token{ID: 3375, Symbol: "BTC", Name: "Bitcoin", Price: "67012.45"})
		t.AddToken(tmfake.Token{ID: 3306, Symbol: "ETH", Name: "Ethereum", Price: "3512.80"})
		t.AddToken(tmfake.Token{ID: 3408, Symbol: "USDC", Name: "USD Coin", Price: "1.0001"})
	}
}

// linkCharge records that chargeID paid invoiceID in full: the fake lists it as
// the invoice's paid invoice payment, which is how the connector finds an
// invoice's charge (and which a credit note's refund must belong to). The
// sandbox also keeps the link for accounts saved before the fake held it.
func (s *Sandbox) linkCharge(invoiceID, chargeID string) {
	s.mu.Lock()
	s.charges[invoiceID] = chargeID
	s.mu.Unlock()
	s.Stripe.LinkInvoiceCharge(invoiceID, chargeID)
}

// AddPaidInvoice puts one invoice, paid in full by its own charge, for the customer
// with email into the sandbox account; it returns the invoice id. Tests and seeds
// use it to state what the ledger holds: the sandbox never learns billing objects
// from what a caller claims.
func (s *Sandbox) AddPaidInvoice(number, email string, amountMinor int64, currency string) string {
	f := s.Stripe
	cur := strings.ToLower(currency)
	ref := safeRef.ReplaceAllString(number, "")
	cus := f.AddCustomer(stripefake.Customer{ID: "cus_Sandbox" + safeRef.ReplaceAllString(strings.Split(email, "@")[0], ""),
		Email: email, Currency: cur})
	ch := f.AddCharge(stripefake.Charge{ID: "ch_Sandbox" + ref, PaymentIntent: "pi_Sandbox" + ref, Amount: amountMinor, Currency: cur,
		Customer: cus, Email: email})
	in := "in_Sandbox" + ref
	f.AddInvoice(stripefake.Invoice{ID: in, Number: number, Customer: cus, CustomerEmail: email, Currency: cur,
		Status: "paid", AmountDue: amountMinor, AmountPaid: amountMinor})
	s.linkCharge(in, ch)
	return in
}
