package stripefake

import (
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Charge seeds a charge. Empty ID gets one; empty Status is "succeeded".
// ReceiptNumber is set once Stripe sent a receipt ("1234-5678"); Name is the
// billing name.
type Charge struct {
	ID, Currency, Status           string
	Customer, PaymentIntent, Email string
	Name, ReceiptNumber            string
	Amount, AmountRefunded         int64
	Created                        int64
	Disputed, Livemode             bool
	Metadata                       map[string]string
}

// PaymentIntent seeds a payment intent; LatestCharge is the charge a refund
// by payment_intent applies to.
type PaymentIntent struct {
	ID, Currency, Status, Customer, LatestCharge, Email string
	Amount                                              int64
}

// Invoice seeds an invoice. Status is draft, open (default), paid, void or
// uncollectible; a draft has no number, PDF or hosted page yet. Payments are
// its invoice payments (LinkInvoiceCharge, AddInvoicePayment): since API
// version 2025-03-31.basil an invoice carries no charge or payment_intent
// field, and GET /v1/invoice_payments?invoice= is the only way to the charge
// that paid it. A credit note's refunds must be refunds of one of them. The
// credit-note totals grow as credit notes are issued.
type Invoice struct {
	ID, Number, Customer, CustomerEmail, Currency, Status string
	CustomerName                                          string
	AmountDue, AmountPaid                                 int64
	PreCredited, PostCredited                             int64
	DueDate                                               time.Time
	Payments                                              []InvoicePayment
}

// remaining is what is still owed: amount due less payments and pre-payment credit.
func (in *Invoice) remaining() int64 { return max(in.AmountDue-in.AmountPaid-in.PreCredited, 0) }

// Customer seeds a customer.
type Customer struct {
	ID, Email, Name, Currency string
	Address                   map[string]string // line1, city, postal_code, country... as last set
	TaxIDs                    []TaxID
}

// TaxID is one tax id a customer holds (POST /v1/customers/{id}/tax_ids).
type TaxID struct{ ID, Type, Value string }

// Subscription seeds a subscription.
type Subscription struct{ ID, Customer, Status, Currency string }

// Dispute seeds a dispute. Empty Status is "needs_response".
type Dispute struct {
	ID, Charge, PaymentIntent, Currency, Status, Reason string
	Amount                                              int64
	DueBy                                               time.Time
	Evidence                                            map[string]string
	Submitted                                           bool
	SubmissionCount                                     int
}

// Refund is a refund the fake created.
type Refund struct {
	ID, Charge, PaymentIntent, Currency, Status, Reason string
	Amount, Created                                     int64
	Metadata                                            map[string]string
}

// AddCharge seeds a charge and returns its id.
func (f *Fake) AddCharge(c Charge) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.ID == "" {
		c.ID = f.nextID("ch")
	}
	if c.Status == "" {
		c.Status = "succeeded"
	}
	if c.Created == 0 {
		c.Created = time.Now().Unix()
	}
	c.Currency = strings.ToLower(c.Currency)
	f.charges[c.ID] = &c
	return c.ID
}

// AddPaymentIntent seeds a payment intent and returns its id.
func (f *Fake) AddPaymentIntent(p PaymentIntent) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.ID == "" {
		p.ID = f.nextID("pi")
	}
	if p.Status == "" {
		p.Status = "succeeded"
	}
	p.Currency = strings.ToLower(p.Currency)
	f.intents[p.ID] = &p
	return p.ID
}

// AddInvoice seeds an invoice and returns its id.
func (f *Fake) AddInvoice(in Invoice) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if in.ID == "" {
		in.ID = f.nextID("in")
	}
	if in.Status == "" {
		in.Status = "open"
	}
	in.Currency = strings.ToLower(in.Currency)
	f.invoices[in.ID] = &in
	return in.ID
}

// AddCustomer seeds a customer and returns its id.
func (f *Fake) AddCustomer(c Customer) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.ID == "" {
		c.ID = f.nextID("cus")
	}
	f.customers[c.ID] = &c
	return c.ID
}

// AddSubscription seeds a subscription and returns its id.
func (f *Fake) AddSubscription(s Subscription) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.ID == "" {
		s.ID = f.nextID("sub")
	}
	if s.Status == "" {
		s.Status = "active"
	}
	f.subs[s.ID] = &s
	return s.ID
}

// AddDispute seeds a dispute and returns its id.
func (f *Fake) AddDispute(d Dispute) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d.ID == "" {
		d.ID = f.nextID("dp")
	}
	if d.Status == "" {
		d.Status = "needs_response"
	}
	d.Evidence = maps(d.Evidence)
	f.disputes[d.ID] = &d
	return d.ID
}

