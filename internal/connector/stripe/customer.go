package stripe

import (
	"context"
	"strings"

	"github.com/countersign/countersign/internal/connector"
	sdk "github.com/stripe/stripe-go/v82"
)

// Address is a customer's billing address as Stripe stores it.
type Address struct {
	Line1, Line2, City, PostalCode, State, Country string
}

func (a Address) empty() bool { return a == Address{} }

// CorrectionParams is one approved billing correction: a new address, a tax id
// to add, or both. TaxValue is the original from the vault; it is sent to
// Stripe and never appears in a receipt, error or log.
type CorrectionParams struct {
	Customer       string
	Address        Address
	TaxType        string // Stripe tax id type, e.g. eu_vat
	TaxValue       string
	IdempotencyKey string
}

// CorrectionReceipt says what Stripe now holds, by id: never the tax value.
type CorrectionReceipt struct {
	Customer string
	TaxID    string // txi_...; empty when no tax id was added
	TaxType  string
}

func invalid(op, msg string) error {
	return &connector.Error{Connector: name, Op: op, Code: "invalid_params", Message: msg, Permanent: true}
}

// CorrectCustomer updates the customer's address (POST /v1/customers/{id}) and
// adds the tax id (POST /v1/customers/{id}/tax_ids), each with its own
// Idempotency-Key derived from p.IdempotencyKey. Before adding, it lists the
// customer's tax ids and reuses one with the same type and value, so a retry
// after Stripe forgot the key never adds it twice.
func (c *Client) CorrectCustomer(ctx context.Context, p CorrectionParams) (CorrectionReceipt, error) {
	const op = "correct customer"
	switch {
	case checkID(op, p.Customer) != nil || !strings.HasPrefix(p.Customer, "cus_"):
		return CorrectionReceipt{}, invalid(op, "customer must be a Stripe customer id (cus_...)")
	case p.IdempotencyKey == "" || len(p.IdempotencyKey) > 240:
		return CorrectionReceipt{}, invalid(op, "idempotency key must be 1-240 characters")
	case (p.TaxType == "") != (p.TaxValue == ""):
		return CorrectionReceipt{}, invalid(op, "a tax id needs both its type and its value")
	case p.Address.empty() && p.TaxType == "":
		return CorrectionReceipt{}, invalid(op, "nothing to correct: no address and no tax id")
	}
	rc := CorrectionReceipt{Customer: p.Customer, TaxType: p.TaxType}
	ctx, slot, err := c.begin(ctx, op)
	if err != nil {
		return rc, err
	}
	if !p.Address.empty() {
		a := &sdk.AddressParams{}
		for _, f := range []struct {
			dst **string
			v   string
		}{{&a.Line1, p.Address.Line1}, {&a.Line2, p.Address.Line2}, {&a.City, p.Address.City},
			{&a.PostalCode, p.Address.PostalCode}, {&a.State, p.Address.State}, {&a.Country, p.Address.Country}} {
			if f.v != "" {
				*f.dst = sdk.String(f.v)
			}
		}
		params := &sdk.CustomerUpdateParams{Address: a}
		params.SetIdempotencyKey(p.IdempotencyKey + "-address")
		if _, err := c.api.V1Customers.Update(ctx, p.Customer, params); err != nil {
			return rc, classify(op, slot, err)
		}
	}
	if p.TaxType == "" {
		return rc, nil
	}
	list := &sdk.TaxIDListParams{Customer: sdk.String(p.Customer)}
	for t, err := range c.api.V1TaxIDs.List(ctx, list) {
		if err != nil {
			return rc, classify(op, slot, err)
		}
		if string(t.Type) == p.TaxType && normalTax(t.Value) == normalTax(p.TaxValue) {
			rc.TaxID = t.ID
			return rc, nil
		}
	}
	params := &sdk.TaxIDCreateParams{Customer: sdk.String(p.Customer), Type: sdk.String(p.TaxType), Value: sdk.String(p.TaxValue)}
	params.SetIdempotencyKey(p.IdempotencyKey + "-tax-id")
	t, err := c.api.V1TaxIDs.Create(ctx, params)
	if err != nil {
		return rc, classify(op, slot, err)
	}
	rc.TaxID = t.ID
	return rc, nil
}

func normalTax(v string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ".", "").Replace(v))
}
