package stripe_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
)

func correction(cust, key string) stripe.CorrectionParams {
	return stripe.CorrectionParams{Customer: cust, IdempotencyKey: key, TaxType: "eu_vat", TaxValue: "DE123456789",
		Address: stripe.Address{Line1: "Hauptstr. 5", City: "Berlin", PostalCode: "10115", Country: "DE"}}
}

func TestCorrectCustomerAppliesAddressAndTaxIDOnce(t *testing.T) {
	fake, c, _ := setup(t, 5*time.Second)
	cust := fake.AddCustomer(stripefake.Customer{Email: "ana@example.com"})
	ctx := context.Background()
	rc, err := c.CorrectCustomer(ctx, correction(cust, "key-1"))
	if err != nil {
		t.Fatalf("correct: %v", err)
	}
	if rc.Customer != cust || !strings.HasPrefix(rc.TaxID, "txi_") || rc.TaxType != "eu_vat" {
		t.Fatalf("receipt = %+v", rc)
	}
	got, _ := fake.Customer(cust)
	if got.Address["line1"] != "Hauptstr. 5" || got.Address["city"] != "Berlin" || got.Address["postal_code"] != "10115" || got.Address["country"] != "DE" {
		t.Errorf("address = %v", got.Address)
	}
	if len(got.TaxIDs) != 1 || got.TaxIDs[0].Value != "DE123456789" || got.TaxIDs[0].Type != "eu_vat" {
		t.Errorf("tax ids = %+v", got.TaxIDs)
	}
	// A retry (same key) and a late retry after Stripe forgot the key (new key)
	// both find the tax id and never add a second one.
	for _, key := range []string{"key-1", "key-2"} {
		again, err := c.CorrectCustomer(ctx, correction(cust, key))
		if err != nil || again.TaxID != rc.TaxID {
			t.Errorf("retry %s: %+v, %v", key, again, err)
		}
	}
	if got, _ := fake.Customer(cust); len(got.TaxIDs) != 1 {
		t.Errorf("tax ids after retries = %d, want 1", len(got.TaxIDs))
	}
	var posts int
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/tax_ids") {
			posts++
			if r.IdempotencyKey != "key-1-tax-id" {
				t.Errorf("tax id Idempotency-Key = %q", r.IdempotencyKey)
			}
		}
		if r.Method == http.MethodPost && r.Path == "/v1/customers/"+cust && r.IdempotencyKey == "" {
			t.Error("address update sent without Idempotency-Key")
		}
	}
	if posts != 1 {
		t.Errorf("tax id POSTs = %d, want 1", posts)
	}
}

func TestCorrectCustomerRefusals(t *testing.T) {
	fake, c, _ := setup(t, 5*time.Second)
	cust := fake.AddCustomer(stripefake.Customer{})
	ctx := context.Background()
	cases := []struct {
		name   string
		mutate func(*stripe.CorrectionParams)
		status int
		code   string
	}{
		{"unknown customer", func(p *stripe.CorrectionParams) { p.Customer = "cus_nope" }, 404, "resource_missing"},
		{"unknown tax id type", func(p *stripe.CorrectionParams) { p.TaxType = "xx_vat" }, 400, ""},
		{"malformed value", func(p *stripe.CorrectionParams) { p.TaxValue = "DE12" }, 400, "tax_id_invalid"},
		{"country not ISO", func(p *stripe.CorrectionParams) { p.Address.Country = "Germany" }, 400, "country_unsupported"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := correction(cust, "refuse-"+string(rune('a'+i)))
			tc.mutate(&p)
			_, err := c.CorrectCustomer(ctx, p)
			ce := asConnErr(t, err)
			if !ce.Permanent || ce.Status != tc.status || (tc.code != "" && ce.Code != tc.code) {
				t.Errorf("error = %+v", ce)
			}
			if strings.Contains(err.Error(), "DE12") {
				t.Errorf("error carries the tax value: %v", err)
			}
		})
	}
	if got, _ := fake.Customer(cust); len(got.TaxIDs) != 0 {
		t.Errorf("refused calls added tax ids: %+v", got.TaxIDs)
	}
	// Refused before any request: nothing to correct, half a tax id, not a customer id.
	for _, p := range []stripe.CorrectionParams{
		{Customer: cust, IdempotencyKey: "k"},
		{Customer: cust, IdempotencyKey: "k", TaxType: "eu_vat"},
		{Customer: "ch_1", IdempotencyKey: "k", TaxType: "eu_vat", TaxValue: "DE123456789"},
	} {
		if ce := asConnErr(t, func() error { _, err := c.CorrectCustomer(ctx, p); return err }()); ce.Code != "invalid_params" {
			t.Errorf("%+v: code %q", p, ce.Code)
		}
	}
}
