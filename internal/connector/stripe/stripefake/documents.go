package stripefake

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CreditNote is a credit note the fake issued (POST /v1/credit_notes).
type CreditNote struct {
	ID, Number, Invoice, Customer, Currency string
	Reason, Memo, Status, EmailType         string
	Amount, PrePayment, PostPayment         int64
	CreditAmount, OutOfBand                 int64
	Refunds                                 []CreditNoteRefund
	Metadata                                map[string]string
	Created                                 int64
}

// CreditNoteRefund links a refund to a credit note.
type CreditNoteRefund struct {
	Refund string
	Amount int64
}

// CreditNotes returns copies of the credit notes issued, oldest first.
func (f *Fake) CreditNotes() []CreditNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]CreditNote, len(f.creditNotes))
	for i, cn := range f.creditNotes {
		out[i] = *cn
	}
	return out
}

// Invoice returns a copy of an invoice's current state.
func (f *Fake) Invoice(id string) (Invoice, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.invoices[id]
	if !ok {
		return Invoice{}, false
	}
	cp := *in
	cp.Payments = slices.Clone(in.Payments)
	return cp, true
}

var creditNoteReasons = map[string]bool{"duplicate": true, "fraudulent": true, "order_change": true, "product_unsatisfactory": true}

func (f *Fake) creditNoteJSON(cn *CreditNote) map[string]any {
	refunds := []map[string]any{}
	for _, r := range cn.Refunds {
		refunds = append(refunds, map[string]any{"refund": r.Refund, "amount_refunded": r.Amount, "type": "refund"})
	}
	return map[string]any{"id": cn.ID, "object": "credit_note", "number": cn.Number, "invoice": cn.Invoice,
		"customer": null(cn.Customer), "currency": cn.Currency, "amount": cn.Amount, "total": cn.Amount, "subtotal": cn.Amount,
		"pre_payment_amount": cn.PrePayment, "post_payment_amount": cn.PostPayment, "out_of_band_amount": cn.OutOfBand,
		"reason": null(cn.Reason), "memo": null(cn.Memo), "status": cn.Status, "type": creditNoteType(cn),
		"refunds": refunds, "metadata": nonNil(cn.Metadata), "created": cn.Created, "effective_at": cn.Created,
		"pdf": f.payBase + "/credit_notes/acct_fake/" + cn.ID + "/pdf", "livemode": false}
}

func creditNoteType(cn *CreditNote) string {
	if cn.PostPayment > 0 {
		return "post_payment"
	}
	return "pre_payment"
}

// creditNoteInput is a parsed POST /v1/credit_notes form.
type creditNoteInput struct {
	amount, refundAmount, credit, oob int64
	refunds                           []CreditNoteRefund
}

// parseCreditNote reads the amounts; it answers 400 itself and returns false on
// a malformed form.
func parseCreditNote(w http.ResponseWriter, form url.Values) (creditNoteInput, bool) {
	var in creditNoteInput
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"amount", &in.amount}, {"refund_amount", &in.refundAmount}, {"credit_amount", &in.credit}, {"out_of_band_amount", &in.oob}} {
		if s := form.Get(p.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 || (p.name == "amount" && n == 0) {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer", "Invalid positive integer", p.name)
				return in, false
			}
			*p.dst = n
		}
	}
	for i := 0; ; i++ {
		k := fmt.Sprintf("refunds[%d]", i)
		id := form.Get(k + "[refund]")
		if id == "" {
			break
		}
		r := CreditNoteRefund{Refund: id, Amount: -1}
		if s := form.Get(k + "[amount_refunded]"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_invalid_integer", "Invalid positive integer", k+"[amount_refunded]")
				return in, false
			}
			r.Amount = n
		}
		in.refunds = append(in.refunds, r)
	}
	return in, true
}

