package triage

import (
	"strings"
	"testing"
)

func TestDefaultMappingMatchesSamples(t *testing.T) {
	m := DefaultMapping()
	if m.Intent != "call_intent" || m.Amount != "amount" || m.CustomerEmailVerified != "customer_email_verified" || m.VIP != "vip" {
		t.Errorf("default mapping = %+v", m)
	}
	if m.IntentValues["charge_dispute"] != Dispute || m.IntentValues["failed_renewal"] != PaymentBlocker {
		t.Errorf("intent values = %v", m.IntentValues)
	}
	if k, ok := m.IntentValues["other"]; !ok || k != "" {
		t.Errorf(`"other" = %q, %v; want "" (fall through)`, k, ok)
	}
	// DefaultMapping returns a fresh map each time: overrides never leak.
	m.IntentValues["x"] = Refund
	if _, ok := DefaultMapping().IntentValues["x"]; ok {
		t.Error("DefaultMapping shares its IntentValues map")
	}
}

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping(" intent = reason_code , amount=claimed_amount,intent.value.Chargeback=dispute,intent.value.misc=,intent.value.refund_request=other,")
	if err != nil {
		t.Fatal(err)
	}
	if m.Intent != "reason_code" || m.Amount != "claimed_amount" || m.Currency != "currency" {
		t.Errorf("fields = %+v", m)
	}
	for value, want := range map[string]Kind{"chargeback": Dispute, "misc": "", "refund_request": "", "charge_dispute": Dispute} {
		if got, ok := m.IntentValues[value]; !ok || got != want {
			t.Errorf("IntentValues[%q] = %q, %v; want %q", value, got, ok, want)
		}
	}
	if empty, err := ParseMapping(""); err != nil || empty.Intent != "call_intent" {
		t.Errorf(`ParseMapping("") = %+v, %v`, empty, err)
	}
}

func TestParseMappingErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"bogus=x", `entry 1 "bogus=x": unknown field "bogus"`},
		{"amount=x,invoice", `entry 2 "invoice": want key=value`},
		{"amount=", `entry 1 "amount=": empty field name for "amount"`},
		{"=x", `entry 1 "=x": empty key`},
		{"intent.value.chargeback=refundish", `unknown kind "refundish"`},
		{"intent.value.=dispute", `empty intent value`},
		{"amount=a,amount=b", `entry 2 "amount=b": "amount" is set twice`},
	}
	for _, tt := range tests {
		_, err := ParseMapping(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseMapping(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestKindValid(t *testing.T) {
	for _, k := range Kinds {
		if !k.Valid() {
			t.Errorf("%q not valid", k)
		}
	}
	for _, k := range []Kind{"", "other", "Dispute"} {
		if k.Valid() {
			t.Errorf("%q valid", k)
		}
	}
}
