package stripe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
)

func setup(t *testing.T, timeout time.Duration) (*stripefake.Fake, *stripe.Client, string) {
	t.Helper()
	fake := stripefake.New()
	t.Cleanup(fake.Close)
	ch := fake.AddCharge(stripefake.Charge{Amount: 24900, Currency: "usd", Customer: "cus_1", Email: "ana@example.com"})
	c := stripe.New(stripe.Config{BaseURL: fake.URL, Key: stripefake.TestKey, HTTPClient: connector.NewHTTPClient(timeout)})
	return fake, c, ch
}

func refundParams(ch, key string) stripe.RefundParams {
	return stripe.RefundParams{Charge: ch, AmountMinor: 24900, Currency: "USD", Reason: "duplicate",
		IdempotencyKey: key, Metadata: map[string]string{"call_id": "call_abc"}}
}

func asConnErr(t *testing.T, err error) *connector.Error {
	t.Helper()
	var ce *connector.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *connector.Error, got %T %v", err, err)
	}
	return ce
}

func TestRefundSuccess(t *testing.T) {
	fake, c, ch := setup(t, 0)
	rc, err := c.Refund(context.Background(), refundParams(ch, "call_abc:refund:1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rc.ExternalID, "re_") {
		t.Errorf("ExternalID = %q", rc.ExternalID)
	}
	if want := "refund " + rc.ExternalID + " 249.00 USD succeeded"; rc.Summary != want {
		t.Errorf("Summary = %q, want %q", rc.Summary, want)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].IdempotencyKey != "call_abc:refund:1" {
		t.Fatalf("requests = %+v", reqs)
	}
	f := reqs[0].Form
	if f.Get("amount") != "24900" || f.Get("charge") != ch || f.Get("reason") != "duplicate" ||
		f.Get("metadata[countersign_key]") != "call_abc:refund:1" || f.Get("metadata[call_id]") != "call_abc" {
		t.Errorf("form = %v", f)
	}
	if !strings.Contains(string(rc.Raw), `"status":"succeeded"`) {
		t.Errorf("Raw = %s", rc.Raw)
	}
}

func TestRefundByPaymentIntentPending(t *testing.T) {
	fake, c, ch := setup(t, 0)
	pi := fake.AddPaymentIntent(stripefake.PaymentIntent{Amount: 24900, Currency: "usd", LatestCharge: ch})
	fake.SetRefundStatus("pending")
	p := refundParams("", "k-pi")
	p.PaymentIntent, p.AmountMinor = pi, 1000
	rc, err := c.Refund(context.Background(), p)
	if !stripe.IsPending(err) {
		t.Fatalf("a pending refund is not done: err = %v", err)
	}
	if !strings.HasSuffix(rc.Summary, " 10.00 USD pending") {
		t.Errorf("Summary = %q", rc.Summary)
	}
}

func TestRefundIdempotentReplay(t *testing.T) {
	fake, c, ch := setup(t, 0)
	ctx := context.Background()
	first, err := c.Refund(ctx, refundParams(ch, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Refund(ctx, refundParams(ch, "k1"))
	if err != nil {
		t.Fatal(err)
	}
	if first.ExternalID != second.ExternalID || fake.RefundCount() != 1 {
		t.Fatalf("replay gave %s then %s, %d refunds", first.ExternalID, second.ExternalID, fake.RefundCount())
	}
	p := refundParams(ch, "k1")
	p.AmountMinor = 100
	_, err = c.Refund(ctx, p)
	if ce := asConnErr(t, err); !ce.Permanent || ce.Code != "idempotency_error" {
		t.Errorf("same key, other params: %+v", ce)
	}
	if fake.RefundCount() != 1 {
		t.Errorf("refunds = %d", fake.RefundCount())
	}
}

// The refund happens but the answer arrives after the client gave up: the
// error is temporary, and the retry with the same key finds the same refund.
func TestRefundTimeoutThenRetry(t *testing.T) {
	fake, c, ch := setup(t, 100*time.Millisecond)
	fake.Delay(time.Second)
	_, err := c.Refund(context.Background(), refundParams(ch, "k-timeout"))
	ce := asConnErr(t, err)
	if ce.Permanent || ce.Code != "timeout" {
		t.Fatalf("timeout: %+v", ce)
	}
	fake.Delay(0)
	var rc connector.Receipt
	for range 50 { // until the fake notices the client left and releases the key
		rc, err = c.Refund(context.Background(), refundParams(ch, "k-timeout"))
		if err == nil || connector.IsPermanent(err) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if fake.RefundCount() != 1 || rc.ExternalID != fake.Refunds()[0].ID {
		t.Fatalf("refunds = %+v, receipt %s", fake.Refunds(), rc.ExternalID)
	}
}

func TestRefundErrorClassification(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		code       string
		retryAfter time.Duration
		permanent  bool
		wantCode   string
	}{
		{"rate limited", 429, "rate_limit", 7 * time.Second, false, "rate_limit"},
		{"lock timeout", 429, "lock_timeout", 0, false, "lock_timeout"},
		{"server error", 500, "", 0, false, "api_error"},
		{"bad gateway", 503, "", 0, false, "api_error"},
		{"key in use", 409, "idempotency_key_in_use", 0, false, "idempotency_key_in_use"},
		{"connection reset", 0, "", 0, false, "network_error"},
		{"invalid request", 400, "parameter_invalid_integer", 0, true, "parameter_invalid_integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c, ch := setup(t, 0)
			fake.FailNext(1, tt.status, tt.code, tt.retryAfter)
			_, err := c.Refund(context.Background(), refundParams(ch, "k"))
			ce := asConnErr(t, err)
			if ce.Permanent != tt.permanent || ce.Code != tt.wantCode || ce.Status != tt.status {
				t.Fatalf("got %+v", ce)
			}
			if d, ok := connector.RetryAfter(err); ok != (tt.retryAfter > 0) || d != tt.retryAfter {
				t.Errorf("RetryAfter = %v, %v", d, ok)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("SDK must not retry on its own: %d requests", n)
			}
			if fake.RefundCount() != 0 {
				t.Errorf("a failed request created a refund")
			}
			if tt.permanent {
				return
			}
			if _, err := c.Refund(context.Background(), refundParams(ch, "k")); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if fake.RefundCount() != 1 {
				t.Errorf("refunds = %d", fake.RefundCount())
			}
		})
	}
}

func TestRefundPermanentFailures(t *testing.T) {
	fake, c, ch := setup(t, 0)
	ctx := context.Background()
	p := refundParams(ch, "full")
	if _, err := c.Refund(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err := c.Refund(ctx, refundParams(ch, "again"))
	if ce := asConnErr(t, err); !ce.Permanent || ce.Code != "charge_already_refunded" || ce.Status != 400 {
		t.Errorf("already refunded: %+v", ce)
	}
	_, err = c.Refund(ctx, refundParams("ch_missing", "missing"))
	if ce := asConnErr(t, err); !ce.Permanent || ce.Code != "resource_missing" || ce.Status != 404 {
		t.Errorf("missing charge: %+v", ce)
	}
	disputed := fake.AddCharge(stripefake.Charge{Amount: 500, Currency: "eur", Disputed: true})
	_, err = c.Refund(ctx, refundParams(disputed, "disputed"))
	if ce := asConnErr(t, err); !ce.Permanent || ce.Code != "charge_disputed" {
		t.Errorf("disputed: %+v", ce)
	}
	invalid := []stripe.RefundParams{
		{Charge: ch, AmountMinor: 0, IdempotencyKey: "k"},
		{Charge: ch, PaymentIntent: "pi_1", AmountMinor: 1, IdempotencyKey: "k"},
		{Charge: ch, AmountMinor: 1, IdempotencyKey: ""},
		{Charge: ch, AmountMinor: 1, IdempotencyKey: strings.Repeat("k", 256)},
		{Charge: ch, AmountMinor: 1, IdempotencyKey: "k", Reason: "because"},
	}
	before := len(fake.Requests())
	for _, p := range invalid {
		if _, err := c.Refund(ctx, p); !connector.IsPermanent(err) {
			t.Errorf("%+v: want permanent error, got %v", p, err)
		}
	}
	if len(fake.Requests()) != before {
		t.Error("invalid params reached Stripe")
	}
}

func TestRefundFailedStatusAndCurrencyMismatch(t *testing.T) {
	fake, c, ch := setup(t, 0)
	fake.SetRefundStatus("failed")
	rc, err := c.Refund(context.Background(), refundParams(ch, "k-failed"))
	if ce := asConnErr(t, err); !ce.Permanent || ce.Code != "refund_failed" || rc.ExternalID == "" {
		t.Errorf("failed refund: %+v, receipt %+v", ce, rc)
	}
	fake.SetRefundStatus("succeeded")
	p := refundParams(ch, "k-eur")
	p.Currency = "EUR"
	rc, err = c.Refund(context.Background(), p)
	if ce := asConnErr(t, err); !ce.Permanent || ce.Code != "currency_mismatch" || rc.ExternalID == "" {
		t.Errorf("currency mismatch: %+v, receipt %+v", ce, rc)
	}
}

func TestErrorsNeverContainKey(t *testing.T) {
	fake, _, ch := setup(t, 0)
	const key = "rk_live_51SecretValue0123456789"
	c := stripe.New(stripe.Config{BaseURL: fake.URL, Key: key})
	_, err := c.Refund(context.Background(), refundParams(ch, "k"))
	ce := asConnErr(t, err)
	if !ce.Permanent || ce.Status != 401 {
		t.Fatalf("wrong key: %+v", ce)
	}
	for _, s := range []string{err.Error(), ce.Message} {
		if strings.Contains(s, "SecretValue") || strings.Contains(s, "6789") || strings.Contains(s, key) {
			t.Errorf("error leaks the key: %q", s)
		}
	}
	if _, err := stripe.New(stripe.Config{BaseURL: fake.URL}).GetCharge(context.Background(), ch); !connector.IsPermanent(err) {
		t.Errorf("no key: %v", err)
	}
}

func TestNonJSONAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/ch_gateway") {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway sk_live_abcdefgh</html>"))
			return
		}
		w.Write([]byte("not json"))
	}))
	defer srv.Close()
	c := stripe.New(stripe.Config{BaseURL: srv.URL, Key: stripefake.TestKey})
	_, err := c.GetCharge(context.Background(), "ch_gateway")
	ce := asConnErr(t, err)
	if ce.Permanent || ce.Status != 502 || strings.Contains(err.Error(), "sk_live") {
		t.Errorf("502 page: %+v / %v", ce, err)
	}
	_, err = c.GetCharge(context.Background(), "ch_garbage")
	if ce := asConnErr(t, err); ce.Permanent || ce.Code != "bad_response" {
		t.Errorf("garbage 200: %+v", ce)
	}
}