// createCreditNote issues a credit note as Stripe does: only on a finalized (open
// or paid) invoice, for at most what is still creditable; the part beyond what is
// still owed (post-payment) must be fully allocated to refunds of the invoice's
// payment, customer balance credit or out-of-band credit.
func (f *Fake) createCreditNote(w http.ResponseWriter, r *http.Request) {
	form := r.PostForm
	if !checkParams(w, form, "invoice", "amount", "refunds[", "refund_amount", "credit_amount", "out_of_band_amount",
		"reason", "memo", "metadata[", "email_type", "effective_at", "expand[") {
		return
	}
	id := form.Get("invoice")
	if id == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing", "Missing required param: invoice.", "invoice")
		return
	}
	if form.Get("amount") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "parameter_missing",
			"One of `amount`, `lines`, or `shipping_cost` must be provided.", "amount")
		return
	}
	if reason := form.Get("reason"); reason != "" && !creditNoteReasons[reason] {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"Invalid reason: must be one of duplicate, fraudulent, order_change, or product_unsatisfactory", "reason")
		return
	}
	if et := form.Get("email_type"); et != "" && et != "credit_note" && et != "none" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invalid email_type: must be one of credit_note or none", "email_type")
		return
	}
	in, ok := parseCreditNote(w, form)
	if !ok {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	inv, ok := f.invoices[id]
	if !ok {
		notFound(w, "invoice", id, "invoice")
		return
	}
	if inv.Status != "open" && inv.Status != "paid" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			"You can only create a credit note for an invoice that is open or paid; invoice "+id+" is "+inv.Status+".", "invoice")
		return
	}
	if left := inv.AmountDue - inv.PreCredited - inv.PostCredited; in.amount > left {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			fmt.Sprintf("The credit note amount (%d) is greater than the amount that can still be credited on invoice %s (%d).", in.amount, id, left), "amount")
		return
	}
	pre := min(in.amount, inv.remaining())
	post := in.amount - pre
	if !f.linkRefunds(w, inv, in.refunds) {
		return
	}
	allocated := in.refundAmount + in.credit + in.oob
	for _, rf := range in.refunds {
		allocated += rf.Amount
	}
	if allocated != post {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "",
			fmt.Sprintf("The sum of refunds, credit_amount and out_of_band_amount (%d) must equal the credit note's post-payment amount (%d).", allocated, post), "")
		return
	}
	if in.refundAmount > 0 {
		rf, ok := f.refundInvoiceCharge(w, inv, in.refundAmount)
		if !ok {
			return
		}
		in.refunds = append(in.refunds, CreditNoteRefund{Refund: rf, Amount: in.refundAmount})
	}
	f.issueCreditNote(w, inv, in, pre, post, form)
}

// linkRefunds checks each linked refund belongs to the invoice's payment and has
// enough left unlinked; an Amount of -1 becomes what is left of the refund.
func (f *Fake) linkRefunds(w http.ResponseWriter, inv *Invoice, links []CreditNoteRefund) bool {
	for i := range links {
		var ref *Refund
		for _, r := range f.refunds {
			if r.ID == links[i].Refund {
				ref = r
			}
		}
		if ref == nil {
			notFound(w, "refund", links[i].Refund, fmt.Sprintf("refunds[%d][refund]", i))
			return false
		}
		if !slices.Contains(f.paidCharges(inv), ref.Charge) {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "",
				"Refund "+ref.ID+" is not a refund of a payment of invoice "+inv.ID+".", fmt.Sprintf("refunds[%d][refund]", i))
			return false
		}
		if ref.Status == "failed" || ref.Status == "canceled" {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Refund "+ref.ID+" is "+ref.Status+".", fmt.Sprintf("refunds[%d][refund]", i))
			return false
		}
		left := ref.Amount
		for _, cn := range f.creditNotes {
			for _, l := range cn.Refunds {
				if l.Refund == ref.ID {
					left -= l.Amount
				}
			}
		}
		if links[i].Amount == -1 {
			links[i].Amount = left
		}
		if links[i].Amount > left || left <= 0 {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "",
				fmt.Sprintf("The amount to link (%d) exceeds what is left of refund %s not yet on a credit note (%d).", links[i].Amount, ref.ID, left),
				fmt.Sprintf("refunds[%d][amount_refunded]", i))
			return false
		}
	}
	return true
}