// CustomerEmail returns the email on file of a customer ("" when unknown).
func (f *Fake) CustomerEmail(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.customers[id]; ok {
		return c.Email
	}
	return ""
}

// DisputeObjects returns every dispute's API JSON, sorted by id.
func (f *Fake) DisputeObjects() []map[string]any {
	f.mu.Lock()
	var out []map[string]any
	for _, d := range f.disputes {
		out = append(out, disputeJSON(d))
	}
	f.mu.Unlock()
	sortByID(out)
	return out
}

func (f *Fake) getObject(object string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		f.mu.Lock()
		v, ok := f.render(object, id)
		f.mu.Unlock()
		if !ok {
			notFound(w, object, id, "id")
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// render returns the API JSON of one object; f.mu must be held.
func (f *Fake) render(object, id string) (map[string]any, bool) {
	switch object {
	case "charge":
		if c, ok := f.charges[id]; ok {
			return f.chargeJSON(c), true
		}
	case "payment_intent":
		if p, ok := f.intents[id]; ok {
			return map[string]any{"id": p.ID, "object": "payment_intent", "amount": p.Amount, "currency": p.Currency,
				"status": p.Status, "customer": null(p.Customer), "latest_charge": null(p.LatestCharge),
				"receipt_email": null(p.Email), "livemode": false, "metadata": map[string]string{}}, true
		}
	case "invoice":
		if in, ok := f.invoices[id]; ok {
			return f.invoiceJSON(in), true
		}
	case "customer":
		if c, ok := f.customers[id]; ok {
			return customerJSON(c), true
		}
	case "subscription":
		if s, ok := f.subs[id]; ok {
			return map[string]any{"id": s.ID, "object": "subscription", "customer": s.Customer, "status": s.Status,
				"currency": strings.ToLower(s.Currency), "cancel_at_period_end": false, "livemode": false}, true
		}
	case "dispute":
		if d, ok := f.disputes[id]; ok {
			return disputeJSON(d), true
		}
	}
	return nil, false
}

func (f *Fake) chargeJSON(c *Charge) map[string]any {
	return map[string]any{"id": c.ID, "object": "charge", "amount": c.Amount, "amount_refunded": c.AmountRefunded,
		"currency": c.Currency, "customer": null(c.Customer), "disputed": c.Disputed, "livemode": c.Livemode,
		"metadata": nonNil(c.Metadata), "payment_intent": null(c.PaymentIntent), "receipt_email": null(c.Email),
		"refunded": c.AmountRefunded >= c.Amount, "status": c.Status, "created": c.Created,
		"receipt_number": null(c.ReceiptNumber), "receipt_url": f.payBase + "/receipts/payment/" + c.ID,
		"billing_details": map[string]any{"email": null(c.Email), "name": null(c.Name)}}
}

func (f *Fake) invoiceJSON(in *Invoice) map[string]any {
	var due, pdfURL, hosted any
	if !in.DueDate.IsZero() {
		due = in.DueDate.Unix()
	}
	if in.Status != "draft" {
		pdfURL, hosted = f.payBase+"/invoice/acct_fake/"+in.ID+"/pdf", f.payBase+"/i/acct_fake/"+in.ID
	}
	return map[string]any{"id": in.ID, "object": "invoice", "number": null(in.Number), "customer": null(in.Customer),
		"customer_email": null(in.CustomerEmail), "customer_name": null(in.CustomerName), "currency": in.Currency,
		"status": in.Status, "amount_due": in.AmountDue - in.PreCredited, "amount_paid": in.AmountPaid,
		"amount_remaining": in.remaining(), "pre_payment_credit_notes_amount": in.PreCredited,
		"post_payment_credit_notes_amount": in.PostCredited, "invoice_pdf": pdfURL, "hosted_invoice_url": hosted,
		"due_date": due, "livemode": false}
}

func customerJSON(c *Customer) map[string]any {
	var addr any
	if len(c.Address) > 0 {
		addr = maps(c.Address)
	}
	return map[string]any{"id": c.ID, "object": "customer", "email": null(c.Email), "name": null(c.Name),
		"currency": null(strings.ToLower(c.Currency)), "address": addr, "livemode": false, "metadata": map[string]string{}}
}

func disputeJSON(d *Dispute) map[string]any {
	var due any
	if !d.DueBy.IsZero() {
		due = d.DueBy.Unix()
	}
	return map[string]any{"id": d.ID, "object": "dispute", "amount": d.Amount, "currency": strings.ToLower(d.Currency),
		"charge": null(d.Charge), "payment_intent": null(d.PaymentIntent), "reason": d.Reason, "status": d.Status,
		"evidence": nonNil(d.Evidence), "livemode": false,
		"evidence_details": map[string]any{"due_by": due, "has_evidence": len(d.Evidence) > 0,
			"past_due": false, "submission_count": d.SubmissionCount}}
}

func refundJSON(r *Refund) map[string]any {
	return map[string]any{"id": r.ID, "object": "refund", "amount": r.Amount, "charge": r.Charge,
		"payment_intent": null(r.PaymentIntent), "currency": r.Currency, "metadata": nonNil(r.Metadata),
		"reason": null(r.Reason), "status": r.Status, "created": r.Created}
}

var refundReasons = map[string]bool{"duplicate": true, "fraudulent": true, "requested_by_customer": true}

func (f *Fake) createRefund(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	if !checkParams(w, form, "charge", "payment_intent", "amount", "reason", "metadata[", "currency", "expand[") {
		return
	}
	chID, piID := form.Get("charge"), form.Get("payment_intent")
	switch {
	case chID == "" && piID == "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing",
			"One of the following params should be provided for this request: payment_intent or charge.", "")
		return
	case chID != "" && piID != "":
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameters_exclusive",
			"You cannot pass both charge and payment_intent.", "charge")
		return
	}
	if reason := form.Get("reason"); reason != "" && !refundReasons[reason] {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer", "reason")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if piID != "" {
		pi, ok := f.intents[piID]
		if !ok {
			notFound(w, "payment_intent", piID, "payment_intent")
			return
		}
		chID = pi.LatestCharge
	}
	ch, ok := f.charges[chID]
	if !ok {
		notFound(w, "charge", chID, "charge")
		return
	}
	remaining := ch.Amount - ch.AmountRefunded
	amount := remaining
	if s := form.Get("amount"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer",
				"Invalid positive integer", "amount")
			return
		}
		amount = n
	}
	if msg, code := amountRefused(ch.Currency, amount); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", code, msg, "amount")
		return
	}
	switch {
	case ch.Disputed:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "charge_disputed",
			"Charge "+ch.ID+" has been charged back; cannot issue a refund.", "")
		return
	case remaining <= 0:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "charge_already_refunded",
			"Charge "+ch.ID+" has already been refunded.", "")
		return
	case amount > remaining:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "amount_too_large",
			"Refund amount is greater than unrefunded amount on charge.", "amount")
		return
	}
	ref := &Refund{ID: f.nextID("re"), Charge: ch.ID, PaymentIntent: ch.PaymentIntent, Currency: ch.Currency,
		Status: f.refundStatus, Reason: form.Get("reason"), Amount: amount, Created: time.Now().Unix(),
		Metadata: nested(form, "metadata")}
	if ref.Status != "failed" && ref.Status != "canceled" {
		ch.AmountRefunded += amount
	}
	f.refunds = append(f.refunds, ref)
	writeJSON(w, http.StatusOK, refundJSON(ref))
}

