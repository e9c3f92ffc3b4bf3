package dialnexa

import "strings"

// NormalizePhone returns s in E.164 form ("+14155550100") when that can be
// done without guessing a country, and s (trimmed) unchanged otherwise, so
// that a SIP URI, "anonymous" or a short code is kept rather than lost.
//
// Spaces, dashes, dots and parentheses are ignored. The rules:
//   - "+" and 8 to 15 digits, not starting with 0: kept as "+digits";
//   - 11 to 15 digits without "+", not starting with 0: DialNexa sends
//     numbers with the country code and without the "+", so "+" is added;
//   - exactly 10 digits, a valid NANP area code (first digit 2-9): DialNexa's
//     samples are North American and a 10-digit number without a country
//     code is almost always NANP, so "+1" is added;
//   - anything else is returned as given.
func NormalizePhone(s string) string {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, c := range strings.TrimPrefix(s, "+") {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return s
		}
	}
	d := b.String()
	switch {
	case d == "" || d[0] == '0':
		return s
	case plus && len(d) >= 8 && len(d) <= 15:
		return "+" + d
	case !plus && len(d) >= 11 && len(d) <= 15:
		return "+" + d
	case !plus && len(d) == 10 && d[0] >= '2':
		return "+1" + d
	}
	return s
}
