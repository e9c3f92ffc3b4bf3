package approval

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/auth"
)

func (f *fixture) ops(caseID int64) (string, []Action) {
	f.t.Helper()
	acts, err := liveActions(context.Background(), f.db.Gorm, caseID)
	must(f.t, err)
	var ops []string
	for _, a := range acts {
		ops = append(ops, a.Connector+"/"+a.Operation)
	}
	return strings.Join(ops, " "), acts
}

func (f *fixture) invoiceFact(caseID int64, id, status string, amount int64) {
	f.t.Helper()
	must(f.t, f.db.Gorm.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status, customer_email, detail)
		VALUES (?, 'stripe', 'invoice', ?, ?, 'USD', ?, 'jane@example.com', '{"number": "INV-0042", "customer": "cus_Doc"}')`,
		caseID, id, amount, status).Error)
}

// An invoice resend plans Stripe's PDF to the recipient and into the customer's
// Drive folder, by the invoice's id.
func TestDocumentPlanSendsTheInvoiceStripeHolds(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	id := f.newCase(caseSpec{kind: "document_resend", callEmail: "jane@example.com", fields: `{"invoice_number": "INV-0042"}`})
	f.invoiceFact(id, "in_Doc42", "paid", 24900)
	_, err := f.svc.RequestApproval(context.Background(), lead, id, "")
	must(t, err)
	ops, acts := f.ops(id)
	if ops != "email/send_document drive/upload" {
		t.Fatalf("plan %q", ops)
	}
	if acts[0].Params["invoice"] != "in_Doc42" || acts[1].Params["invoice"] != "in_Doc42" ||
		!strings.Contains(acts[0].Description, "Stripe's invoice PDF attached") ||
		acts[1].Params["folder"] != "Countersign/customers/cus_Doc" {
		t.Errorf("actions %+v", acts)
	}
}

// Stripe holds no statements or tax forms: the plan is refused with a sentence
// rather than sending a made-up file; a draft invoice has no PDF to send.
func TestDocumentPlanRefusesWhatStripeDoesNotHold(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	ctx := context.Background()
	id := f.newCase(caseSpec{kind: "document_resend", callEmail: "jane@example.com", fields: `{"requested_document": "annual statement"}`})
	if _, err := f.svc.RequestApproval(ctx, lead, id, ""); !errors.Is(err, apperr.ErrValidation) || !strings.Contains(err.Error(), "no statements") {
		t.Errorf("statement: %v", err)
	}
	id = f.newCase(caseSpec{kind: "document_resend", callEmail: "jane@example.com", fields: `{"requested_document": "W-9 tax form"}`})
	if _, err := f.svc.RequestApproval(ctx, lead, id, ""); !errors.Is(err, apperr.ErrValidation) || !strings.Contains(err.Error(), "no tax forms") {
		t.Errorf("tax form: %v", err)
	}
	id = f.newCase(caseSpec{kind: "document_resend", callEmail: "jane@example.com", fields: `{"invoice_number": "INV-0042"}`})
	f.invoiceFact(id, "in_Draft", "draft", 100)
	if _, err := f.svc.RequestApproval(ctx, lead, id, ""); !errors.Is(err, apperr.ErrValidation) || !strings.Contains(err.Error(), "draft") {
		t.Errorf("draft: %v", err)
	}
}

// No document email goes to an unverified address: the case cannot be approved,
// so nothing is queued, until a support lead verifies it.
func TestDocumentToAnUnverifiedAddressIsNeverQueued(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	fin := f.user(time.Time{}, auth.FinanceApprover)
	id := f.newCase(caseSpec{kind: "document_resend", callEmail: "someone.else@example.org", fields: `{"invoice_number": "INV-0042"}`})
	f.invoiceFact(id, "in_Doc42", "paid", 24900)
	_, err := f.svc.RequestApproval(context.Background(), lead, id, "")
	must(t, err)
	_, err = f.svc.Approve(context.Background(), fin, id, f.fp(id))
	if !errors.Is(err, apperr.ErrValidation) || !strings.Contains(err.Error(), "Waiting for verification") {
		t.Fatalf("approve to an unverified address: %v", err)
	}
	if f.hooks.Load() != 0 || f.count(`SELECT count(*) FROM actions WHERE case_id = ? AND status <> 'planned'`, id) != 0 {
		t.Errorf("something was queued: hooks %d", f.hooks.Load())
	}
}

// A refund of a paid invoice's payment plans a credit note after the refund, its
// PDF on the confirmation and in Drive; the refund stays the only money movement.
func TestRefundOfAPaidInvoicePlansACreditNote(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	s := refundSpec(4900)
	id := f.newCase(s)
	f.invoiceFact(id, "in_Doc42", "paid", 24900)
	_, err := f.svc.RequestApproval(context.Background(), lead, id, "")
	must(t, err)
	ops, acts := f.ops(id)
	if ops != "stripe/refund stripe/credit_note email/send_document drive/upload zendesk/ticket" {
		t.Fatalf("plan %q", ops)
	}
	cn := acts[1]
	if cn.Params["invoice"] != "in_Doc42" || !strings.Contains(cn.Description, "credit note for 49.00 USD on invoice INV-0042") ||
		acts[2].Params["attach"] != "credit_note" || acts[3].Params["document_type"] != "credit_note" {
		t.Errorf("credit note %+v, email %+v, upload %+v", cn, acts[2].Params, acts[3].Params)
	}
	open := f.newCase(refundSpec(4900))
	f.invoiceFact(open, "in_Open", "open", 24900)
	_, err = f.svc.RequestApproval(context.Background(), lead, open, "")
	must(t, err)
	if ops, _ := f.ops(open); strings.Contains(ops, "credit_note") {
		t.Errorf("open invoice: %q, want no credit note", ops)
	}
}

// A promise to pay on an open invoice emails its payment link, to a verified
// address only; an unverified one gets none (the sheet row still goes).
func TestCollectionsPlanSendsThePaymentLinkOfAnOpenInvoice(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	id := f.newCase(caseSpec{kind: "collections", amount: ptr(24900), currency: "USD", callEmail: "jane@example.com"})
	f.invoiceFact(id, "in_Open", "open", 24900)
	_, err := f.svc.RequestApproval(context.Background(), lead, id, "")
	must(t, err)
	ops, acts := f.ops(id)
	if ops != "sheets/append_row email/send_document" || acts[1].Params["document_type"] != "payment_link" ||
		acts[1].Params["invoice"] != "in_Open" || acts[1].Params["to"] != "jane@example.com" {
		t.Fatalf("plan %q %+v", ops, acts)
	}
	other := f.newCase(caseSpec{kind: "collections", amount: ptr(24900), currency: "USD", callEmail: "jane@example.com"})
	must(t, f.db.Gorm.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status)
		VALUES (?, 'stripe', 'invoice', 'in_Open2', 24900, 'USD', 'open')`, other).Error)
	_, err = f.svc.RequestApproval(context.Background(), lead, other, "")
	must(t, err)
	if ops, _ := f.ops(other); ops != "sheets/append_row" {
		t.Errorf("unverified address: %q, want the sheet row only", ops)
	}
}