// Stripe's currency rules, kept here apart from internal/money on purpose: a
// fake that shared the client's table could not catch a mistake in it.
// Zero-decimal currencies need no rule of their own here: an amount mis-scaled
// by 100 is caught as more than the charge holds.
var fakeThreeDecimal = map[string]bool{"bhd": true, "jod": true, "kwd": true, "omr": true, "tnd": true}

// amountRefused is Stripe's answer to an amount its currency does not allow.
func amountRefused(currency string, amount int64) (msg, code string) {
	switch {
	case fakeThreeDecimal[currency] && amount%10 != 0:
		return "Invalid amount: " + strings.ToUpper(currency) + " amounts must be rounded to the nearest ten (the last digit must be 0).", ""
	case currency == "isk" && amount%100 != 0:
		return "Invalid amount. Currency ISK has become effectively zero-decimal and charged amounts must be evenly divisible by 100. See https://stripe.com/docs/currencies#special-cases for more information.", "invalid_charge_amount_no_decimal_compatible"
	}
	return "", ""
}

func (f *Fake) getRefund(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ref := range f.refunds {
		if ref.ID == id {
			writeJSON(w, http.StatusOK, refundJSON(ref))
			return
		}
	}
	notFound(w, "refund", id, "id")
}

// SettleRefund moves a pending refund to status ("succeeded", "failed" or
// "canceled"), as Stripe does later, and returns its JSON for a
// charge.refund.updated event. A failed or canceled refund gives the amount back
// to the charge.
func (f *Fake) SettleRefund(id, status string) (map[string]any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ref := range f.refunds {
		if ref.ID != id {
			continue
		}
		if ref.Status == "pending" && (status == "failed" || status == "canceled") {
			if ch, ok := f.charges[ref.Charge]; ok {
				ch.AmountRefunded -= ref.Amount
			}
		}
		ref.Status = status
		return refundJSON(ref), true
	}
	return nil, false
}

