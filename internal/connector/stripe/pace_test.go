package stripe_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
)

// TestReadsArePacedWritesAreNot: with ReadsPerSecond set, lookups beyond the burst of
// ten wait their turn (asserted as a lower bound on time only: a slow machine makes
// it slower, never faster), while refunds (POST) never wait: with the read budget
// spent at one read per 10 s, a refund still succeeds within a context that a paced
// request could not survive.
func TestReadsArePacedWritesAreNot(t *testing.T) {
	fake := stripefake.New()
	t.Cleanup(fake.Close)
	ch := fake.AddCharge(stripefake.Charge{Amount: 1000, Currency: "usd", Customer: "cus_1", Email: "ana@example.com"})
	ctx := context.Background()
	paced := func(rate float64) *stripe.Client {
		return stripe.New(stripe.Config{BaseURL: fake.URL, Key: stripefake.TestKey,
			HTTPClient: connector.NewHTTPClient(0), ReadsPerSecond: rate})
	}

	c := paced(10)
	start := time.Now()
	for range 15 { // 10 at once, then 5 more at 100 ms
		if _, err := c.GetCharge(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 450*time.Millisecond {
		t.Errorf("15 reads at 10/s (burst 10) took %s, want ≥ 450ms", took)
	}

	c = paced(0.1)
	for range 10 { // the whole burst
		if _, err := c.GetCharge(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, time.Second) // its turn is 10 s away
	defer cancel()
	if _, err := c.GetCharge(short, ch); err == nil {
		t.Fatal("an 11th read at 0.1/s went through at once: reads are not paced")
	}
	for i := range 3 {
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := c.Refund(short, stripe.RefundParams{Charge: ch, AmountMinor: 10, Currency: "USD", Reason: "duplicate",
			IdempotencyKey: fmt.Sprintf("pace:%d", i)})
		cancel()
		if err != nil {
			t.Fatalf("refund %d with the read budget spent: %v (writes must not be paced)", i, err)
		}
	}
}
