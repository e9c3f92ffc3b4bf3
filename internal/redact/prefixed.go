package redact

// Identifiers that start with an upper-case ISO country code: IBANs (checked
// with mod 97) and VAT numbers (checked by per-country shape only: their
// check digits differ by country and a shape plus prefix is already rare).

// ibanLen is the IBAN length per country (SWIFT IBAN registry).
var ibanLen = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
	"DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
	"GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
	"IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21,
	"LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
	"MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25,
	"QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
	"TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}

// vatShapes lists the accepted VAT number bodies after the country prefix:
// 'd' a digit, 'x' a digit or upper-case letter, 'A' an upper-case letter,
// anything else itself.
var vatShapes = map[string][]string{
	"AT": {"Udddddddd"},
	"BE": {"0ddddddddd", "1ddddddddd"},
	"DE": {"ddddddddd"},
	"ES": {"xdddddddx"},
	"FR": {"xxddddddddd"},
	"GB": {"ddddddddd", "dddddddddddd"},
	"IE": {"dddddddA", "dddddddAA", "dxdddddA"},
	"IT": {"ddddddddddd"},
	"NL": {"dddddddddBdd"},
	"PL": {"dddddddddd"},
	"SE": {"dddddddddd01"},
}

func findPrefixed(s string, spans []span) []span {
	for i := 0; i+4 <= len(s); i++ {
		if !isUpper(s[i]) || !isUpper(s[i+1]) || (i > 0 && isWordByte(s[i-1])) {
			continue
		}
		sp, ok := ibanAt(s, i)
		if !ok {
			sp, ok = vatAt(s, i)
		}
		if ok {
			spans = append(spans, sp)
			i = sp.end - 1
		}
	}
	return spans
}

// ibanAt reads an IBAN at i, electronic ("DE89370400440532013000") or
// printed with single spaces ("DE89 3704 0044 0532 0130 00").
func ibanAt(s string, i int) (span, bool) {
	L := ibanLen[s[i:i+2]]
	if L == 0 || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
		return span{}, false
	}
	var c [34]byte
	n, k := 0, i
	for n < L && k < len(s) {
		switch {
		case isAlnum(s[k]):
			c[n] = s[k] &^ 0x20 // upper case letters; digits are unaffected below
			if isDigit(s[k]) {
				c[n] = s[k]
			}
			n++
			k++
		case s[k] == ' ' && k+1 < len(s) && isAlnum(s[k+1]) && n > 0:
			k++
		default:
			return span{}, false
		}
	}
	if n < L || (k < len(s) && isWordByte(s[k])) {
		return span{}, false
	}
	r := 0
	for j := 0; j < L; j++ {
		ch := c[(j+4)%L]
		if isDigit(ch) {
			r = (r*10 + int(ch-'0')) % 97
		} else {
			r = (r*100 + int(ch-'A'+10)) % 97
		}
	}
	if r != 1 {
		return span{}, false
	}
	sp := span{start: i, end: k, kind: IBAN}
	return sp, lastDigits(&sp.last4, c[:L])
}

// vatAt reads a VAT number at i: country prefix, an optional single space,
// then one of the country's shapes, ending at a word boundary.
func vatAt(s string, i int) (span, bool) {
	shapes := vatShapes[s[i:i+2]]
	body := i + 2
	if body < len(s) && s[body] == ' ' {
		body++
	}
	for _, shape := range shapes {
		e := body + len(shape)
		if e > len(s) || (e < len(s) && isWordByte(s[e])) || !vatShape(s[body:e], shape) {
			continue
		}
		sp := span{start: i, end: e, kind: VAT}
		if lastDigits(&sp.last4, []byte(s[body:e])) {
			return sp, true
		}
	}
	return span{}, false
}

func vatShape(b, shape string) bool {
	for k := 0; k < len(shape); k++ {
		c := b[k]
		switch shape[k] {
		case 'd':
			if !isDigit(c) {
				return false
			}
		case 'x':
			if !isDigit(c) && !isUpper(c) {
				return false
			}
		case 'A':
			if !isUpper(c) {
				return false
			}
		default:
			if c != shape[k] {
				return false
			}
		}
	}
	return true
}

// lastDigits stores the last four digits of b in dst, reporting whether b
// has four.
func lastDigits(dst *[4]byte, b []byte) bool {
	k := 4
	for j := len(b) - 1; j >= 0 && k > 0; j-- {
		if isDigit(b[j]) {
			k--
			dst[k] = b[j]
		}
	}
	return k == 0
}
