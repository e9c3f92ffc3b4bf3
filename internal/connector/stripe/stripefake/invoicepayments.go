package stripefake

import (
	"net/http"
	"sort"
	"time"
)

// InvoicePayment is one payment of an invoice, as Stripe's InvoicePayment
// object (API 2025-03-31.basil on): a payment intent, or a charge made without
// one (Stripe names the payment intent whenever the charge has one). Status is
// open, paid or canceled; amount_paid is null on the wire until it is paid.
// Stripe creates the default payment when it finalizes the invoice; others are
// attached payments (partial payments).
type InvoicePayment struct {
	ID                          string
	PaymentIntent, Charge       string // exactly one is set
	Status                      string // default "paid"
	AmountRequested, AmountPaid int64
	IsDefault                   bool
	Created, PaidAt, CanceledAt int64
}

// LinkInvoiceCharge records that charge paid invoice in full. The invoice's
// open default payment becomes paid with it; without one, a paid payment is
// added (the default when it is the invoice's first). The payment names the
// charge's payment intent when the charge has one, as Stripe does, and the fake
// then holds that intent with latest_charge = charge. Linking a charge the
// invoice already lists changes nothing.
func (f *Fake) LinkInvoiceCharge(invoice, charge string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.invoices[invoice]
	ch, chOK := f.charges[charge]
	if !ok || !chOK {
		return
	}
	for _, p := range in.Payments {
		if f.paymentCharge(p) == charge {
			return
		}
	}
	p := InvoicePayment{Charge: charge, Status: "paid", AmountRequested: ch.Amount, AmountPaid: ch.Amount}
	if ch.PaymentIntent != "" {
		p.Charge, p.PaymentIntent = "", ch.PaymentIntent
		if _, ok := f.intents[ch.PaymentIntent]; !ok {
			f.intents[ch.PaymentIntent] = &PaymentIntent{ID: ch.PaymentIntent, Currency: ch.Currency, Status: "succeeded",
				Customer: ch.Customer, LatestCharge: charge, Email: ch.Email, Amount: ch.Amount}
		}
	}
	for i := range in.Payments {
		if d := &in.Payments[i]; d.IsDefault && d.Status == "open" {
			d.PaymentIntent, d.Charge, d.Status, d.AmountPaid, d.PaidAt = p.PaymentIntent, p.Charge, "paid", p.AmountPaid, time.Now().Unix()
			return
		}
	}
	p.IsDefault = len(in.Payments) == 0
	f.addPayment(in, p)
}

// AddInvoicePayment attaches p to invoice as given (an open default payment of
// an unpaid invoice, partial payments, a canceled attempt) and returns its id,
// or "" when the fake holds no such invoice.
func (f *Fake) AddInvoicePayment(invoice string, p InvoicePayment) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.invoices[invoice]
	if !ok {
		return ""
	}
	return f.addPayment(in, p)
}

// addPayment appends p to in; f.mu must be held.
func (f *Fake) addPayment(in *Invoice, p InvoicePayment) string {
	if p.ID == "" {
		p.ID = f.nextID("inpay")
	}
	if p.Status == "" {
		p.Status = "paid"
	}
	if p.Created == 0 {
		p.Created = time.Now().Unix()
	}
	if p.Status == "paid" && p.PaidAt == 0 {
		p.PaidAt = p.Created
	}
	in.Payments = append(in.Payments, p)
	return p.ID
}

// paymentCharge is the charge behind a payment: its own, or its payment
// intent's latest charge; f.mu must be held.
func (f *Fake) paymentCharge(p InvoicePayment) string {
	if p.PaymentIntent == "" {
		return p.Charge
	}
	if pi, ok := f.intents[p.PaymentIntent]; ok {
		return pi.LatestCharge
	}
	return ""
}

// paidCharges are the charges of an invoice's paid payments, the default
// payment's first; f.mu must be held.
func (f *Fake) paidCharges(in *Invoice) []string {
	var out []string
	for _, p := range in.Payments {
		if ch := f.paymentCharge(p); p.Status == "paid" && ch != "" {
			if p.IsDefault {
				out = append([]string{ch}, out...)
			} else {
				out = append(out, ch)
			}
		}
	}
	return out
}

func invoicePaymentJSON(in *Invoice, p InvoicePayment) map[string]any {
	pay := map[string]any{"type": "payment_intent", "payment_intent": p.PaymentIntent}
	if p.PaymentIntent == "" {
		pay = map[string]any{"type": "charge", "charge": p.Charge}
	}
	var paid any
	if p.Status == "paid" {
		paid = p.AmountPaid
	}
	return map[string]any{"id": p.ID, "object": "invoice_payment", "amount_paid": paid, "amount_requested": p.AmountRequested,
		"created": p.Created, "currency": in.Currency, "invoice": in.ID, "is_default": p.IsDefault, "livemode": false,
		"payment": pay, "status": p.Status,
		"status_transitions": map[string]any{"paid_at": nullInt(p.PaidAt), "canceled_at": nullInt(p.CanceledAt)}}
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

var invoicePaymentStatuses = map[string]bool{"open": true, "paid": true, "canceled": true}

// listInvoicePayments is GET /v1/invoice_payments, newest first. Stripe's
// reference marks every filter optional: without invoice it lists the
// account's invoice payments. A payment filter needs payment[type]
// (payment_intent or payment_record); status is open, paid or canceled. An
// invoice the fake does not hold lists nothing (the reference does not say
// whether Stripe answers 404 instead; the client handles both).
func (f *Fake) listInvoicePayments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !checkParams(w, q, "invoice", "payment[", "status", "limit", "starting_after", "ending_before", "created", "created[", "expand[") {
		return
	}
	pay := nested(q, "payment")
	switch t := pay["type"]; {
	case len(pay) > 0 && t == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing", "Missing required param: payment[type].", "payment[type]")
		return
	case t != "" && t != "payment_intent" && t != "payment_record":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid payment[type]: must be one of payment_intent or payment_record", "payment[type]")
		return
	}
	if st := q.Get("status"); st != "" && !invoicePaymentStatuses[st] {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid status: must be one of canceled, open, or paid", "status")
		return
	}
	type row struct {
		created int64
		id      string
		json    map[string]any
	}
	var rows []row
	f.mu.Lock()
	for _, in := range f.invoices {
		if v := q.Get("invoice"); v != "" && in.ID != v {
			continue
		}
		for _, p := range in.Payments {
			if (q.Get("status") != "" && p.Status != q.Get("status")) || pay["type"] == "payment_record" || (pay["type"] == "payment_intent" && p.PaymentIntent == "") ||
				(pay["payment_intent"] != "" && p.PaymentIntent != pay["payment_intent"]) {
				continue
			}
			rows = append(rows, row{p.Created, p.ID, invoicePaymentJSON(in, p)})
		}
	}
	f.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].created != rows[j].created {
			return rows[i].created > rows[j].created
		}
		return rows[i].id > rows[j].id
	})
	items := make([]map[string]any, len(rows))
	for i, r := range rows {
		items[i] = r.json
	}
	writeList(w, "/v1/invoice_payments", items, q)
}

func (f *Fake) getInvoicePayment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.invoices {
		for _, p := range in.Payments {
			if p.ID == id {
				writeJSON(w, http.StatusOK, invoicePaymentJSON(in, p))
				return
			}
		}
	}
	notFound(w, "invoice_payment", id, "id")
}
