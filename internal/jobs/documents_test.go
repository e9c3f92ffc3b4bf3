package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/jobs"
)

// seedPaid puts a paid invoice INV-0042 (249.00 USD, charge ch) of cus_Doc into
// the sandbox's Stripe.
func (e *env) seedPaid() (invoice, charge string) {
	charge = e.sb.Stripe.AddCharge(stripefake.Charge{Amount: 24900, Currency: "usd", Customer: "cus_Doc", ReceiptNumber: "2231-0042",
		PaymentIntent: "pi_Doc0042"})
	invoice = e.sb.Stripe.AddInvoice(stripefake.Invoice{Number: "INV-0042", Customer: "cus_Doc", CustomerName: "Jordan Lee",
		Currency: "usd", Status: "paid", AmountDue: 24900, AmountPaid: 24900})
	e.sb.Stripe.LinkInvoiceCharge(invoice, charge) // Stripe's invoice payment: the payment intent pi_Doc0042
	return invoice, charge
}

// An invoice resend sends Stripe's own PDF, as application/pdf, to the planned
// address and stores the same bytes in the customer's Drive folder; the receipts
// name the invoice and the Drive file.
func TestInvoiceResendSendsStripesPDFAndFilesItPerCustomer(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	inv, _ := e.seedPaid()
	caseID, ids := e.newCase("document_resend",
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "invoice", DocumentRef: "INV-0042", Case: "1"}},
		plan{"drive", "upload", jobs.UploadParams{DocumentType: "invoice", DocumentRef: "INV-0042", Description: "Invoice resend, case 1"}})
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	e.waitStatus(ids[1], "done", 10*time.Second)
	sent := e.sb.Gmail.Sent()
	if len(sent) != 1 || len(sent[0].Attachments) != 1 {
		t.Fatalf("sent %+v", sent)
	}
	m, att := sent[0], sent[0].Attachments[0]
	if !strings.Contains(m.To, "jordan@example.com") || m.Subject != "Your invoice INV-0042" || att.Name != "invoice-INV-0042.pdf" ||
		att.ContentType != "application/pdf" || !bytes.HasPrefix(att.Data, []byte("%PDF-1.4")) || !bytes.Contains(att.Data, []byte("INV-0042")) {
		t.Errorf("email to %s %q, attachment %s %s %.40q", m.To, m.Subject, att.Name, att.ContentType, att.Data)
	}
	fileID := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[1])
	file, ok := e.sb.Drive.File(fileID)
	if !ok || !bytes.Equal(file.Data, att.Data) || file.MimeType != "application/pdf" || file.AppProperties["stripe_object"] != inv ||
		file.Description != "Invoice resend, case 1" {
		t.Errorf("drive file %s: %+v (%d bytes)", fileID, file, len(file.Data))
	}
	if p := e.sb.Drive.Path(fileID); p != "customers/cus_Doc/invoice-INV-0042.pdf" {
		t.Errorf("stored at %q", p)
	}
	for _, id := range ids {
		if r := e.text(`SELECT receipt FROM actions WHERE id = ?`, id); !strings.Contains(r, inv) || !strings.Contains(r, "invoice-INV-0042.pdf") {
			t.Errorf("receipt of action %d does not name the invoice and file: %s", id, r)
		}
	}
}

// A receipt is a PDF of the charge as Stripe records it, with its receipt number.
func TestReceiptResendAttachesAPDFOfTheCharge(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	_, ch := e.seedPaid()
	caseID, ids := e.newCase("document_resend",
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "receipt", DocumentRef: "R-0042", Charge: ch}})
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	m := e.sb.Gmail.Sent()[0]
	att := m.Attachments[0]
	if att.Name != "receipt-2231-0042.pdf" || !bytes.Contains(att.Data, []byte("2231-0042")) || !bytes.Contains(att.Data, []byte("249.00 USD")) ||
		!strings.Contains(m.Text, "/receipts/payment/"+ch) {
		t.Errorf("receipt %s %.300q; body %q", att.Name, att.Data, m.Text)
	}
}

// A receipt the plan knows only by its invoice is the receipt of the charge that
// paid it, found through the invoice's payments; an invoice nobody paid has no
// receipt, and nothing is sent.
func TestReceiptOfAnInvoiceIsItsPaidCharges(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	inv, ch := e.seedPaid()
	open := e.sb.Stripe.AddInvoice(stripefake.Invoice{Number: "INV-0043", Customer: "cus_Doc", Currency: "usd", Status: "open", AmountDue: 100})
	paid, paidIDs := e.newCase("document_resend",
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "receipt", DocumentRef: "R-0042", Invoice: inv}})
	unpaid, unpaidIDs := e.newCase("document_resend",
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "receipt", DocumentRef: "INV-0043", Invoice: open}})
	e.start()
	for _, c := range []int64{paid, unpaid} {
		if err := e.approve(c, false); err != nil {
			t.Fatal(err)
		}
	}
	e.waitStatus(paidIDs[0], "done", 10*time.Second)
	e.waitStatus(unpaidIDs[0], "needs_attention", 10*time.Second)
	sent := e.sb.Gmail.Sent()
	if len(sent) != 1 || !bytes.Contains(sent[0].Attachments[0].Data, []byte("Stripe charge "+ch)) {
		t.Fatalf("sent %d emails", len(sent))
	}
	if msg := e.text(`SELECT last_error FROM actions WHERE id = ?`, unpaidIDs[0]); !strings.Contains(msg, "INV-0043 ("+open+") is not paid") ||
		!strings.Contains(msg, "no receipt") {
		t.Errorf("unpaid: %q", msg)
	}
}

