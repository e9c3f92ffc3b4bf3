package stripe

import (
	"context"
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/connector"
	sdk "github.com/stripe/stripe-go/v82"
)

// InvoicePaid is the payment that paid an invoice, reduced to what a receipt,
// a refund or a credit note needs: the charge.
type InvoicePaid struct {
	Invoice       string // in_...
	Payment       string // inpay_...: the invoice payment chosen
	Charge        string // ch_... (py_...): the charge behind it
	PaymentIntent string // pi_..., when the payment was a payment intent
	AmountMinor   int64  // the payment's amount_paid
	Currency      string // upper case
	Default       bool   // the invoice's default payment
	// Paid is how many paid payments the invoice has: more than one means it
	// was paid in parts, and Charge documents only the chosen one.
	Paid int
}

// InvoiceCharge finds the charge that paid an invoice (in_...). Since API
// version 2025-03-31.basil (this SDK pins 2025-08-27.basil) an invoice has no
// charge or payment_intent field: the link is its invoice payments
// (GET /v1/invoice_payments?invoice=...), each naming a payment intent (whose
// latest_charge is the charge) or, for a charge made without one, the charge.
//
// The rule: the invoice's default payment when it is paid; else its only paid
// payment. An invoice paid in several parts none of which is the default is
// refused as ambiguous (code "ambiguous", naming the charges), as is an invoice
// with no paid payment (code "invoice_not_paid": it is not paid, so there is no
// charge and no receipt) and an invoice Stripe does not hold
// ("resource_missing"). All three are permanent. Open and canceled payments
// never count.
func (c *Client) InvoiceCharge(ctx context.Context, invoice string) (InvoicePaid, error) {
	const op = "find invoice charge"
	if err := checkID(op, invoice); err != nil || !strings.HasPrefix(invoice, "in_") {
		return InvoicePaid{}, invalid(op, "not a Stripe invoice id (in_...)")
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return InvoicePaid{}, err
	}
	p := &sdk.InvoicePaymentListParams{Invoice: sdk.String(invoice)}
	p.Limit = sdk.Int64(100)
	var paid []*sdk.InvoicePayment
	for ip, err := range c.api.V1InvoicePayments.List(ctx, p) {
		if err != nil {
			return InvoicePaid{}, classify(op, slot, err)
		}
		if ip.Status == "paid" && ip.Payment != nil {
			paid = append(paid, ip)
		}
	}
	chosen, err := c.choosePayment(ctx, slot, op, invoice, paid)
	if err != nil {
		return InvoicePaid{}, err
	}
	out := InvoicePaid{Invoice: invoice, Payment: chosen.ID, AmountMinor: chosen.AmountPaid, Currency: upper(chosen.Currency),
		Default: chosen.IsDefault, Paid: len(paid)}
	out.Charge, out.PaymentIntent, err = c.paymentCharge(ctx, slot, op, chosen.Payment)
	return out, err
}

// choosePayment applies InvoiceCharge's rule to the paid payments.
func (c *Client) choosePayment(ctx context.Context, slot *statusSlot, op, invoice string, paid []*sdk.InvoicePayment) (*sdk.InvoicePayment, error) {
	for _, ip := range paid {
		if ip.IsDefault {
			return ip, nil
		}
	}
	switch len(paid) {
	case 1:
		return paid[0], nil
	case 0:
		return nil, c.notPaid(ctx, slot, op, invoice)
	}
	var parts []string
	for _, ip := range paid {
		parts = append(parts, paymentRef(ip.Payment)+" "+FormatMinor(ip.AmountPaid, upper(ip.Currency)))
	}
	return nil, &connector.Error{Connector: name, Op: op, Code: "ambiguous", Permanent: true,
		Message: fmt.Sprintf("invoice %s was paid in %d payments (%s), none of them its default payment: set the charge (ch_...) the call is about",
			invoice, len(paid), strings.Join(parts, ", "))}
}

// notPaid explains an invoice without a paid payment: Stripe does not hold it,
// or it is not paid (or paid without a Stripe payment), so it has no charge.
func (c *Client) notPaid(ctx context.Context, slot *statusSlot, op, invoice string) error {
	in, err := c.api.V1Invoices.Retrieve(ctx, invoice, nil)
	if err != nil {
		return classify(op, slot, err)
	}
	what := "is not paid (" + string(in.Status) + " at Stripe, none of its payments paid)"
	if in.Status == sdk.InvoiceStatusPaid {
		what = "is paid at Stripe, but by no Stripe payment (customer balance, credit notes, a zero total or out of band)"
	}
	return &connector.Error{Connector: name, Op: op, Code: "invoice_not_paid", Permanent: true,
		Message: "invoice " + orID(in.Number, invoice) + " " + what + ": there is no charge, so no receipt"}
}

// paymentCharge is the charge behind an invoice payment: its charge, or its
// payment intent's latest_charge.
func (c *Client) paymentCharge(ctx context.Context, slot *statusSlot, op string, pay *sdk.InvoicePaymentPayment) (charge, intent string, err error) {
	switch {
	case pay.Type == sdk.InvoicePaymentPaymentTypeCharge && pay.Charge != nil:
		return pay.Charge.ID, "", nil
	case pay.Type == sdk.InvoicePaymentPaymentTypePaymentIntent && pay.PaymentIntent != nil:
		pi, err := c.api.V1PaymentIntents.Retrieve(ctx, pay.PaymentIntent.ID, nil)
		if err != nil {
			return "", pay.PaymentIntent.ID, classify(op, slot, err)
		}
		if pi.LatestCharge == nil || pi.LatestCharge.ID == "" {
			return "", pi.ID, &connector.Error{Connector: name, Op: op, Code: "no_charge", Permanent: true,
				Message: "payment intent " + pi.ID + " paid the invoice but names no charge"}
		}
		return pi.LatestCharge.ID, pi.ID, nil
	}
	return "", "", &connector.Error{Connector: name, Op: op, Code: "no_charge", Permanent: true,
		Message: "the invoice was paid by a " + strings.ReplaceAll(string(pay.Type), "_", " ") + ", which has no Stripe charge"}
}

func paymentRef(pay *sdk.InvoicePaymentPayment) string {
	switch {
	case pay.Charge != nil:
		return pay.Charge.ID
	case pay.PaymentIntent != nil:
		return pay.PaymentIntent.ID
	}
	return string(pay.Type)
}

func orID(number, id string) string {
	if number == "" {
		return id
	}
	return number + " (" + id + ")"
}