func (f *Fake) listRefunds(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	var items []map[string]any
	for i := len(f.refunds) - 1; i >= 0; i-- { // newest first, as Stripe lists
		ref := f.refunds[i]
		if c := q.Get("charge"); c != "" && ref.Charge != c {
			continue
		}
		if p := q.Get("payment_intent"); p != "" && ref.PaymentIntent != p {
			continue
		}
		items = append(items, refundJSON(ref))
	}
	f.mu.Unlock()
	writeList(w, "/v1/refunds", items, q)
}

func (f *Fake) listCustomers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	var items []map[string]any
	for _, c := range f.customers {
		if e := q.Get("email"); e == "" || c.Email == e { // Stripe's email filter is case-sensitive
			items = append(items, customerJSON(c))
		}
	}
	f.mu.Unlock()
	sortByID(items)
	writeList(w, "/v1/customers", items, q)
}

var queryRE = regexp.MustCompile(`^\s*(\w+)\s*:\s*'((?:[^'\\]|\\.)*)'\s*$`)

func parseQuery(w http.ResponseWriter, q string, fields ...string) (string, string, bool) {
	m := queryRE.FindStringSubmatch(q)
	if m != nil {
		for _, fld := range fields {
			if m[1] == fld {
				return m[1], strings.NewReplacer(`\'`, `'`, `\\`, `\`).Replace(m[2]), true
			}
		}
	}
	writeError(w, http.StatusBadRequest, "invalid_request_error", "",
		"The fake supports only queries of the form field:'value' on "+strings.Join(fields, ", ")+".", "query")
	return "", "", false
}

func (f *Fake) searchInvoices(w http.ResponseWriter, r *http.Request) {
	field, val, ok := parseQuery(w, r.URL.Query().Get("query"), "number", "customer", "status")
	if !ok {
		return
	}
	f.mu.Lock()
	var items []map[string]any
	for _, in := range f.invoices {
		if (field == "number" && in.Number == val) || (field == "customer" && in.Customer == val) ||
			(field == "status" && in.Status == val) {
			items = append(items, f.invoiceJSON(in))
		}
	}
	f.mu.Unlock()
	sortByID(items)
	writeSearch(w, "/v1/invoices/search", items)
}

func (f *Fake) searchCustomers(w http.ResponseWriter, r *http.Request) {
	_, val, ok := parseQuery(w, r.URL.Query().Get("query"), "email")
	if !ok {
		return
	}
	f.mu.Lock()
	var items []map[string]any
	for _, c := range f.customers {
		if strings.EqualFold(c.Email, val) {
			items = append(items, customerJSON(c))
		}
	}
	f.mu.Unlock()
	sortByID(items)
	writeSearch(w, "/v1/customers/search", items)
}

func (f *Fake) updateDispute(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	if !checkParams(w, form, "evidence[", "submit", "metadata[", "expand[") {
		return
	}
	id := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.disputes[id]
	if !ok {
		notFound(w, "dispute", id, "dispute")
		return
	}
	if d.Status != "needs_response" && d.Status != "warning_needs_response" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"This dispute is already closed or its evidence was already submitted.", "")
		return
	}
	for k, v := range nested(form, "evidence") {
		d.Evidence[k] = v
	}
	if form.Get("submit") != "false" { // Stripe submits unless told not to
		d.Submitted = true
		d.SubmissionCount++
		d.Status = "under_review"
	}
	writeJSON(w, http.StatusOK, disputeJSON(d))
}

// writeList pages items (already in Stripe's order) with limit and
// starting_after, as the SDK's iterator expects.
func writeList(w http.ResponseWriter, path string, items []map[string]any, q url.Values) {
	limit := 10
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 && n <= 100 {
		limit = n
	}
	if after := q.Get("starting_after"); after != "" {
		for i, it := range items {
			if it["id"] == after {
				items = items[i+1:]
				break
			}
		}
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "url": path, "has_more": more, "data": nonNilList(items)})
}

func writeSearch(w http.ResponseWriter, path string, items []map[string]any) {
	writeJSON(w, http.StatusOK, map[string]any{"object": "search_result", "url": path, "has_more": false,
		"next_page": nil, "data": nonNilList(items)})
}

func sortByID(items []map[string]any) {
	sort.Slice(items, func(i, j int) bool { return items[i]["id"].(string) < items[j]["id"].(string) })
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilList(items []map[string]any) []map[string]any {
	if items == nil {
		return []map[string]any{}
	}
	return items
}