// Statements and tax forms: Stripe holds none, so nothing is sent or stored and a
// person reads why; a draft invoice has no PDF yet.
func TestDocumentsStripeDoesNotHoldAreNeverMadeUp(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	draft := e.sb.Stripe.AddInvoice(stripefake.Invoice{Customer: "cus_Doc", Currency: "usd", Status: "draft", AmountDue: 100})
	caseID, ids := e.newCase("document_resend",
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "statement", DocumentRef: "2026-Q3"}})
	other, others := e.newCase("document_resend",
		plan{"drive", "upload", jobs.UploadParams{DocumentType: "invoice", DocumentRef: draft}})
	e.start()
	for _, c := range []int64{caseID, other} {
		if err := e.approve(c, false); err != nil {
			t.Fatal(err)
		}
	}
	e.waitStatus(ids[0], "needs_attention", 10*time.Second)
	e.waitStatus(others[0], "needs_attention", 10*time.Second)
	if msg := e.text(`SELECT last_error FROM actions WHERE id = ?`, ids[0]); !strings.Contains(msg, "Stripe holds no statement 2026-Q3") {
		t.Errorf("statement: %q", msg)
	}
	if msg := e.text(`SELECT last_error FROM actions WHERE id = ?`, others[0]); !strings.Contains(msg, "has no PDF") {
		t.Errorf("draft: %q", msg)
	}
	if n := len(e.sb.Gmail.Sent()); n != 0 {
		t.Errorf("emails sent %d", n)
	}
	if n := e.sb.Drive.Creates(); n != 0 {
		t.Errorf("drive files %d", n)
	}
}

// A document Stripe could not serve is not a send of unknown outcome: the rerun
// sends (once) instead of asking a person whether the first attempt arrived.
func TestEmailWhoseDocumentFailedIsRetriedNotSentTwice(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.seedPaid()
	e.sb.Stripe.FailNext(1, 0, "", 0) // the invoice look-up: connection reset, no answer
	caseID, ids := e.newCase("document_resend",
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "invoice", DocumentRef: "INV-0042"}})
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	if n := len(e.sb.Gmail.Sent()); n != 1 {
		t.Errorf("emails %d, want 1", n)
	}
}

// A refund against a paid invoice: the credit note documents the refund (linked,
// no second refund), its PDF goes with the confirmation and to Drive. Every
// action's answer is lost once after the other system acted (the worker dies
// before completing): the rerun finds the credit note by its metadata instead of
// issuing another, and nothing is sent or stored twice.
func TestRefundOfAnInvoiceIssuesOneCreditNoteAfterCrashes(t *testing.T) {
	var mu sync.Mutex
	crashed := map[int64]bool{}
	e := newEnv(t, jobs.Options{AfterCall: func(ctx context.Context, actionID int64) error {
		mu.Lock()
		defer mu.Unlock()
		if crashed[actionID] {
			return nil
		}
		crashed[actionID] = true
		return errors.New("simulated crash after the connector answered")
	}})
	inv, ch := e.seedPaid()
	caseID, ids := e.newCase("refund",
		refundPlan(ch, 4900),
		plan{"stripe", "credit_note", jobs.CreditNoteParams{Invoice: inv, InvoiceNumber: "INV-0042", Amount: 4900, Currency: "USD", Memo: "Refund requested by the customer."}},
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "refund_confirmation", Amount: 4900, Currency: "USD", Attach: "credit_note"}},
		plan{"drive", "upload", jobs.UploadParams{DocumentType: "credit_note", Invoice: inv}})
	e.db.Gorm.Exec(`UPDATE cases SET record_url = 'http://console.test/cases/' || id WHERE id = ?`, caseID)
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		e.waitStatus(id, "done", 20*time.Second)
	}
	notes := e.sb.Stripe.CreditNotes()
	if len(notes) != 1 || e.sb.Stripe.RefundCount() != 1 {
		t.Fatalf("credit notes %d, refunds %d: want one each", len(notes), e.sb.Stripe.RefundCount())
	}
	cn := notes[0]
	refund := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[0])
	if cn.Refunds[0].Refund != refund || cn.Amount != 4900 || cn.EmailType != "none" || cn.Metadata["countersign_key"] == "" {
		t.Errorf("credit note %+v, refund %s", cn, refund)
	}
	if got := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[1]); got != cn.ID {
		t.Errorf("credit note receipt %q, want %s", got, cn.ID)
	}
	sent := e.sb.Gmail.Sent()
	if len(sent) != 1 || len(sent[0].Attachments) != 1 || sent[0].Attachments[0].Name != "credit-note-INV-0042-CN-01.pdf" ||
		!strings.Contains(sent[0].Text, "credit note INV-0042-CN-01") {
		t.Fatalf("confirmations %+v", sent)
	}
	fileID := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[3])
	if p := e.sb.Drive.Path(fileID); p != "customers/cus_Doc/credit-note-INV-0042-CN-01.pdf" || e.sb.Drive.Creates() != 1 {
		t.Errorf("credit note stored at %q (%d files)", p, e.sb.Drive.Creates())
	}
	if got := e.text(`SELECT record_url FROM cases WHERE id = ?`, caseID); !strings.Contains(got, "/refunds/"+refund) {
		t.Errorf("record url %q, want the refund (the credit note documents it)", got)
	}
	for _, id := range ids {
		if !crashed[id] {
			t.Errorf("action %d never crashed: the test proves nothing for it", id)
		}
	}
}
