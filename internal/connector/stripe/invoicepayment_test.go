package stripe_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
)

// invoiceOf seeds an invoice of 249.00 USD with the given status.
func invoiceOf(fake *stripefake.Fake, number, status string) string {
	paid := int64(0)
	if status == "paid" {
		paid = 24900
	}
	return fake.AddInvoice(stripefake.Invoice{Number: number, Customer: "cus_1", Currency: "usd", Status: status,
		AmountDue: 24900, AmountPaid: paid})
}

func TestInvoiceChargeOfAPaymentIntent(t *testing.T) {
	fake, c, _ := setup(t, 5*time.Second)
	ch := fake.AddCharge(stripefake.Charge{Amount: 24900, Currency: "usd", Customer: "cus_1", PaymentIntent: "pi_Paid1"})
	fake.AddPaymentIntent(stripefake.PaymentIntent{ID: "pi_Paid1", Amount: 24900, Currency: "usd", LatestCharge: ch})
	in := invoiceOf(fake, "INV-1", "paid")
	fake.LinkInvoiceCharge(in, ch)
	got, err := c.InvoiceCharge(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := stripe.InvoicePaid{Invoice: in, Payment: got.Payment, Charge: ch, PaymentIntent: "pi_Paid1", AmountMinor: 24900,
		Currency: "USD", Default: true, Paid: 1}
	if got != want || !strings.HasPrefix(got.Payment, "inpay_") {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// One list filtered by the invoice, then the payment intent for its latest_charge.
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/v1/invoice_payments" || reqs[0].Form.Encode() != "invoice="+in+"&limit=100" ||
		reqs[1].Path != "/v1/payment_intents/pi_Paid1" {
		t.Errorf("requests %+v", reqs)
	}
}

func TestInvoiceChargeOfACharge(t *testing.T) {
	fake, c, ch := setup(t, 5*time.Second)
	in := invoiceOf(fake, "INV-2", "paid")
	fake.LinkInvoiceCharge(in, ch)
	fake.LinkInvoiceCharge(in, ch) // linking again adds nothing
	got, err := c.InvoiceCharge(context.Background(), in)
	if err != nil || got.Charge != ch || got.PaymentIntent != "" || got.Paid != 1 || !got.Default {
		t.Errorf("got %+v %v", got, err)
	}
}

// Not paid: an open invoice with its open default payment, an open invoice with
// none, a paid invoice that no Stripe payment paid. No charge, so no receipt.
func TestInvoiceChargeOfAnUnpaidInvoice(t *testing.T) {
	fake, c, _ := setup(t, 5*time.Second)
	open := invoiceOf(fake, "INV-3", "open")
	fake.AddPaymentIntent(stripefake.PaymentIntent{ID: "pi_Open", Amount: 24900, Currency: "usd", Status: "requires_payment_method"})
	fake.AddInvoicePayment(open, stripefake.InvoicePayment{PaymentIntent: "pi_Open", Status: "open", AmountRequested: 24900, IsDefault: true})
	bare := invoiceOf(fake, "INV-4", "open")
	fake.AddInvoicePayment(bare, stripefake.InvoicePayment{PaymentIntent: "pi_Gone", Status: "canceled", AmountRequested: 24900,
		CanceledAt: time.Now().Unix()})
	credited := invoiceOf(fake, "INV-5", "paid")
	for _, tc := range []struct{ id, want string }{
		{open, "invoice INV-3 (" + open + ") is not paid (open at Stripe, none of its payments paid): there is no charge, so no receipt"},
		{bare, "invoice INV-4 (" + bare + ") is not paid"},
		{credited, "invoice INV-5 (" + credited + ") is paid at Stripe, but by no Stripe payment"},
	} {
		got, err := c.InvoiceCharge(context.Background(), tc.id)
		ce := asConnErr(t, err)
		if ce.Code != "invoice_not_paid" || !ce.Permanent || !strings.Contains(ce.Message, tc.want) || got.Charge != "" {
			t.Errorf("%s: %+v %v", tc.id, got, err)
		}
	}
}

// Partial payments: the paid default payment wins; without it, the only paid
// one; several paid and none the default is ambiguous, naming each.
func TestInvoiceChargeOfSeveralPayments(t *testing.T) {
	fake, c, _ := setup(t, 5*time.Second)
	ctx := context.Background()
	part := fake.AddCharge(stripefake.Charge{Amount: 10000, Currency: "usd", PaymentIntent: "pi_Part"})
	fake.AddPaymentIntent(stripefake.PaymentIntent{ID: "pi_Part", Amount: 10000, Currency: "usd", LatestCharge: part})
	rest := fake.AddCharge(stripefake.Charge{Amount: 14900, Currency: "usd"})

	withDefault := invoiceOf(fake, "INV-6", "paid")
	fake.AddInvoicePayment(withDefault, stripefake.InvoicePayment{PaymentIntent: "pi_Part", AmountRequested: 10000, AmountPaid: 10000})
	fake.AddInvoicePayment(withDefault, stripefake.InvoicePayment{Charge: rest, AmountRequested: 14900, AmountPaid: 14900, IsDefault: true})
	if got, err := c.InvoiceCharge(ctx, withDefault); err != nil || got.Charge != rest || !got.Default || got.Paid != 2 || got.AmountMinor != 14900 {
		t.Errorf("with a paid default: %+v %v", got, err)
	}

	onePaid := invoiceOf(fake, "INV-7", "open")
	fake.AddInvoicePayment(onePaid, stripefake.InvoicePayment{PaymentIntent: "pi_Open7", Status: "open", AmountRequested: 14900, IsDefault: true})
	fake.AddInvoicePayment(onePaid, stripefake.InvoicePayment{Charge: rest, Status: "canceled", AmountRequested: 14900})
	fake.AddInvoicePayment(onePaid, stripefake.InvoicePayment{PaymentIntent: "pi_Part", AmountRequested: 10000, AmountPaid: 10000})
	if got, err := c.InvoiceCharge(ctx, onePaid); err != nil || got.Charge != part || got.PaymentIntent != "pi_Part" || got.Default || got.Paid != 1 {
		t.Errorf("one paid part: %+v %v", got, err)
	}

	twoPaid := invoiceOf(fake, "INV-8", "paid")
	fake.AddInvoicePayment(twoPaid, stripefake.InvoicePayment{PaymentIntent: "pi_Part", AmountRequested: 10000, AmountPaid: 10000})
	fake.AddInvoicePayment(twoPaid, stripefake.InvoicePayment{Charge: rest, AmountRequested: 14900, AmountPaid: 14900})
	got, err := c.InvoiceCharge(ctx, twoPaid)
	ce := asConnErr(t, err)
	if ce.Code != "ambiguous" || !ce.Permanent || got.Charge != "" ||
		!strings.Contains(ce.Message, "paid in 2 payments") || !strings.Contains(ce.Message, "pi_Part 100.00 USD") || !strings.Contains(ce.Message, rest+" 149.00 USD") {
		t.Errorf("two paid parts: %+v %v", got, err)
	}
}

func TestInvoiceChargeOfAnUnknownInvoice(t *testing.T) {
	_, c, _ := setup(t, 5*time.Second)
	_, err := c.InvoiceCharge(context.Background(), "in_Nope")
	if ce := asConnErr(t, err); ce.Code != "resource_missing" || !ce.Permanent {
		t.Errorf("unknown invoice: %v", err)
	}
	_, err = c.InvoiceCharge(context.Background(), "INV-0042")
	if ce := asConnErr(t, err); ce.Code != "invalid_params" {
		t.Errorf("a number, not an id: %v", err)
	}
}

// The fake speaks the basil shapes: an invoice has no charge or payment_intent;
// GET /v1/invoice_payments pages with has_more / starting_after, newest first,
// and refuses what Stripe's reference refuses.
func TestFakeInvoicePaymentsWire(t *testing.T) {
	fake, _, ch := setup(t, 5*time.Second)
	in := invoiceOf(fake, "INV-9", "paid")
	fake.AddInvoicePayment(in, stripefake.InvoicePayment{Charge: ch, AmountRequested: 100, AmountPaid: 100, Created: 1000})
	fake.AddInvoicePayment(in, stripefake.InvoicePayment{PaymentIntent: "pi_X", Status: "open", AmountRequested: 200, Created: 2000, IsDefault: true})
	get := func(path string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, fake.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+stripefake.TestKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %s", path, b)
		}
		return res.StatusCode, v
	}
	if _, inv := get("/v1/invoices/" + in); inv["id"] != in {
		t.Fatalf("invoice %v", inv)
	} else if _, has := inv["charge"]; has {
		t.Errorf("invoice carries charge: %v", inv)
	} else if _, has := inv["payment_intent"]; has {
		t.Errorf("invoice carries payment_intent: %v", inv)
	}
	status, page := get("/v1/invoice_payments?invoice=" + in + "&limit=1")
	data, _ := page["data"].([]any)
	if status != 200 || page["has_more"] != true || len(data) != 1 {
		t.Fatalf("first page %d %v", status, page)
	}
	first := data[0].(map[string]any)
	if first["status"] != "open" || first["amount_paid"] != nil || first["is_default"] != true ||
		first["payment"].(map[string]any)["payment_intent"] != "pi_X" || first["invoice"] != in {
		t.Errorf("newest payment %v", first)
	}
	_, page = get("/v1/invoice_payments?invoice=" + in + "&limit=1&starting_after=" + first["id"].(string))
	data, _ = page["data"].([]any)
	if page["has_more"] != false || len(data) != 1 {
		t.Fatalf("second page %v", page)
	}
	if p := data[0].(map[string]any); p["amount_paid"] != float64(100) || p["payment"].(map[string]any)["type"] != "charge" ||
		p["payment"].(map[string]any)["charge"] != ch {
		t.Errorf("older payment %v", p)
	}
	if _, page = get("/v1/invoice_payments?invoice=" + in + "&status=paid"); len(page["data"].([]any)) != 1 {
		t.Errorf("status=paid %v", page)
	}
	if _, page = get("/v1/invoice_payments?payment[type]=payment_intent&payment[payment_intent]=pi_X"); len(page["data"].([]any)) != 1 {
		t.Errorf("by payment intent %v", page)
	}
	for path, want := range map[string]string{
		"/v1/invoice_payments?payment[payment_intent]=pi_X":    "payment[type]",
		"/v1/invoice_payments?invoice=" + in + "&status=done":  "status",
		"/v1/invoice_payments?invoice=" + in + "&charge=" + ch: "charge",
	} {
		status, body := get(path)
		e, _ := body["error"].(map[string]any)
		if status != 400 || e["param"] != want {
			t.Errorf("%s: %d %v", path, status, body)
		}
	}
}
