package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
)

// document is the file a document action sends or stores, read from Stripe when
// the action runs: the billing system's own PDF (invoices, credit notes), or a
// PDF of a charge's receipt rendered from Stripe's charge (Stripe's receipt is an
// HTML page). A payment link has no file.
type document struct {
	stripe.Document
	Kind        string // invoice | receipt | credit_note | payment_link
	FileName    string
	ContentType string
	Data        []byte
}

// loadDocument reads the document kind names for action a: ref is the number
// the call gave, invoice and charge the Stripe ids the plan knew.
func (s *Service) loadDocument(ctx context.Context, a *action, kind, ref, invoice, charge string) (*document, error) {
	c := s.conns.Stripe
	if c == nil {
		return nil, missing("Stripe")
	}
	switch kind {
	case "invoice", "payment_link":
		d, err := c.InvoiceDocument(ctx, pick(invoice, ref))
		if err != nil {
			return nil, err
		}
		if kind == "payment_link" {
			return paymentLink(d)
		}
		if d.PDFURL == "" {
			return nil, permanent("document", "no_pdf", "invoice "+orRef(d.Number, d.ID)+" is "+d.Status+" at Stripe and has no PDF yet: nothing was sent")
		}
		return s.pdfOf(ctx, d, kind, "invoice-"+orRef(d.Number, d.ID))
	case "receipt":
		id, err := receiptCharge(ctx, c, ref, invoice, charge)
		if err != nil {
			return nil, err
		}
		d, err := c.ChargeDocument(ctx, id)
		if err != nil {
			return nil, err
		}
		if d.Status != "succeeded" {
			return nil, permanent("document", "no_receipt", "charge "+d.ID+" is "+d.Status+": Stripe has no receipt for it, nothing was sent")
		}
		return &document{Document: d, Kind: kind, FileName: "receipt-" + fileSafe(orRef(d.Number, d.ID)) + ".pdf",
			ContentType: "application/pdf", Data: receiptPDF(d)}, nil
	case "credit_note":
		id, err := s.caseReceipt(ctx, a.CaseID, "credit_note", "cn_")
		if err != nil {
			return nil, err
		}
		d, err := c.GetCreditNote(ctx, id)
		if err != nil {
			return nil, err
		}
		return s.pdfOf(ctx, d, kind, "credit-note-"+orRef(d.Number, d.ID))
	}
	what := strings.ReplaceAll(orRef(kind, "document"), "_", " ")
	return nil, permanent("document", "not_held", "Stripe holds no "+what+" "+ref+
		" (it keeps invoices, receipts and credit notes): nothing was sent. Send it from the system that issues it, then cancel this action.")
}

// receiptCharge is the charge whose receipt is sent: the plan's, the one ref
// names, or the charge that paid the plan's invoice (Stripe's invoices name no
// charge: InvoiceCharge reads the invoice's payments and says why an unpaid
// invoice has no receipt).
func receiptCharge(ctx context.Context, c *stripe.Client, ref, invoice, charge string) (string, error) {
	id := pick(charge, ref)
	if strings.HasPrefix(id, "ch_") || strings.HasPrefix(id, "py_") {
		return id, nil
	}
	if inv := pick(invoice, ref); strings.HasPrefix(inv, "in_") {
		paid, err := c.InvoiceCharge(ctx, inv)
		return paid.Charge, err
	}
	return "", permanent("document", "no_charge", "no Stripe charge is known for receipt "+ref+": nothing was sent")
}

func (s *Service) pdfOf(ctx context.Context, d stripe.Document, kind, name string) (*document, error) {
	b, err := s.conns.Stripe.FetchPDF(ctx, d.PDFURL)
	if err != nil {
		return nil, err
	}
	return &document{Document: d, Kind: kind, FileName: fileSafe(name) + ".pdf", ContentType: "application/pdf", Data: b}, nil
}

// paymentLink is an open invoice's hosted page: the link a promise to pay is
// kept with. A paid, void or uncollectible invoice has nothing left to pay.
func paymentLink(d stripe.Document) (*document, error) {
	if d.Status != "open" || d.HostedURL == "" {
		return nil, permanent("document", "not_open", "invoice "+orRef(d.Number, d.ID)+" is "+d.Status+
			" at Stripe, so there is no payment link to send: nothing was sent")
	}
	return &document{Document: d, Kind: "payment_link"}, nil
}

