package stripe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/connector"
	sdk "github.com/stripe/stripe-go/v82"
)

// Document is a billing document Stripe holds, as Countersign sends and stores
// it: an invoice (its PDF and hosted payment page), a credit note (its PDF) or a
// charge (its receipt). It carries ids, numbers and amounts only: never card or
// bank details.
type Document struct {
	Object       string // invoice | credit_note | charge
	ID           string // in_..., cn_..., ch_...
	Number       string // invoice number, credit note number, receipt number ("" when Stripe never numbered a receipt)
	Customer     string // cus_...
	CustomerName string
	AmountMinor  int64 // invoice: amount due; credit note: total; charge: amount
	PaidMinor    int64 // invoice: amount paid
	LeftMinor    int64 // invoice: amount remaining
	Refunded     int64 // charge: amount refunded
	Currency     string
	Status       string
	Created      time.Time
	PDFURL       string // invoice_pdf / credit note pdf: "" for a draft invoice and for charges
	HostedURL    string // hosted_invoice_url (the payment page of an open invoice) / receipt_url
	Invoice      string // credit note: the invoice it credits
}

// MaxDocumentBytes caps a fetched PDF. Stripe's invoices and credit notes are a
// few hundred kilobytes; anything far larger is not one.
const MaxDocumentBytes = 10 << 20

// liveDocumentHosts are where Stripe links its documents in live and test mode:
// pay.stripe.com (invoice and credit note PDFs, receipts), invoice.stripe.com
// (hosted invoices) and files.stripe.com (where the PDF links redirect).
var liveDocumentHosts = []string{"https://pay.stripe.com", "https://invoice.stripe.com", "https://files.stripe.com"}

