package ingest

import (
	"testing"

	"github.com/countersign/countersign/internal/triage"
)

func TestRoutes(t *testing.T) {
	routes, err := ParseRoutes("kind:payment_blocker&vip=VIP desk (Dana); kind:refund&amount>=1000&currency:USD=Fiona Finance;region:EU=EU finance")
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Routes: routes}
	amount := func(n int64) *int64 { return &n }
	tests := []struct {
		c    routeCase
		want string
	}{
		{routeCase{kind: triage.PaymentBlocker, vip: true}, "VIP desk (Dana)"},
		{routeCase{kind: triage.PaymentBlocker}, DefaultOwners[triage.PaymentBlocker]},
		{routeCase{kind: triage.Refund, amount: amount(100000), currency: "USD"}, "Fiona Finance"},
		{routeCase{kind: triage.Refund, amount: amount(99999), currency: "USD"}, DefaultOwners[triage.Refund]},
		{routeCase{kind: triage.Refund, amount: amount(100000), currency: "EUR", region: "eu-de"}, "EU finance"},
		{routeCase{kind: triage.Collections, region: "US-CA"}, DefaultOwners[triage.Collections]},
	}
	for _, tt := range tests {
		if got := s.owner(tt.c); got != tt.want {
			t.Errorf("owner(%+v) = %q, want %q", tt.c, got, tt.want)
		}
	}
	for _, bad := range []string{"kind:refund", "kind:nope=X", "amount>=ten=X", "colour:red=X"} {
		if _, err := ParseRoutes(bad); err == nil {
			t.Errorf("ParseRoutes(%q) accepted", bad)
		}
	}
}