// caseReceipt is the receipt id an earlier, done Stripe action of the case
// stored (the refund a credit note documents, the credit note an email attaches).
func (s *Service) caseReceipt(ctx context.Context, caseID int64, operation, prefix string) (string, error) {
	var ids []string
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT receipt_id FROM actions WHERE case_id = ? AND connector = 'stripe'
		AND operation = ? AND status = 'done' ORDER BY position DESC`, caseID, operation).Scan(&ids).Error
	if err != nil {
		return "", fmt.Errorf("jobs: %s of case %d: %w", operation, caseID, err)
	}
	for _, id := range ids {
		if strings.HasPrefix(id, prefix) {
			return id, nil
		}
	}
	return "", permanent("document", "no_"+operation, "the case has no done Stripe "+strings.ReplaceAll(operation, "_", " ")+" to use")
}

// notSent clears the blind-send mark of a that failed before anything was
// handed to the mail provider (its document could not be read), so a rerun sends
// instead of asking a person whether the first attempt arrived.
func (s *Service) notSent(ctx context.Context, a *action) {
	if err := s.db.Gorm.WithContext(context.WithoutCancel(ctx)).Exec(`UPDATE action_effects SET blind_started_at = NULL WHERE action_id = ?`, a.ID).Error; err != nil {
		s.log.Warn("jobs: clear send mark", "action_id", a.ID, "err", err)
	}
}

// withDocument adds what was sent or stored to a receipt: the Stripe document
// (id, number, amount) and the file (name, size, SHA-256), never the links.
func withDocument(rc connector.Receipt, d *document) connector.Receipt {
	if d == nil {
		return rc
	}
	var raw map[string]any
	_ = json.Unmarshal(d.Receipt("").Raw, &raw)
	out := map[string]any{"document": raw, "receipt": json.RawMessage(orJSON(rc.Raw))}
	what := strings.ReplaceAll(d.Kind, "_", " ") + " " + d.ID + " (" + orRef(d.Number, "unnumbered") + ")"
	if d.Data != nil {
		sum := sha256.Sum256(d.Data)
		out["file"] = map[string]any{"name": d.FileName, "content_type": d.ContentType, "bytes": len(d.Data), "sha256": hex.EncodeToString(sum[:])}
		what += " as " + d.FileName + fmt.Sprintf(" (%d bytes)", len(d.Data))
	}
	rc.Raw, _ = json.Marshal(out)
	rc.Summary = strings.TrimSpace(rc.Summary + "; " + what)
	return rc
}

func orJSON(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}

// receiptPDF is a payment receipt from the facts Stripe holds for a charge:
// receipt number, amount, date, refunds, the customer's name. No card or bank
// details: the charge's payment method is never read.
func receiptPDF(d stripe.Document) []byte {
	lines := []string{
		"Receipt number: " + orRef(d.Number, "(not numbered by Stripe)"),
		"Amount paid:    " + stripe.FormatMinor(d.AmountMinor, d.Currency),
	}
	if !d.Created.IsZero() {
		lines = append(lines, "Date paid:      "+d.Created.UTC().Format("2 January 2006"))
	}
	if d.Refunded > 0 {
		lines = append(lines, "Refunded:       "+stripe.FormatMinor(d.Refunded, d.Currency))
	}
	lines = append(lines, "Payment:        Stripe charge "+d.ID)
	if d.CustomerName != "" || d.Customer != "" {
		lines = append(lines, "Customer:       "+strings.TrimSpace(d.CustomerName+" "+paren(d.Customer)))
	}
	lines = append(lines, "", "This receipt states the payment as the billing system (Stripe) records it.")
	return textPDF("Payment receipt "+orRef(d.Number, d.ID), strings.Join(lines, "\n"))
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func pick(first, second string) string {
	if first != "" {
		return first
	}
	return second
}

func orRef(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// fileSafe keeps letters, digits, '-' and '_' of a document number for a file
// name: numbers are Stripe's ("INV-20931", "1234-5678"), never card or bank data.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
}

// creditNote issues the Stripe credit note for the refund the case's earlier
// stripe/refund action made. Like refund it never issues twice: a stored cn_ is
// read again; a rerun (or a replayed 5xx) first looks for the credit note its
// idempotency key is kept under in metadata.
func (s *Service) creditNote(ctx context.Context, a *action) (connector.Receipt, error) {
	var p CreditNoteParams
	if err := decodeParams(a.Params, &p); err != nil {
		return connector.Receipt{}, err
	}
	c := s.conns.Stripe
	if c == nil {
		return connector.Receipt{}, missing("Stripe")
	}
	if strings.HasPrefix(a.ReceiptID, "cn_") {
		d, err := c.GetCreditNote(ctx, a.ReceiptID)
		return d.Receipt("issued"), err
	}
	find := func() (*stripe.Document, error) {
		return c.FindCreditNoteByMetadata(ctx, p.Invoice, stripe.MetadataKey, a.IdempotencyKey)
	}
	if a.prior() {
		if found, err := find(); err != nil || found != nil {
			if found != nil {
				return found.Receipt("issued (found again)"), nil
			}
			return connector.Receipt{}, err
		}
	}
	refund, err := s.caseReceipt(ctx, a.CaseID, "refund", "re_")
	if err != nil {
		return connector.Receipt{}, err
	}
	d, err := c.CreateCreditNote(ctx, stripe.CreditNoteParams{Invoice: p.Invoice, AmountMinor: p.Amount, Currency: p.Currency,
		Refund: refund, Reason: p.Reason, Memo: p.Memo, IdempotencyKey: a.IdempotencyKey,
		Metadata: refundMetadata(map[string]string{"refund": refund}, a)})
	var ce *connector.Error
	if errors.As(err, &ce) && ce.Permanent && ce.Status >= 500 {
		if found, ferr := find(); found != nil {
			return found.Receipt("issued (found again)"), ferr
		}
	}
	if d.ID == "" {
		return connector.Receipt{}, err
	}
	return d.Receipt("issued"), err
}