// documentClient is hc limited to the document hosts: against Stripe, its https
// hosts above; against a fake (tests, the dev sandbox), the configured API and
// files origins. Redirects elsewhere are refused.
func documentClient(hc *http.Client, base, files string) (*http.Client, map[string]bool) {
	hosts := map[string]bool{}
	if base == DefaultBaseURL {
		for _, h := range liveDocumentHosts {
			hosts[h] = true
		}
	} else {
		for _, u := range []string{base, files} {
			if o := origin(u); o != "" {
				hosts[o] = true
			}
		}
	}
	cp := *hc
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		if !hosts[origin(req.URL.String())] {
			return errors.New("redirect to a host that is not Stripe's")
		}
		req.Header.Del("Authorization")
		return nil
	}
	return &cp, hosts
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// FetchPDF reads a PDF Stripe links to (Document.PDFURL). It refuses a link to
// any host but Stripe's document hosts (the fake's own in tests and dev), sends
// no API key (the links are signed), reads at most MaxDocumentBytes and checks
// that the answer is a PDF by its content type and its %PDF- magic.
func (c *Client) FetchPDF(ctx context.Context, link string) ([]byte, error) {
	const op = "fetch document"
	if link == "" || !c.docHosts[origin(link)] {
		return nil, &connector.Error{Connector: name, Op: op, Code: "untrusted_link", Permanent: true,
			Message: "the document link is not on a Stripe document host"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, &connector.Error{Connector: name, Op: op, Code: "untrusted_link", Permanent: true, Message: "the document link cannot be read"}
	}
	req.Header.Set("Accept", "application/pdf")
	res, err := c.docs.Do(req)
	if err != nil {
		return nil, connector.FromTransport(name, op, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, connector.FromHTTP(name, op, res.StatusCode, res.Header, "", "Stripe did not serve the document")
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxDocumentBytes+1))
	if err != nil {
		return nil, connector.FromTransport(name, op, err)
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	switch {
	case len(b) > MaxDocumentBytes:
		return nil, &connector.Error{Connector: name, Op: op, Code: "document_too_large", Permanent: true,
			Message: fmt.Sprintf("the document is larger than %d MB", MaxDocumentBytes>>20)}
	case mt != "application/pdf" && mt != "application/octet-stream", !bytes.HasPrefix(b, []byte("%PDF-")):
		return nil, &connector.Error{Connector: name, Op: op, Code: "not_a_pdf", Permanent: true,
			Message: "Stripe's document link did not return a PDF"}
	}
	return b, nil
}

// InvoiceDocument looks an invoice up by id (in_...) or printed number
// ("INV-0042", through invoice search). No match is a permanent
// resource_missing error.
func (c *Client) InvoiceDocument(ctx context.Context, ref string) (Document, error) {
	if strings.HasPrefix(ref, "in_") {
		return getDoc(ctx, c, "get invoice", ref, func(ctx context.Context) (Document, error) {
			in, err := c.api.V1Invoices.Retrieve(ctx, ref, nil)
			if err != nil {
				return Document{}, err
			}
			return invoiceDocument(in), nil
		})
	}
	const op = "find invoice"
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return Document{}, err
	}
	p := &sdk.InvoiceSearchParams{}
	p.Query = "number:" + quote(ref)
	p.Limit = sdk.Int64(2)
	var found []Document
	for in, err := range c.api.V1Invoices.Search(ctx, p) {
		if err != nil {
			return Document{}, classify(op, slot, err)
		}
		if found = append(found, invoiceDocument(in)); len(found) == 2 {
			break
		}
	}
	switch len(found) {
	case 0:
		return Document{}, &connector.Error{Connector: name, Op: op, Status: http.StatusNotFound, Code: "resource_missing",
			Permanent: true, Message: "Stripe has no invoice numbered " + ref}
	case 2:
		return Document{}, &connector.Error{Connector: name, Op: op, Code: "ambiguous", Permanent: true,
			Message: "Stripe has more than one invoice numbered " + ref + ": set the invoice id (in_...)"}
	}
	return found[0], nil
}

func invoiceDocument(in *sdk.Invoice) Document {
	return Document{Object: "invoice", ID: in.ID, Number: in.Number, Customer: customerID(in.Customer),
		CustomerName: in.CustomerName, AmountMinor: in.AmountDue, PaidMinor: in.AmountPaid, LeftMinor: in.AmountRemaining,
		Currency: upper(in.Currency), Status: string(in.Status), Created: unixTime(in.Created),
		PDFURL: in.InvoicePDF, HostedURL: in.HostedInvoiceURL}
}

// ChargeDocument reads a charge (ch_...) as the facts of its receipt.
func (c *Client) ChargeDocument(ctx context.Context, id string) (Document, error) {
	return getDoc(ctx, c, "get charge", id, func(ctx context.Context) (Document, error) {
		ch, err := c.api.V1Charges.Retrieve(ctx, id, nil)
		if err != nil {
			return Document{}, err
		}
		d := Document{Object: "charge", ID: ch.ID, Number: ch.ReceiptNumber, Customer: customerID(ch.Customer),
			AmountMinor: ch.Amount, Refunded: ch.AmountRefunded, Currency: upper(ch.Currency), Status: string(ch.Status),
			Created: unixTime(ch.Created), HostedURL: ch.ReceiptURL}
		if ch.BillingDetails != nil {
			d.CustomerName = ch.BillingDetails.Name
		}
		return d, nil
	})
}

func getDoc(ctx context.Context, c *Client, op, id string, fn func(context.Context) (Document, error)) (Document, error) {
	if err := checkID(op, id); err != nil {
		return Document{}, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return Document{}, err
	}
	d, err := fn(ctx)
	return d, classify(op, slot, err)
}

func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// CreditNoteParams is one approved credit note against a paid invoice, linked
// to the refund that paid the money back.
type CreditNoteParams struct {
	Invoice     string // in_...
	AmountMinor int64  // the credit note's total, > 0
	Currency    string // checked against the invoice's in the answer
	Refund      string // re_...: the refund this credit note documents (refunds[0][refund])
	Reason      string // "", duplicate, fraudulent, order_change, product_unsatisfactory
	Memo        string // printed on the PDF: no card, bank or tax details
	// IdempotencyKey is required and identical on every attempt; it is also kept
	// in metadata[MetadataKey] for FindCreditNoteByMetadata.
	IdempotencyKey string
	Metadata       map[string]string
}

var creditNoteReasons = map[string]bool{"": true, "duplicate": true, "fraudulent": true, "order_change": true, "product_unsatisfactory": true}

func (p CreditNoteParams) validate() error {
	const op = "create credit note"
	switch {
	case !strings.HasPrefix(p.Invoice, "in_") || checkID(op, p.Invoice) != nil:
		return invalid(op, "invoice must be a Stripe invoice id (in_...)")
	case !strings.HasPrefix(p.Refund, "re_") || checkID(op, p.Refund) != nil:
		return invalid(op, "refund must be a Stripe refund id (re_...)")
	case p.AmountMinor <= 0:
		return invalid(op, "amount must be positive")
	case !creditNoteReasons[p.Reason]:
		return invalid(op, "reason must be duplicate, fraudulent, order_change or product_unsatisfactory")
	case p.IdempotencyKey == "" || len(p.IdempotencyKey) > 255:
		return invalid(op, "idempotency key must be 1-255 characters")
	}
	return nil
}

// CreateCreditNote issues a credit note for a refund already made on the
// invoice's payment: amount = the refund's amount, linked with refunds[0], so
// Stripe moves no more money. email_type=none: Stripe emails nothing, the
// customer gets Countersign's email to a verified address.
func (c *Client) CreateCreditNote(ctx context.Context, p CreditNoteParams) (Document, error) {
	const op = "create credit note"
	if err := p.validate(); err != nil {
		return Document{}, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return Document{}, err
	}
	params := &sdk.CreditNoteCreateParams{Invoice: sdk.String(p.Invoice), Amount: sdk.Int64(p.AmountMinor),
		EmailType: sdk.String("none"), Metadata: map[string]string{},
		Refunds: []*sdk.CreditNoteCreateRefundParams{{Refund: sdk.String(p.Refund), AmountRefunded: sdk.Int64(p.AmountMinor)}}}
	if p.Reason != "" {
		params.Reason = sdk.String(p.Reason)
	}
	if p.Memo != "" {
		params.Memo = sdk.String(p.Memo)
	}
	for k, v := range p.Metadata {
		params.Metadata[k] = v
	}
	params.Metadata[MetadataKey] = p.IdempotencyKey
	params.SetIdempotencyKey(p.IdempotencyKey)
	cn, err := c.api.V1CreditNotes.Create(ctx, params)
	if err != nil {
		return Document{}, classify(op, slot, err)
	}
	d := creditNoteDocument(cn)
	if p.Currency != "" && !strings.EqualFold(p.Currency, d.Currency) {
		return d, &connector.Error{Connector: name, Op: op, Code: "currency_mismatch", Permanent: true,
			Message: "the credit note's currency differs from the refund's"}
	}
	return d, nil
}

// GetCreditNote reads a credit note (cn_...).
func (c *Client) GetCreditNote(ctx context.Context, id string) (Document, error) {
	return getDoc(ctx, c, "get credit note", id, func(ctx context.Context) (Document, error) {
		cn, err := c.api.V1CreditNotes.Retrieve(ctx, id, nil)
		if err != nil {
			return Document{}, err
		}
		return creditNoteDocument(cn), nil
	})
}

// FindCreditNoteByMetadata lists the credit notes of an invoice and returns the
// first whose metadata[key] == value, or nil: a rerun finds the credit note an
// earlier attempt issued after Stripe has forgotten its idempotency key.
func (c *Client) FindCreditNoteByMetadata(ctx context.Context, invoice, key, value string) (*Document, error) {
	const op = "find credit note"
	if err := checkID(op, invoice); err != nil {
		return nil, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	params := &sdk.CreditNoteListParams{Invoice: sdk.String(invoice)}
	params.Limit = sdk.Int64(100)
	for cn, err := range c.api.V1CreditNotes.List(ctx, params) {
		if err != nil {
			return nil, classify(op, slot, err)
		}
		if cn.Metadata[key] == value {
			d := creditNoteDocument(cn)
			return &d, nil
		}
	}
	return nil, nil
}

func creditNoteDocument(cn *sdk.CreditNote) Document {
	d := Document{Object: "credit_note", ID: cn.ID, Number: cn.Number, Customer: customerID(cn.Customer),
		AmountMinor: cn.Total, Currency: upper(cn.Currency), Status: string(cn.Status), Created: unixTime(cn.Created),
		PDFURL: cn.PDF}
	if d.AmountMinor == 0 {
		d.AmountMinor = cn.Amount
	}
	if cn.Invoice != nil {
		d.Invoice = cn.Invoice.ID
	}
	return d
}

// Receipt is the connector receipt of a document: its id, what it is, and the
// raw facts (ids, number, amount; no links, which are capabilities).
func (d Document) Receipt(verb string) connector.Receipt {
	raw, _ := json.Marshal(map[string]any{"id": d.ID, "object": d.Object, "number": d.Number, "customer": d.Customer,
		"amount": d.AmountMinor, "currency": d.Currency, "status": d.Status, "invoice": d.Invoice})
	what := strings.ReplaceAll(d.Object, "_", " ")
	return connector.Receipt{ExternalID: d.ID,
		Summary: fmt.Sprintf("%s %s %s (%s) %s", what, d.ID, verb, d.Number, FormatMinor(d.AmountMinor, d.Currency)), Raw: raw}
}
