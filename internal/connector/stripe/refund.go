package stripe

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/connector"
	sdk "github.com/stripe/stripe-go/v82"
)

// MetadataKey is the refund metadata entry that carries the idempotency key,
// so a run that lost Stripe's answer can find its refund after Stripe has
// forgotten the key (24 h) with FindRefundByMetadata.
const MetadataKey = "countersign_key"

// RefundParams describes one approved refund.
type RefundParams struct {
	Charge        string // exactly one of Charge and PaymentIntent
	PaymentIntent string
	AmountMinor   int64  // required, > 0: an approval is for an amount, never "the rest"
	Currency      string // optional ISO code; not sent (Stripe refunds in the charge's currency) but checked against the answer
	Reason        string // "", duplicate, fraudulent or requested_by_customer
	// IdempotencyKey is required (1-255 chars) and must be the key stored on
	// the action row, identical on every attempt.
	IdempotencyKey string
	Metadata       map[string]string
}

var reasons = map[string]bool{"": true, "duplicate": true, "fraudulent": true, "requested_by_customer": true}

func (p RefundParams) validate() error {
	var problem string
	switch {
	case (p.Charge == "") == (p.PaymentIntent == ""):
		problem = "exactly one of charge and payment intent is required"
	case checkID("refund", p.Charge+p.PaymentIntent) != nil:
		problem = "not a Stripe id"
	case p.AmountMinor <= 0:
		problem = "amount must be positive"
	case !reasons[p.Reason]:
		problem = "reason must be duplicate, fraudulent or requested_by_customer"
	case p.IdempotencyKey == "" || len(p.IdempotencyKey) > 255:
		problem = "idempotency key must be 1-255 characters"
	case p.Currency != "" && len(p.Currency) != 3:
		problem = "currency must be a three-letter ISO code"
	}
	if problem == "" {
		return nil
	}
	return &connector.Error{Connector: name, Op: "refund", Code: "invalid_params", Message: problem, Permanent: true}
}

// Refund creates a refund with an Idempotency-Key header, so a retry with the
// same key can never refund twice. A refund Stripe reports as failed or
// canceled comes back with its receipt and a permanent error, as does a
// currency that differs from p.Currency: money did not move as approved.
func (c *Client) Refund(ctx context.Context, p RefundParams) (connector.Receipt, error) {
	const op = "refund"
	if err := p.validate(); err != nil {
		return connector.Receipt{}, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return connector.Receipt{}, err
	}
	params := &sdk.RefundCreateParams{Amount: sdk.Int64(p.AmountMinor), Metadata: map[string]string{}}
	if p.Charge != "" {
		params.Charge = sdk.String(p.Charge)
	} else {
		params.PaymentIntent = sdk.String(p.PaymentIntent)
	}
	if p.Reason != "" {
		params.Reason = sdk.String(p.Reason)
	}
	for k, v := range p.Metadata {
		params.Metadata[k] = v
	}
	if _, ok := params.Metadata[MetadataKey]; !ok {
		params.Metadata[MetadataKey] = p.IdempotencyKey
	}
	params.SetIdempotencyKey(p.IdempotencyKey)
	r, err := c.api.V1Refunds.Create(ctx, params)
	if err != nil {
		return connector.Receipt{}, classify(op, slot, err)
	}
	rc := refundReceipt(r)
	switch {
	case r.Status == sdk.RefundStatusFailed || r.Status == sdk.RefundStatusCanceled:
		return rc, &connector.Error{Connector: name, Op: op, Code: "refund_" + string(r.Status),
			Message: "Stripe reports the refund as " + string(r.Status), Permanent: true}
	case p.Currency != "" && !strings.EqualFold(p.Currency, string(r.Currency)):
		return rc, &connector.Error{Connector: name, Op: op, Code: "currency_mismatch",
			Message: "refund currency differs from the approved currency", Permanent: true}
	}
	return rc, nil
}

// FindRefundByMetadata lists the refunds of a charge (ch_...) or payment
// intent (pi_...) and returns the first whose metadata[key] == value, or nil.
// Workers use it to reconcile before retrying an old action.
func (c *Client) FindRefundByMetadata(ctx context.Context, chargeOrPI, key, value string) (*connector.Receipt, error) {
	const op = "find refund"
	if err := checkID(op, chargeOrPI); err != nil {
		return nil, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return nil, err
	}
	params := &sdk.RefundListParams{}
	params.Limit = sdk.Int64(100)
	if strings.HasPrefix(chargeOrPI, "pi_") {
		params.PaymentIntent = sdk.String(chargeOrPI)
	} else {
		params.Charge = sdk.String(chargeOrPI)
	}
	for r, err := range c.api.V1Refunds.List(ctx, params) {
		if err != nil {
			return nil, classify(op, slot, err)
		}
		if v, ok := r.Metadata[key]; ok && v == value {
			rc := refundReceipt(r)
			return &rc, nil
		}
	}
	return nil, nil
}

func refundReceipt(r *sdk.Refund) connector.Receipt {
	raw := map[string]any{"id": r.ID, "object": "refund", "amount": r.Amount,
		"currency": r.Currency, "status": r.Status, "reason": r.Reason, "created": r.Created, "metadata": r.Metadata}
	if r.Charge != nil {
		raw["charge"] = r.Charge.ID
	}
	if r.PaymentIntent != nil {
		raw["payment_intent"] = r.PaymentIntent.ID
	}
	b, _ := json.Marshal(raw)
	return connector.Receipt{
		ExternalID: r.ID,
		Summary:    fmt.Sprintf("refund %s %s %s", r.ID, FormatMinor(r.Amount, string(r.Currency)), r.Status),
		Raw:        b,
	}
}

// zeroDecimal and threeDecimal list the currencies whose minor unit is not a
// hundredth, following Stripe's currency documentation.
var (
	zeroDecimal = map[string]bool{"BIF": true, "CLP": true, "DJF": true, "GNF": true, "JPY": true, "KMF": true,
		"KRW": true, "MGA": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true,
		"XAF": true, "XOF": true, "XPF": true}
	threeDecimal = map[string]bool{"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true}
)

// FormatMinor renders an amount in minor units as "249.00 USD".
func FormatMinor(amount int64, currency string) string {
	cur := strings.ToUpper(currency)
	digits := 2
	switch {
	case zeroDecimal[cur]:
		digits = 0
	case threeDecimal[cur]:
		digits = 3
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	if digits == 0 {
		return fmt.Sprintf("%s%d %s", sign, amount, cur)
	}
	div := int64(100)
	if digits == 3 {
		div = 1000
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, amount/div, digits, amount%div, cur)
}
