package enrich_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/connector/tokenmetrics"
	"github.com/countersign/countersign/internal/connector/tokenmetrics/tmfake"
	"github.com/countersign/countersign/internal/enrich"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/triage"
)

// cryptoCall is the refund sample claiming amount of sym, with fiat (USD) when set.
func cryptoCall(t *testing.T, callID, amount, sym, fiat string) []byte {
	body := strings.NewReplacer("call_rf7k2m9q4xbt", callID, `"amount": 249.0`, `"amount": `+amount,
		`"currency": "USD"`, `"currency": "`+sym+`"`+fiatField(fiat)).Replace(string(sample(t, "refund-request.json")))
	return []byte(body)
}

func fiatField(fiat string) string {
	if fiat == "" {
		return ""
	}
	return `, "fiat_amount": ` + fiat + `, "fiat_currency": "USD"`
}

// Token Metrics fails closed: a check that cannot be made sends the case to review
// with the reason, where it used to stay in its queue (confidence 0.6 with a price
// and no stated value; the first of several same-symbol tokens priced as if it were
// the one meant; a look-up failing for good leaving the case unchecked).
func TestCryptoClaimsFailClosed(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	tm := tmfake.New()
	t.Cleanup(tm.Close)
	tm.AddToken(tmfake.Token{ID: 3306, Symbol: "ETH", Name: "Ethereum", Price: "3000.00"})
	tm.AddToken(tmfake.Token{ID: 3408, Symbol: "USDC", Name: "USD Coin", Price: "1.00"})
	tm.AddToken(tmfake.Token{ID: 9002, Symbol: "USDC", Name: "USD Coin (Wormhole)", Price: "0.99"})
	tm.AddToken(tmfake.Token{ID: 5426, Symbol: "SOL", Name: "Solana", Price: "150.00"})
	in := &ingest.Service{Pool: db.Pool, Mapping: triage.DefaultMapping()}
	svc := &enrich.Service{DB: db.Gorm, Ingest: in,
		TokenMetrics: tokenmetrics.New(tokenmetrics.Config{BaseURL: tm.URL, APIKey: tmfake.TestKey})}
	caseOf := func(body []byte) int64 {
		t.Helper()
		res, err := in.Ingest(ctx, body)
		if err != nil || len(res.CaseIDs) != 1 {
			t.Fatalf("ingest: %v %+v", err, res)
		}
		return res.CaseIDs[0]
	}
	reviewed := func(id int64, want string) {
		t.Helper()
		var kind, reasons string
		db.Gorm.Raw(`SELECT kind, reasons::text FROM cases WHERE id = ?`, id).Row().Scan(&kind, &reasons)
		if kind != "review" || !strings.Contains(reasons, want) {
			t.Errorf("case %d: kind %q reasons %s, want review with %q", id, kind, reasons, want)
		}
	}

	matching := caseOf(cryptoCall(t, "call_eth_ok", "0.5", "ETH", "1500"))
	if err := svc.Check(ctx, matching); err != nil {
		t.Fatal(err)
	}
	var kind string
	db.Gorm.Raw(`SELECT kind FROM cases WHERE id = ?`, matching).Scan(&kind)
	if kind == "review" {
		t.Fatalf("a matching ETH claim went to review: the test proves nothing")
	}

	noValue := caseOf(cryptoCall(t, "call_eth_novalue", "0.5", "ETH", ""))
	if err := svc.Check(ctx, noValue); err != nil {
		t.Fatal(err)
	}
	reviewed(noValue, "stated no USD value")

	several := caseOf(cryptoCall(t, "call_usdc", "100", "USDC", "100"))
	if err := svc.Check(ctx, several); err != nil {
		t.Fatal(err)
	}
	reviewed(several, "2 tokens share the symbol USDC")

	failing := caseOf(cryptoCall(t, "call_sol_down", "2", "SOL", "300"))
	tm.FailNext(100, 503, 0)
	err := svc.Check(ctx, failing)
	if err == nil {
		t.Fatal("look-up against a failing Token Metrics succeeded")
	}
	if err := svc.GiveUp(ctx, failing, err); err != nil {
		t.Fatal(err)
	}
	reviewed(failing, "could not price SOL after repeated attempts")
	if err := svc.GiveUp(ctx, matching, errors.New("x")); err != nil {
		t.Fatal(err)
	}
}
