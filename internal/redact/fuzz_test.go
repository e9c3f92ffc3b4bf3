package redact

import (
	"bytes"
	"encoding/json"
	"testing"
)

var fuzzSeeds = []string{
	"", "4242424242424242", "4000 0566 5566 5556", "5555-5555-5555-4444", "378282246310005",
	"four two four two four two four two four two four two four two four two",
	"4242 4242 four two four two four two four two", "double four two",
	"CVV 123", "cvv 4242424242424242 123", "CVV2 1234", "DE89 3704 0044 0532 0130 00",
	"routing 021000021 account number 12345678", "account number 12345678, 021000021",
	"SSN 123-45-6789", "912-70-1234", "12-3456789", "VAT DE123456789 NL123456789B01",
	"[card •••• 4242] 4242424242424242", "•••• 1234]", "+1 415 555 0100", "INV-20931",
	"550e8400-e29b-41d4-a716-446655440000", "1 2 3 4 5 6 7 8 9 1 2 3 4 5 6 7 8 9 1 2 3",
	"4242 4242 4242 4242 1 2 3 4 5 6 7 8 9 0 1 2 3 4",
}

func FuzzString(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, c := String(in)
		checkInvariants(t, in, out, c)
	})
}

func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"transcript":"card 4242 4242 4242 4242, cvv 123","n":4242424242424242}`))
	f.Add([]byte(`[1,2.5,-4242424242424242,"ssn 123-45-6789",{"a":null}]`))
	f.Add([]byte(`"\u0034242424242424242"`))
	f.Add([]byte(`{"x":"INV-20931"}`))
	for _, s := range fuzzSeeds {
		b, _ := json.Marshal(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, c, err := JSON(in)
		if !json.Valid(in) {
			if err == nil {
				t.Fatalf("JSON(%q): invalid input accepted", in)
			}
			return
		}
		if err != nil {
			t.Fatalf("JSON(%q): %v", in, err)
		}
		if !json.Valid(out) {
			t.Fatalf("JSON(%q) = %q: not valid JSON", in, out)
		}
		again, c2, err := JSON(out)
		if err != nil || !bytes.Equal(again, out) || c2 != nil {
			t.Fatalf("not idempotent: %q -> %q -> %q %v %v", in, out, again, c2, err)
		}
		if c.Total() == 0 && !bytes.Equal(out, in) {
			t.Fatalf("JSON(%q) changed clean input to %q", in, out)
		}
	})
}