func TestFindRefundByMetadata(t *testing.T) {
	_, c, ch := setup(t, 0)
	ctx := context.Background()
	for i, key := range []string{"a", "b", "c"} {
		p := refundParams(ch, key)
		p.AmountMinor = int64(100 * (i + 1))
		if _, err := c.Refund(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.FindRefundByMetadata(ctx, ch, stripe.MetadataKey, "b")
	if err != nil || got == nil || !strings.Contains(got.Summary, " 2.00 USD") {
		t.Fatalf("find b: %+v, %v", got, err)
	}
	got, err = c.FindRefundByMetadata(ctx, ch, stripe.MetadataKey, "zzz")
	if err != nil || got != nil {
		t.Fatalf("find missing: %+v, %v", got, err)
	}
}

// Two workers running the same action at once: one refund, and the loser
// sees either the replay or a temporary 409.
func TestConcurrentSameKey(t *testing.T) {
	fake, c, ch := setup(t, 0)
	fake.Delay(50 * time.Millisecond)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := c.Refund(context.Background(), refundParams(ch, "same"))
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			if ce := asConnErr(t, err); ce.Permanent || ce.Code != "idempotency_key_in_use" {
				t.Errorf("loser: %+v", ce)
			}
		}
	}
	if fake.RefundCount() != 1 {
		t.Errorf("refunds = %d", fake.RefundCount())
	}
}
