package stripe_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
)

// paidInvoice seeds INV-0042, 249.00 USD, paid by a charge, and refunds amount of it.
func paidInvoice(t *testing.T, fake *stripefake.Fake, c *stripe.Client, refund int64) (invoice, refundID string) {
	t.Helper()
	ch := fake.AddCharge(stripefake.Charge{Amount: 24900, Currency: "usd", Customer: "cus_Doc1"})
	invoice = fake.AddInvoice(stripefake.Invoice{Number: "INV-0042", Customer: "cus_Doc1", CustomerName: "Ana Ruiz",
		Currency: "usd", Status: "paid", AmountDue: 24900, AmountPaid: 24900})
	fake.LinkInvoiceCharge(invoice, ch)
	if refund > 0 {
		rc, err := c.Refund(context.Background(), stripe.RefundParams{Charge: ch, AmountMinor: refund, Currency: "USD", IdempotencyKey: "re-" + ch})
		if err != nil {
			t.Fatal(err)
		}
		refundID = rc.ExternalID
	}
	return invoice, refundID
}

func TestInvoiceDocumentByNumberFetchesItsPDF(t *testing.T) {
	fake, c, _ := setup(t, 5*time.Second)
	ctx := context.Background()
	id, _ := paidInvoice(t, fake, c, 0)
	d, err := c.InvoiceDocument(ctx, "INV-0042")
	if err != nil || d.ID != id || d.Customer != "cus_Doc1" || d.PDFURL == "" || d.HostedURL == "" {
		t.Fatalf("document %+v, %v", d, err)
	}
	b, err := c.FetchPDF(ctx, d.PDFURL)
	if err != nil || !bytes.HasPrefix(b, []byte("%PDF-1.4")) || !bytes.Contains(b, []byte("INV-0042")) || !bytes.Contains(b, []byte("249.00 USD")) {
		t.Fatalf("pdf %.80q, %v", b, err)
	}
	for _, r := range fake.Requests() {
		if strings.Contains(r.Path, "/pdf") && r.IdempotencyKey != "" {
			t.Errorf("pdf request carried an idempotency key")
		}
	}
	if _, err := c.InvoiceDocument(ctx, "INV-9999"); asConnErr(t, err).Code != "resource_missing" || !connector.IsPermanent(err) {
		t.Errorf("unknown number: %v", err)
	}
	if _, err := c.InvoiceDocument(ctx, "in_missing"); asConnErr(t, err).Code != "resource_missing" {
		t.Errorf("unknown id: %v", err)
	}
	draft := fake.AddInvoice(stripefake.Invoice{Customer: "cus_Doc1", Currency: "usd", Status: "draft", AmountDue: 100})
	if d, err := c.InvoiceDocument(ctx, draft); err != nil || d.PDFURL != "" {
		t.Errorf("a draft has no PDF: %+v %v", d, err)
	}
}

// The client fetches documents from Stripe's document hosts only (the fake's own
// origin here), and only PDFs.
func TestFetchPDFRefusesOtherHostsAndOtherContent(t *testing.T) {
	_, c, _ := setup(t, 5*time.Second)
	ctx := context.Background()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4 evil"))
	}))
	defer other.Close()
	if _, err := c.FetchPDF(ctx, other.URL+"/x.pdf"); asConnErr(t, err).Code != "untrusted_link" {
		t.Errorf("other host: %v", err)
	}
	live := stripe.New(stripe.Config{Key: "rk_test_x"})
	for _, link := range []string{"http://pay.stripe.com/invoice/x/pdf", "https://evil.example/pdf", "https://pay.stripe.com.evil.example/pdf"} {
		if _, err := live.FetchPDF(ctx, link); asConnErr(t, err).Code != "untrusted_link" {
			t.Errorf("%s: %v", link, err)
		}
	}
}

func TestFetchPDFChecksTypeAndSize(t *testing.T) {
	var body []byte
	ct := "text/html"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the API key went to the document host")
		}
		w.Header().Set("Content-Type", ct)
		w.Write(body)
	}))
	defer srv.Close()
	c := stripe.New(stripe.Config{BaseURL: srv.URL, Key: stripefake.TestKey})
	ctx := context.Background()
	body = []byte("<html>not a pdf</html>")
	if _, err := c.FetchPDF(ctx, srv.URL+"/a"); asConnErr(t, err).Code != "not_a_pdf" {
		t.Errorf("html: %v", err)
	}
	ct, body = "application/pdf", []byte("<html>lies</html>")
	if _, err := c.FetchPDF(ctx, srv.URL+"/b"); asConnErr(t, err).Code != "not_a_pdf" {
		t.Errorf("wrong magic: %v", err)
	}
	body = append([]byte("%PDF-1.4\n"), make([]byte, stripe.MaxDocumentBytes)...)
	if _, err := c.FetchPDF(ctx, srv.URL+"/c"); asConnErr(t, err).Code != "document_too_large" {
		t.Errorf("too large: %v", err)
	}
}