// refundInvoiceCharge makes the refund refund_amount asks for, on the charge of
// the invoice's paid default payment (else its first paid payment).
func (f *Fake) refundInvoiceCharge(w http.ResponseWriter, inv *Invoice, amount int64) (string, bool) {
	var ch *Charge
	if paid := f.paidCharges(inv); len(paid) > 0 {
		ch = f.charges[paid[0]]
	}
	if ch == nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "Invoice "+inv.ID+" has no payment to refund.", "refund_amount")
		return "", false
	}
	if amount > ch.Amount-ch.AmountRefunded {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "amount_too_large",
			"Refund amount is greater than unrefunded amount on charge.", "refund_amount")
		return "", false
	}
	ref := &Refund{ID: f.nextID("re"), Charge: ch.ID, PaymentIntent: ch.PaymentIntent, Currency: ch.Currency,
		Status: "succeeded", Amount: amount, Created: time.Now().Unix(), Metadata: map[string]string{}}
	ch.AmountRefunded += amount
	f.refunds = append(f.refunds, ref)
	return ref.ID, true
}

func (f *Fake) issueCreditNote(w http.ResponseWriter, inv *Invoice, in creditNoteInput, pre, post int64, form url.Values) {
	n := 1
	for _, cn := range f.creditNotes {
		if cn.Invoice == inv.ID {
			n++
		}
	}
	emailType := form.Get("email_type")
	if emailType == "" {
		emailType = "credit_note"
	}
	cn := &CreditNote{ID: f.nextID("cn"), Number: fmt.Sprintf("%s-CN-%02d", inv.Number, n),
		Invoice: inv.ID, Customer: inv.Customer, Currency: inv.Currency, Reason: form.Get("reason"), Memo: form.Get("memo"),
		Status: "issued", EmailType: emailType, Amount: in.amount, PrePayment: pre, PostPayment: post,
		CreditAmount: in.credit, OutOfBand: in.oob, Refunds: in.refunds, Metadata: nested(form, "metadata"), Created: time.Now().Unix()}
	inv.PreCredited += pre
	inv.PostCredited += post
	if inv.Status == "open" && inv.remaining() == 0 {
		inv.Status = "paid"
	}
	f.creditNotes = append(f.creditNotes, cn)
	writeJSON(w, http.StatusOK, f.creditNoteJSON(cn))
}

func (f *Fake) getCreditNote(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cn := range f.creditNotes {
		if cn.ID == id {
			writeJSON(w, http.StatusOK, f.creditNoteJSON(cn))
			return
		}
	}
	notFound(w, "credit_note", id, "id")
}

func (f *Fake) listCreditNotes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	var items []map[string]any
	for i := len(f.creditNotes) - 1; i >= 0; i-- { // newest first
		cn := f.creditNotes[i]
		if v := q.Get("invoice"); v != "" && cn.Invoice != v {
			continue
		}
		if v := q.Get("customer"); v != "" && cn.Customer != v {
			continue
		}
		items = append(items, f.creditNoteJSON(cn))
	}
	f.mu.Unlock()
	writeList(w, "/v1/credit_notes", items, q)
}

// The pay host: where Stripe serves invoice and credit note PDFs, receipts and
// hosted invoice pages (pay.stripe.com, invoice.stripe.com). The links are
// capabilities: no API key is needed, or sent, to read them.
func isPayPath(p string) bool {
	for _, prefix := range []string{"/invoice/", "/credit_notes/", "/receipts/", "/i/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func (f *Fake) payRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /invoice/acct_fake/{id}/pdf", f.invoicePDF)
	mux.HandleFunc("GET /credit_notes/acct_fake/{id}/pdf", f.creditNotePDF)
	mux.HandleFunc("GET /receipts/payment/{id}", f.receiptPage)
	mux.HandleFunc("GET /i/acct_fake/{id}", f.hostedInvoice)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(res, r)
		f.mu.Lock()
		f.reqs = append(f.reqs, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Status: res.status})
		f.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

func payNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte("<!doctype html><title>Not found</title><p>This link is not valid.</p>"))
}

func writePDF(w http.ResponseWriter, name string, b []byte) {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

func (f *Fake) invoicePDF(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	in, ok := f.invoices[r.PathValue("id")]
	var lines []string
	var number string
	if ok && in.Status != "draft" {
		number = in.Number
		lines = []string{"Invoice number: " + in.Number, "Invoice id: " + in.ID, "Status: " + in.Status,
			"Billed to: " + orDash(in.CustomerName) + " (" + orDash(in.Customer) + ")", ""}
		if !in.DueDate.IsZero() {
			lines = append(lines, "Due date: "+in.DueDate.UTC().Format("2 January 2006"))
		}
		lines = append(lines, "Amount due: "+major(in.AmountDue, in.Currency), "Amount paid: "+major(in.AmountPaid, in.Currency))
		if in.PreCredited+in.PostCredited > 0 {
			lines = append(lines, "Credited: "+major(in.PreCredited+in.PostCredited, in.Currency))
		}
		lines = append(lines, "Amount remaining: "+major(in.remaining(), in.Currency))
	}
	f.mu.Unlock()
	if lines == nil {
		payNotFound(w)
		return
	}
	writePDF(w, "Invoice-"+number+".pdf", pdf("Invoice "+number, lines))
}

func (f *Fake) creditNotePDF(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f.mu.Lock()
	var lines []string
	var number string
	for _, cn := range f.creditNotes {
		if cn.ID != id {
			continue
		}
		number = cn.Number
		invNumber := cn.Invoice
		if in, ok := f.invoices[cn.Invoice]; ok {
			invNumber = in.Number + " (" + in.ID + ")"
		}
		lines = []string{"Credit note number: " + cn.Number, "Credit note id: " + cn.ID, "Invoice: " + invNumber,
			"Customer: " + orDash(cn.Customer), "Issued: " + time.Unix(cn.Created, 0).UTC().Format("2 January 2006"), "",
			"Credit amount: " + major(cn.Amount, cn.Currency)}
		for _, rf := range cn.Refunds {
			lines = append(lines, "Refunded to the original payment method: "+major(rf.Amount, cn.Currency))
		}
		if cn.Reason != "" {
			lines = append(lines, "Reason: "+strings.ReplaceAll(cn.Reason, "_", " "))
		}
		if cn.Memo != "" {
			lines = append(lines, "Memo: "+cn.Memo)
		}
	}
	f.mu.Unlock()
	if lines == nil {
		payNotFound(w)
		return
	}
	writePDF(w, "CreditNote-"+number+".pdf", pdf("Credit note "+number, lines))
}

func (f *Fake) receiptPage(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ch, ok := f.charges[r.PathValue("id")]
	var body string
	if ok {
		body = fmt.Sprintf("<h1>Receipt %s</h1><p>Amount paid %s</p><p>Date paid %s</p>", html.EscapeString(orDash(ch.ReceiptNumber)),
			html.EscapeString(major(ch.Amount, ch.Currency)), time.Unix(ch.Created, 0).UTC().Format("2 January 2006"))
	}
	f.mu.Unlock()
	if !ok {
		payNotFound(w)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte("<!doctype html><title>Receipt</title>" + body))
}

func (f *Fake) hostedInvoice(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	in, ok := f.invoices[r.PathValue("id")]
	var body string
	if ok && in.Status != "draft" {
		body = fmt.Sprintf("<h1>Invoice %s</h1><p>%s</p><p>Amount remaining %s</p>", html.EscapeString(in.Number),
			html.EscapeString(in.Status), html.EscapeString(major(in.remaining(), in.Currency)))
	}
	f.mu.Unlock()
	if body == "" {
		payNotFound(w)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write([]byte("<!doctype html><title>Invoice</title>" + body))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