// chargeFact adds a charge fact; a non-empty invoice links it to that invoice,
// as the claim check does for the charge it found through the invoice's payments.
func (f *fixture) chargeFact(caseID int64, id, invoice string) {
	f.t.Helper()
	detail := `{"payment_intent": "pi_` + strings.TrimPrefix(id, "ch_") + `"}`
	if invoice != "" {
		detail = `{"payment_intent": "pi_` + strings.TrimPrefix(id, "ch_") + `", "invoice": "` + invoice + `"}`
	}
	must(f.t, f.db.Gorm.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status, detail)
		VALUES (?, 'stripe', 'charge', ?, 24900, 'USD', 'succeeded', CAST(? AS jsonb))`, caseID, id, detail).Error)
}

// A receipt the call names by invoice is the receipt of the charge that paid the
// invoice (linked by the claim check), not another charge the case holds; an
// unpaid invoice has no receipt, and one whose charge could not be told is refused.
func TestReceiptOfAnInvoicePlansTheChargeThatPaidIt(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	ctx := context.Background()
	receipt := func() int64 {
		return f.newCase(caseSpec{kind: "document_resend", callEmail: "jane@example.com", fields: `{"receipt_number": "R-0042", "invoice_number": "INV-0042"}`})
	}
	id := receipt()
	f.invoiceFact(id, "in_Doc42", "paid", 24900)
	f.chargeFact(id, "ch_Other", "")
	f.chargeFact(id, "ch_Paid", "in_Doc42")
	_, err := f.svc.RequestApproval(ctx, lead, id, "")
	must(t, err)
	_, acts := f.ops(id)
	if acts[0].Params["charge"] != "ch_Paid" || acts[0].Params["invoice"] != "in_Doc42" || !strings.Contains(acts[0].Description, "Stripe charge ch_Paid") {
		t.Errorf("receipt %+v", acts[0])
	}
	open := receipt()
	f.invoiceFact(open, "in_Open", "open", 24900)
	if _, err := f.svc.RequestApproval(ctx, lead, open, ""); !errors.Is(err, apperr.ErrValidation) ||
		!strings.Contains(err.Error(), "Invoice INV-0042 is open at Stripe: it is not paid, so there is no receipt to send.") {
		t.Errorf("unpaid: %v", err)
	}
	parts := receipt()
	f.invoiceFact(parts, "in_Parts", "paid", 24900)
	if _, err := f.svc.RequestApproval(ctx, lead, parts, ""); !errors.Is(err, apperr.ErrValidation) ||
		!strings.Contains(err.Error(), "No charge is known for invoice INV-0042") {
		t.Errorf("no charge found: %v", err)
	}
}

// Stripe links only a refund of the invoice's own payment to its credit note: a
// refund of another charge plans none.
func TestCreditNoteOnlyForARefundOfTheInvoicesCharge(t *testing.T) {
	f := newFixture(t)
	lead := f.user(time.Time{}, auth.SupportLead)
	for _, tc := range []struct {
		dest string
		want bool
	}{{"ch_Paid", true}, {"pi_Paid", true}, {"ch_Other", false}} {
		s := refundSpec(4900)
		s.dest, s.onFile = tc.dest, ""
		id := f.newCase(s)
		f.invoiceFact(id, "in_Doc42", "paid", 24900)
		f.chargeFact(id, "ch_Paid", "in_Doc42")
		_, err := f.svc.RequestApproval(context.Background(), lead, id, "")
		must(t, err)
		if ops, _ := f.ops(id); strings.Contains(ops, "stripe/credit_note") != tc.want {
			t.Errorf("refund of %s: plan %q", tc.dest, ops)
		}
	}
}
