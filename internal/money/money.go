// Package money holds amounts as integer minor units of an ISO 4217 currency.
// Floats never carry money: amounts are parsed from decimal text exactly, and
// anything that cannot be represented exactly is rejected, not rounded.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxMinor is the largest amount, in minor units, that ParseMajor accepts
// (ten trillion dollars, a quadrillion yen). It keeps every amount exact in an
// int64 and in a float64, and far from overflow when amounts are added up.
const MaxMinor = 1_000_000_000_000_000

var (
	// ErrInvalidAmount is matched (errors.Is) by every ParseMajor error about
	// the amount text itself.
	ErrInvalidAmount = errors.New("money: invalid amount")
	// ErrUnknownCurrency is matched by ParseMajor errors about the currency.
	ErrUnknownCurrency = errors.New("money: unknown currency")
)

// Amount is money as integer minor units of an ISO 4217 currency
// (Amount{24950, "USD"} is 249.50 USD). Currency is an upper-case code.
type Amount struct {
	Minor    int64
	Currency string
}

// parseError carries a precise message and still matches a sentinel.
type parseError struct {
	msg  string
	kind error
}

func (e *parseError) Error() string        { return "money: " + e.msg }
func (e *parseError) Is(target error) bool { return target == e.kind }

func invalid(format string, args ...any) error {
	return &parseError{msg: fmt.Sprintf(format, args...), kind: ErrInvalidAmount}
}

// ParseMajor converts a decimal amount in major units ("249", "249.0",
// "1249.50", "2.4950e2") into exact minor units of currency. It accepts the
// text of a JSON number (leading zeros are tolerated) with surrounding spaces.
//
// It rejects what cannot be stored exactly: negative amounts, NaN and
// infinities, more significant decimals than the currency has ("249.005" USD;
// "249.000" USD is fine), amounts above MaxMinor minor units, and currencies
// without a known exponent. Zero (also "-0") is accepted; rejecting a zero
// refund is a policy decision, not a parsing one.
func ParseMajor(s string, currency string) (Amount, error) {
	cur := normCurrency(currency)
	exp, ok := exponents[cur]
	if !ok {
		return Amount{}, &parseError{msg: fmt.Sprintf("unknown currency %q", clip(currency)), kind: ErrUnknownCurrency}
	}
	d, err := scanDecimal(strings.TrimSpace(s))
	if err != nil {
		return Amount{}, err
	}
	if d.digits == "" {
		return Amount{Minor: 0, Currency: cur}, nil
	}
	shown := clip(strings.TrimSpace(s))
	if d.neg {
		return Amount{}, invalid("amount %s is negative", shown)
	}
	frac := int64(len(d.digits)) - d.point // significant decimals
	if frac > int64(exp) {
		return Amount{}, invalid("amount %s has more decimals than %s allows (%d)", shown, cur, exp)
	}
	tooLarge := invalid("amount %s is larger than %s %s", shown, Amount{MaxMinor, cur}.Major(), cur)
	if d.point+int64(exp) > 16 { // more than 16 digits of minor units
		return Amount{}, tooLarge
	}
	minor, err := strconv.ParseInt(d.digits+strings.Repeat("0", int(int64(exp)-frac)), 10, 64)
	if err != nil || minor > MaxMinor {
		return Amount{}, tooLarge
	}
	a := Amount{Minor: minor, Currency: cur}
	if err := a.CheckStep(); err != nil {
		return Amount{}, invalid("amount %s: %s", shown, strings.TrimPrefix(err.Error(), "money: "))
	}
	return a, nil
}

// CheckStep refuses an amount Stripe would refuse for its currency: a
// three-decimal amount that does not end in 0, an ISK amount with øre. The
// error matches ErrInvalidAmount.
func (a Amount) CheckStep() error {
	step := Step(a.Currency)
	if step <= 1 || a.Minor%step == 0 {
		return nil
	}
	if step == 10 {
		return invalid("%s amounts must be multiples of 0.010 (Stripe's payment partners refuse the last digit): %s", a.Currency, a.Major())
	}
	return invalid("%s amounts must be whole units at Stripe: %s", a.Currency, a.Major())
}

// decimal is a non-negative number written as 0.<digits> × 10^point, with
// no leading or trailing zeros in digits; zero has empty digits.
type decimal struct {
	neg    bool
	digits string
	point  int64
}

// scanDecimal parses JSON number syntax without going through a float.
func scanDecimal(t string) (decimal, error) {
	if t == "" {
		return decimal{}, invalid("amount is empty")
	}
	switch strings.ToLower(strings.TrimLeft(t, "+-")) {
	case "nan", "inf", "infinity":
		return decimal{}, invalid("amount %q is not a finite number", clip(t))
	}
	var d decimal
	i := 0
	if t[0] == '-' {
		d.neg = true
		i++
	}
	intPart, i := digitsAt(t, i)
	if intPart == "" {
		return decimal{}, invalid("amount %q is not a decimal number", clip(t))
	}
	var fracPart string
	if i < len(t) && t[i] == '.' {
		if fracPart, i = digitsAt(t, i+1); fracPart == "" {
			return decimal{}, invalid("amount %q is not a decimal number", clip(t))
		}
	}
	e10, i, ok := exponentAt(t, i)
	if !ok || i != len(t) {
		return decimal{}, invalid("amount %q is not a decimal number", clip(t))
	}
	d.digits = intPart + fracPart
	d.point = int64(len(intPart)) + e10
	for d.digits != "" && d.digits[0] == '0' {
		d.digits = d.digits[1:]
		d.point--
	}
	d.digits = strings.TrimRight(d.digits, "0")
	return d, nil
}

// digitsAt returns the run of ASCII digits starting at t[i] and the index after it.
func digitsAt(t string, i int) (string, int) {
	j := i
	for j < len(t) && t[j] >= '0' && t[j] <= '9' {
		j++
	}
	return t[i:j], j
}

// exponentAt parses an optional "e±ddd" at t[i]. Huge exponents saturate at
// ±1e9, which is beyond any representable amount either way.
func exponentAt(t string, i int) (e10 int64, next int, ok bool) {
	if i >= len(t) || (t[i] != 'e' && t[i] != 'E') {
		return 0, i, true
	}
	i++
	neg := false
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		neg = t[i] == '-'
		i++
	}
	ds, i := digitsAt(t, i)
	if ds == "" {
		return 0, i, false
	}
	for _, c := range ds {
		if e10 < 1e9 {
			e10 = e10*10 + int64(c-'0')
		}
	}
	if neg {
		e10 = -e10
	}
	return e10, i, true
}

// clip shortens hostile input before it is echoed in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Major formats the amount in major units with exactly the currency's
// decimals and no separators ("1249.50", "1200" for JPY), the form ParseMajor
// reads back. An unknown currency prints Minor unchanged.
func (a Amount) Major() string {
	exp, _ := Exponent(a.Currency)
	u := uint64(a.Minor)
	sign := ""
	if a.Minor < 0 {
		u, sign = -u, "-"
	}
	s := strconv.FormatUint(u, 10)
	if exp == 0 {
		return sign + s
	}
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	return sign + s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// String formats the amount for people: thousands separators and the code
// ("1,249.50 USD", "1,200 JPY").
func (a Amount) String() string {
	m := a.Major()
	sign := ""
	if strings.HasPrefix(m, "-") {
		sign, m = "-", m[1:]
	}
	intPart, frac, hasFrac := strings.Cut(m, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	if a.Currency != "" {
		b.WriteString(" " + a.Currency)
	}
	return b.String()
}
