package money

import (
	"errors"
	"strings"
	"testing"
)

func TestExponent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code string
		exp  int
		ok   bool
	}{
		{"USD", 2, true}, {"EUR", 2, true}, {"GBP", 2, true},
		{"JPY", 0, true}, {"KRW", 0, true}, {"VND", 0, true}, {"CLP", 0, true},
		{"BHD", 3, true}, {"KWD", 3, true}, {"JOD", 3, true}, {"OMR", 3, true}, {"TND", 3, true},
		{"CLF", 4, true},
		// Stripe's exponents where they differ from ISO 4217 (MGA 2, ISK 0).
		{"MGA", 0, true}, {"ISK", 2, true}, {"UGX", 0, true}, {"HUF", 2, true}, {"TWD", 2, true},
		{"usd", 2, true}, {" jpy ", 0, true},
		{"XAU", 0, false}, {"XDR", 0, false}, {"", 0, false}, {"US", 0, false}, {"ABC", 0, false},
	}
	for _, tt := range tests {
		exp, ok := Exponent(tt.code)
		if exp != tt.exp || ok != tt.ok {
			t.Errorf("Exponent(%q) = %d, %v; want %d, %v", tt.code, exp, ok, tt.exp, tt.ok)
		}
	}
}

func TestParseMajor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, cur string
		want    Amount
	}{
		{"249", "USD", Amount{24900, "USD"}},
		{"249.0", "USD", Amount{24900, "USD"}},
		{"249.000", "USD", Amount{24900, "USD"}},
		{"1249.50", "USD", Amount{124950, "USD"}},
		{"89.99", "usd", Amount{8999, "USD"}},
		{"0.01", "EUR", Amount{1, "EUR"}},
		{" 42.5 ", "GBP", Amount{4250, "GBP"}},
		{"0", "USD", Amount{0, "USD"}},
		{"-0", "USD", Amount{0, "USD"}},
		{"-0.00", "USD", Amount{0, "USD"}},
		{"0e999999999999", "USD", Amount{0, "USD"}},
		{"1e3", "USD", Amount{100000, "USD"}},
		{"1E+3", "USD", Amount{100000, "USD"}},
		{"2.495e2", "USD", Amount{24950, "USD"}},
		{"24950e-2", "USD", Amount{24950, "USD"}},
		{"249500000e-6", "USD", Amount{24950, "USD"}},
		{"0249.5", "USD", Amount{24950, "USD"}},
		{"1200", "JPY", Amount{1200, "JPY"}},
		{"1200.0", "JPY", Amount{1200, "JPY"}},
		{"1.5e3", "JPY", Amount{1500, "JPY"}},
		{"12.340", "KWD", Amount{12340, "KWD"}},
		{"12000", "MGA", Amount{12000, "MGA"}},
		{"40", "ISK", Amount{4000, "ISK"}},
		{"40.00", "ISK", Amount{4000, "ISK"}},
		{"1234.56", "HUF", Amount{123456, "HUF"}},
		{"99.99", "TWD", Amount{9999, "TWD"}},
		{"5000", "UGX", Amount{5000, "UGX"}},
		{"12.3", "BHD", Amount{12300, "BHD"}},
		{"10000000000000", "USD", Amount{MaxMinor, "USD"}},
		{"10000000000000.00", "USD", Amount{MaxMinor, "USD"}},
		{"1e15", "JPY", Amount{MaxMinor, "JPY"}},
	}
	for _, tt := range tests {
		got, err := ParseMajor(tt.in, tt.cur)
		if err != nil {
			t.Errorf("ParseMajor(%q, %q): %v", tt.in, tt.cur, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseMajor(%q, %q) = %+v, want %+v", tt.in, tt.cur, got, tt.want)
		}
	}
}

func TestParseMajorErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, cur string
		kind    error
		msg     string
	}{
		{"249.005", "USD", ErrInvalidAmount, "money: amount 249.005 has more decimals than USD allows (2)"},
		{"1.5", "JPY", ErrInvalidAmount, "money: amount 1.5 has more decimals than JPY allows (0)"},
		{"12.3456", "KWD", ErrInvalidAmount, "money: amount 12.3456 has more decimals than KWD allows (3)"},
		{"12.345", "KWD", ErrInvalidAmount, "money: amount 12.345: KWD amounts must be multiples of 0.010"},
		{"0.001", "BHD", ErrInvalidAmount, "BHD amounts must be multiples of 0.010"},
		{"40.10", "ISK", ErrInvalidAmount, "money: amount 40.10: ISK amounts must be whole units at Stripe: 40.10"},
		{"12000.5", "MGA", ErrInvalidAmount, "more decimals than MGA allows (0)"},
		{"5000.50", "UGX", ErrInvalidAmount, "more decimals than UGX allows (0)"},
		{"1e-3", "USD", ErrInvalidAmount, "money: amount 1e-3 has more decimals than USD allows (2)"},
		{"1e-999999999999", "USD", ErrInvalidAmount, "more decimals"},
		{"-5", "USD", ErrInvalidAmount, "money: amount -5 is negative"},
		{"-0.01", "USD", ErrInvalidAmount, "is negative"},
		{"10000000000000.01", "USD", ErrInvalidAmount, "money: amount 10000000000000.01 is larger than 10000000000000.00 USD"},
		{"1e16", "JPY", ErrInvalidAmount, "is larger than"},
		{"1e999999999999", "USD", ErrInvalidAmount, "is larger than"},
		{"99999999999999999999", "USD", ErrInvalidAmount, "is larger than"},
		{"NaN", "USD", ErrInvalidAmount, `money: amount "NaN" is not a finite number`},
		{"-Inf", "USD", ErrInvalidAmount, "not a finite number"},
		{"Infinity", "USD", ErrInvalidAmount, "not a finite number"},
		{"", "USD", ErrInvalidAmount, "money: amount is empty"},
		{"  ", "USD", ErrInvalidAmount, "amount is empty"},
		{"1,249.50", "USD", ErrInvalidAmount, `money: amount "1,249.50" is not a decimal number`},
		{"$5", "USD", ErrInvalidAmount, "not a decimal number"},
		{"+5", "USD", ErrInvalidAmount, "not a decimal number"},
		{".5", "USD", ErrInvalidAmount, "not a decimal number"},
		{"5.", "USD", ErrInvalidAmount, "not a decimal number"},
		{"5e", "USD", ErrInvalidAmount, "not a decimal number"},
		{"0x10", "USD", ErrInvalidAmount, "not a decimal number"},
		{"5 USD", "USD", ErrInvalidAmount, "not a decimal number"},
		{"--5", "USD", ErrInvalidAmount, "not a decimal number"},
		{"5", "XAU", ErrUnknownCurrency, `money: unknown currency "XAU"`},
		{"5", "", ErrUnknownCurrency, "unknown currency"},
		{"5", "dollars", ErrUnknownCurrency, "unknown currency"},
	}
	for _, tt := range tests {
		got, err := ParseMajor(tt.in, tt.cur)
		if err == nil {
			t.Errorf("ParseMajor(%q, %q) = %+v, want error", tt.in, tt.cur, got)
			continue
		}
		if !errors.Is(err, tt.kind) {
			t.Errorf("ParseMajor(%q, %q) error %v is not %v", tt.in, tt.cur, err, tt.kind)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseMajor(%q, %q) error %q, want it to contain %q", tt.in, tt.cur, err, tt.msg)
		}
	}
}

func TestParseMajorClipsLongInput(t *testing.T) {
	t.Parallel()
	_, err := ParseMajor("0."+strings.Repeat("0", 10000)+"1", "USD")
	if err == nil || len(err.Error()) > 120 {
		t.Fatalf("error = %v, want a short error", err)
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a            Amount
		major, human string
	}{
		{Amount{24900, "USD"}, "249.00", "249.00 USD"},
		{Amount{124950, "USD"}, "1249.50", "1,249.50 USD"},
		{Amount{5, "USD"}, "0.05", "0.05 USD"},
		{Amount{0, "USD"}, "0.00", "0.00 USD"},
		{Amount{1200, "JPY"}, "1200", "1,200 JPY"},
		{Amount{123, "JPY"}, "123", "123 JPY"},
		{Amount{1234567, "KWD"}, "1234.567", "1,234.567 KWD"},
		{Amount{7, "BHD"}, "0.007", "0.007 BHD"},
		{Amount{MaxMinor, "USD"}, "10000000000000.00", "10,000,000,000,000.00 USD"},
		{Amount{-124950, "USD"}, "-1249.50", "-1,249.50 USD"},
		{Amount{-9223372036854775808, "JPY"}, "-9223372036854775808", "-9,223,372,036,854,775,808 JPY"},
		{Amount{1234, "XAU"}, "1234", "1,234 XAU"},
	}
	for _, tt := range tests {
		if got := tt.a.Major(); got != tt.major {
			t.Errorf("%+v.Major() = %q, want %q", tt.a, got, tt.major)
		}
		if got := tt.a.String(); got != tt.human {
			t.Errorf("%+v.String() = %q, want %q", tt.a, got, tt.human)
		}
	}
}

func FuzzParseMajor(f *testing.F) {
	for _, s := range []string{
		"249", "249.0", "249.000", "249.005", "1249.50", "89.0", "420.0", "210.0",
		"0", "-0", "-5", "1e3", "2.495e2", "1e-3", "1e999999999", "NaN", "Inf",
		"10000000000000.00", "10000000000000.01", "1,249.50", "", " 7 ",
	} {
		for _, c := range []string{"USD", "JPY", "KWD", "xau"} {
			f.Add(s, c)
		}
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		a, err := ParseMajor(s, cur)
		if err != nil {
			if !errors.Is(err, ErrInvalidAmount) && !errors.Is(err, ErrUnknownCurrency) {
				t.Fatalf("ParseMajor(%q, %q) error %v matches no sentinel", s, cur, err)
			}
			return
		}
		if a.Minor < 0 || a.Minor > MaxMinor {
			t.Fatalf("ParseMajor(%q, %q) = %+v, out of range", s, cur, a)
		}
		back, err := ParseMajor(a.Major(), a.Currency)
		if err != nil || back != a {
			t.Fatalf("ParseMajor(%q, %q) = %+v; re-parsing %q gave %+v, %v", s, cur, a, a.Major(), back, err)
		}
		if want := a.Currency; !strings.HasSuffix(a.String(), " "+want) {
			t.Fatalf("%+v.String() = %q", a, a.String())
		}
	})
}
