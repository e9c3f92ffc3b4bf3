package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/money"
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
	case p.Currency != "":
		if err := (money.Amount{Minor: p.AmountMinor, Currency: strings.ToUpper(p.Currency)}).CheckStep(); err != nil {
			problem = strings.TrimPrefix(err.Error(), "money: ")
		}
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
	if p.Currency != "" && !strings.EqualFold(p.Currency, string(r.Currency)) {
		return rc, &connector.Error{Connector: name, Op: op, Code: "currency_mismatch",
			Message: "refund currency differs from the approved currency", Permanent: true}
	}
	return rc, refundOutcome(op, r)
}

// CodeRefundPending is the code of the error Refund and GetRefund return with the
// receipt while Stripe has not settled the refund: money has not moved yet.
const CodeRefundPending = "refund_pending"

// IsPending reports whether err says a refund exists but is not settled yet:
// the action waits (charge.refund.updated or a poll with GetRefund), neither
// done nor failed.
func IsPending(err error) bool {
	var ce *connector.Error
	return errors.As(err, &ce) && ce.Connector == name && ce.Code == CodeRefundPending
}

// refundOutcome: only "succeeded" is done. pending and requires_action wait;
// failed and canceled are permanent (money did not move as approved).
func refundOutcome(op string, r *sdk.Refund) error {
	switch r.Status {
	case sdk.RefundStatusSucceeded:
		return nil
	case sdk.RefundStatusFailed, sdk.RefundStatusCanceled:
		return &connector.Error{Connector: name, Op: op, Code: "refund_" + string(r.Status),
			Message: "Stripe reports the refund as " + string(r.Status), Permanent: true}
	}
	return &connector.Error{Connector: name, Op: op, Code: CodeRefundPending,
		Message: "Stripe reports refund " + r.ID + " as " + string(r.Status) + ": waiting until it succeeds"}
}

// GetRefund reads a refund (re_...) and classifies its status like Refund: nil
// error only when it succeeded.
func (c *Client) GetRefund(ctx context.Context, id string) (connector.Receipt, error) {
	const op = "get refund"
	if err := checkID(op, id); err != nil {
		return connector.Receipt{}, err
	}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return connector.Receipt{}, err
	}
	r, err := c.api.V1Refunds.Retrieve(ctx, id, nil)
	if err != nil {
		return connector.Receipt{}, classify(op, slot, err)
	}
	return refundReceipt(r), refundOutcome(op, r)
}

// FindRefundByMetadata lists the refunds of a charge (ch_...) or payment
// intent (pi_...) and returns the first whose metadata[key] == value, or nil.
// A refund found that has not succeeded comes with the error Refund would give.
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
			return &rc, refundOutcome(op, r)
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

// FormatMinor renders an amount in Stripe's minor units as "249.00 USD", with
// the exponents of internal/money (Stripe's: "12000 MGA", "40.00 ISK").
func FormatMinor(amount int64, currency string) string {
	cur := strings.ToUpper(currency)
	return money.Amount{Minor: amount, Currency: cur}.Major() + " " + cur
}
