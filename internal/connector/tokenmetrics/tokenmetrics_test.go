package tokenmetrics

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/tokenmetrics/tmfake"
)

func setup(t *testing.T, cfg Config) (*tmfake.Fake, *Client) {
	t.Helper()
	fake := tmfake.New()
	t.Cleanup(fake.Close)
	fake.AddToken(tmfake.Token{ID: 3375, Symbol: "BTC", Name: "Bitcoin", Price: "67012.45"})
	fake.AddToken(tmfake.Token{ID: 3306, Symbol: "ETH", Name: "Ethereum", Price: "3120.5"})
	cfg.BaseURL = fake.URL
	if cfg.APIKey == "" {
		cfg.APIKey = tmfake.TestKey
	}
	return fake, New(cfg)
}

func connErr(t *testing.T, err error) *connector.Error {
	t.Helper()
	var ce *connector.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *connector.Error, got %T %v", err, err)
	}
	return ce
}

func TestTokensAndPrice(t *testing.T) {
	for _, strs := range []bool{false, true} {
		fake, c := setup(t, Config{CacheTTL: -1})
		fake.StringValues(strs)
		toks, err := c.Tokens(context.Background(), "btc", "")
		if err != nil || len(toks) != 1 || toks[0] != (Token{ID: 3375, Symbol: "BTC", Name: "Bitcoin"}) {
			t.Fatalf("strings=%v tokens: %+v %v", strs, toks, err)
		}
		p, err := c.Price(context.Background(), 3375)
		if err != nil || p.Decimal != "67012.45" || p.Float != 67012.45 || p.Symbol != "BTC" {
			t.Fatalf("strings=%v price: %+v %v", strs, p, err)
		}
	}
}

func TestNoMatch(t *testing.T) {
	_, c := setup(t, Config{})
	toks, err := c.Tokens(context.Background(), "NOPE", "")
	if err != nil || len(toks) != 0 {
		t.Errorf("tokens: %+v %v", toks, err)
	}
	_, err = c.Price(context.Background(), 1)
	if ce := connErr(t, err); !ce.Permanent || ce.Code != "not_found" {
		t.Errorf("price: %+v", ce)
	}
	if _, err := c.Tokens(context.Background(), "", ""); !connector.IsPermanent(err) {
		t.Errorf("empty query: %v", err)
	}
}

func TestCache(t *testing.T) {
	fake, c := setup(t, Config{})
	now := time.Unix(1_000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for range 3 {
		if _, err := c.Price(ctx, 3375); err != nil {
			t.Fatal(err)
		}
	}
	if n := fake.RequestCount(); n != 1 {
		t.Fatalf("requests within TTL = %d", n)
	}
	now = now.Add(DefaultCacheTTL)
	if _, err := c.Price(ctx, 3375); err != nil {
		t.Fatal(err)
	}
	if n := fake.RequestCount(); n != 2 {
		t.Fatalf("requests after TTL = %d", n)
	}
	fake.FailNext(1, 500, 0)
	now = now.Add(DefaultCacheTTL)
	if _, err := c.Price(ctx, 3375); err == nil {
		t.Fatal("errors must not be served from cache")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter time.Duration
		permanent  bool
	}{
		{"rate limited", 429, 30 * time.Second, false},
		{"server error", 502, 0, false},
		{"success false", 200, 0, true},
		{"bad request", 400, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake, c := setup(t, Config{CacheTTL: -1})
			fake.FailNext(1, tt.status, tt.retryAfter)
			_, err := c.Tokens(context.Background(), "BTC", "")
			ce := connErr(t, err)
			if ce.Permanent != tt.permanent || ce.Status != tt.status || ce.Message == "" {
				t.Fatalf("got %+v", ce)
			}
			if d, ok := connector.RetryAfter(err); ok != (tt.retryAfter > 0) || d != tt.retryAfter {
				t.Errorf("RetryAfter = %v %v", d, ok)
			}
		})
	}
}

func TestWrongKeyIsPermanentAndNotLeaked(t *testing.T) {
	const key = "tm-live-SuperSecret-998877"
	_, c := setup(t, Config{APIKey: key})
	_, err := c.Tokens(context.Background(), "BTC", "")
	ce := connErr(t, err)
	if !ce.Permanent || ce.Status != 401 {
		t.Fatalf("got %+v", ce)
	}
	if strings.Contains(err.Error(), "SuperSecret") {
		t.Errorf("error leaks the key: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	fake, c := setup(t, Config{HTTPClient: connector.NewHTTPClient(50 * time.Millisecond)})
	fake.Delay(time.Second)
	_, err := c.Price(context.Background(), 3375)
	if ce := connErr(t, err); ce.Permanent || ce.Code != "timeout" {
		t.Errorf("got %+v", ce)
	}
}