func TestCreditNoteForARefundOnceAndItsPDF(t *testing.T) {
	fake, c, _ := setup(t, 5*time.Second)
	ctx := context.Background()
	inv, re := paidInvoice(t, fake, c, 4900)
	p := stripe.CreditNoteParams{Invoice: inv, AmountMinor: 4900, Currency: "USD", Refund: re, Reason: "duplicate",
		Memo: "Duplicate charge refunded.", IdempotencyKey: "call_1:credit_note:7"}
	d, err := c.CreateCreditNote(ctx, p)
	if err != nil || !strings.HasPrefix(d.ID, "cn_") || d.Invoice != inv || d.PDFURL == "" || d.Number != "INV-0042-CN-01" {
		t.Fatalf("credit note %+v, %v", d, err)
	}
	again, err := c.CreateCreditNote(ctx, p)
	if err != nil || again.ID != d.ID || len(fake.CreditNotes()) != 1 {
		t.Fatalf("retry with the same key: %+v %v (%d notes)", again, err, len(fake.CreditNotes()))
	}
	cn := fake.CreditNotes()[0]
	if cn.EmailType != "none" || cn.PostPayment != 4900 || cn.Refunds[0].Refund != re {
		t.Errorf("stored %+v", cn)
	}
	found, err := c.FindCreditNoteByMetadata(ctx, inv, stripe.MetadataKey, p.IdempotencyKey)
	if err != nil || found == nil || found.ID != d.ID {
		t.Errorf("find by metadata: %+v %v", found, err)
	}
	b, err := c.FetchPDF(ctx, d.PDFURL)
	if err != nil || !bytes.Contains(b, []byte("INV-0042-CN-01")) || !bytes.Contains(b, []byte("49.00 USD")) {
		t.Errorf("credit note pdf %.80q %v", b, err)
	}
}

// What Stripe refuses, the fake refuses: unknown invoices, drafts, more than is
// creditable, a refund of another payment, the same refund twice.
func TestCreditNoteRefusals(t *testing.T) {
	fake, c, _ := setup(t, 5*time.Second)
	ctx := context.Background()
	inv, re := paidInvoice(t, fake, c, 4900)
	otherCh := fake.AddCharge(stripefake.Charge{Amount: 1000, Currency: "usd"})
	other, err := c.Refund(ctx, stripe.RefundParams{Charge: otherCh, AmountMinor: 1000, IdempotencyKey: "other"})
	if err != nil {
		t.Fatal(err)
	}
	draft := fake.AddInvoice(stripefake.Invoice{Customer: "cus_Doc1", Currency: "usd", Status: "draft", AmountDue: 24900})
	fake.LinkInvoiceCharge(draft, otherCh)
	base := stripe.CreditNoteParams{Invoice: inv, AmountMinor: 4900, Refund: re}
	cases := []struct {
		name, want string
		edit       func(p *stripe.CreditNoteParams)
	}{
		{"unknown invoice", "resource_missing", func(p *stripe.CreditNoteParams) { p.Invoice = "in_nope" }},
		{"draft", "open or paid", func(p *stripe.CreditNoteParams) { p.Invoice = draft }},
		{"over-credit", "can still be credited", func(p *stripe.CreditNoteParams) { p.AmountMinor = 30000 }},
		{"more than the refund", "exceeds what is left of refund", func(p *stripe.CreditNoteParams) { p.AmountMinor = 5000 }},
		{"refund of another payment", "not a refund of a payment of invoice", func(p *stripe.CreditNoteParams) { p.Refund = other.ExternalID }},
	}
	for i, tc := range cases {
		p := base
		p.IdempotencyKey = "k" + string(rune('a'+i))
		tc.edit(&p)
		_, err := c.CreateCreditNote(ctx, p)
		ce := asConnErr(t, err)
		if !ce.Permanent || !strings.Contains(ce.Code+" "+ce.Message, tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	p := base
	p.IdempotencyKey = "first"
	if _, err := c.CreateCreditNote(ctx, p); err != nil {
		t.Fatal(err)
	}
	p.IdempotencyKey = "second"
	if _, err := c.CreateCreditNote(ctx, p); err == nil || !strings.Contains(err.Error(), "exceeds what is left of refund") {
		t.Errorf("the same refund on a second credit note: %v", err)
	}
	if n := len(fake.CreditNotes()); n != 1 {
		t.Errorf("credit notes %d, want 1", n)
	}
}
