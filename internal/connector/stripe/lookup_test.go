package stripe_test

import (
	"context"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
)

func TestLookups(t *testing.T) {
	fake, c, ch := setup(t, 0)
	ctx := context.Background()
	due := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	pi := fake.AddPaymentIntent(stripefake.PaymentIntent{Amount: 24900, Currency: "usd", Customer: "cus_1", LatestCharge: ch})
	fake.AddInvoice(stripefake.Invoice{ID: "in_1", Number: "INV-0042", Customer: "cus_1", CustomerEmail: "ana@example.com",
		Currency: "eur", AmountDue: 9900, DueDate: due})
	fake.AddCustomer(stripefake.Customer{ID: "cus_1", Email: "ana@example.com", Name: "Ana"})
	fake.AddSubscription(stripefake.Subscription{ID: "sub_1", Customer: "cus_1", Status: "past_due", Currency: "eur"})
	fake.AddDispute(stripefake.Dispute{ID: "dp_1", Charge: ch, Amount: 24900, Currency: "usd", Reason: "fraudulent", DueBy: due})

	f, err := c.GetCharge(ctx, ch)
	if err != nil || f.Object != "charge" || f.AmountMinor != 24900 || f.Currency != "USD" || f.Status != "succeeded" ||
		f.Refunded || f.CustomerID != "cus_1" || f.CustomerEmail != "ana@example.com" {
		t.Errorf("charge: %+v %v", f, err)
	}
	f, err = c.GetPaymentIntent(ctx, pi)
	if err != nil || f.Object != "payment_intent" || f.Raw["latest_charge"] != ch || f.CustomerID != "cus_1" {
		t.Errorf("payment intent: %+v %v", f, err)
	}
	f, err = c.GetInvoice(ctx, "in_1")
	if err != nil || f.AmountMinor != 9900 || f.Currency != "EUR" || f.DueDate == nil || !f.DueDate.Equal(due) ||
		f.Raw["number"] != "INV-0042" || f.Status != "open" {
		t.Errorf("invoice: %+v %v", f, err)
	}
	found, err := c.FindInvoiceByNumber(ctx, "INV-0042")
	if err != nil || found == nil || found.ID != "in_1" {
		t.Errorf("find invoice: %+v %v", found, err)
	}
	if found, err := c.FindInvoiceByNumber(ctx, "INV-'9"); err != nil || found != nil {
		t.Errorf("find missing invoice: %+v %v", found, err)
	}
	f, err = c.GetSubscription(ctx, "sub_1")
	if err != nil || f.Status != "past_due" || f.CustomerID != "cus_1" {
		t.Errorf("subscription: %+v %v", f, err)
	}
	f, err = c.GetCustomer(ctx, "cus_1")
	if err != nil || f.CustomerEmail != "ana@example.com" {
		t.Errorf("customer: %+v %v", f, err)
	}
	found, err = c.FindCustomerByEmail(ctx, "ana@example.com")
	if err != nil || found == nil || found.ID != "cus_1" {
		t.Errorf("find customer: %+v %v", found, err)
	}
	if found, err := c.FindCustomerByEmail(ctx, "nobody@example.com"); err != nil || found != nil {
		t.Errorf("find missing customer: %+v %v", found, err)
	}
	f, err = c.GetDispute(ctx, "dp_1")
	if err != nil || !f.Disputed || f.Status != "needs_response" || f.Raw["charge"] != ch || f.DueDate == nil {
		t.Errorf("dispute: %+v %v", f, err)
	}
	before := len(fake.Requests())
	if _, err := c.GetCharge(ctx, "../v1/refunds"); !connector.IsPermanent(err) || len(fake.Requests()) != before {
		t.Errorf("path-like id must be refused locally: %v", err)
	}
	if _, err := c.FindRefundByMetadata(ctx, "", stripe.MetadataKey, "x"); !connector.IsPermanent(err) {
		t.Errorf("empty charge must be refused, not list every refund: %v", err)
	}
	_, err = c.GetCharge(ctx, "ch_nope")
	if ce := asConnErr(t, err); !ce.Permanent || ce.Status != 404 || ce.Code != "resource_missing" {
		t.Errorf("missing charge: %+v", ce)
	}
}

func TestLookupTimeoutIsTransient(t *testing.T) {
	fake, c, ch := setup(t, 50*time.Millisecond)
	fake.Delay(time.Second)
	_, err := c.GetCharge(context.Background(), ch)
	if ce := asConnErr(t, err); ce.Permanent || ce.Code != "timeout" {
		t.Errorf("timeout: %+v", ce)
	}
}

func TestStageDisputeEvidenceNeverSubmits(t *testing.T) {
	fake, c, ch := setup(t, 0)
	ctx := context.Background()
	dp := fake.AddDispute(stripefake.Dispute{Charge: ch, Amount: 24900, Currency: "usd"})
	ev := map[string]string{"uncategorized_text": "Customer confirmed receipt on the call.", "customer_name": "Ana"}
	rc, err := c.StageDisputeEvidence(ctx, dp, ev, "call_abc:evidence:7")
	if err != nil {
		t.Fatal(err)
	}
	if rc.ExternalID != dp {
		t.Errorf("receipt: %+v", rc)
	}
	d, _ := fake.Dispute(dp)
	if d.Submitted || d.Status != "needs_response" || d.Evidence["customer_name"] != "Ana" {
		t.Errorf("dispute after staging: %+v", d)
	}
	last := fake.Requests()[len(fake.Requests())-1]
	if last.Form.Get("submit") != "false" || last.IdempotencyKey != "call_abc:evidence:7" {
		t.Errorf("request: %+v", last)
	}
	before := len(fake.Requests())
	_, err = c.StageDisputeEvidence(ctx, dp, map[string]string{"submit": "true"}, "k2")
	if !connector.IsPermanent(err) || len(fake.Requests()) != before {
		t.Errorf("unknown field must be refused locally: %v", err)
	}
}

func TestFormatMinor(t *testing.T) {
	for _, tt := range []struct {
		amount int64
		cur    string
		want   string
	}{
		{24900, "usd", "249.00 USD"}, {5, "EUR", "0.05 EUR"}, {1500, "jpy", "1500 JPY"},
		{1234, "kwd", "1.234 KWD"}, {-250, "usd", "-2.50 USD"},
	} {
		if got := stripe.FormatMinor(tt.amount, tt.cur); got != tt.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", tt.amount, tt.cur, got, tt.want)
		}
	}
}
