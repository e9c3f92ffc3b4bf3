package redact

// Identifiers that start with an ISO country code, in any case and with any
// separators between their characters: IBANs (the SWIFT IBAN registry's
// length and BBAN format per country, then mod 97) and VAT numbers (the
// country's shape and, where the country has one, its check digits).

// ibanFormats is the SWIFT IBAN registry: total length and BBAN structure
// ('n' digits, 'a' upper-case letters, 'c' either) per country.
var ibanFormats = map[string]struct {
	length int
	bban   string
}{
	"AD": {24, "4n4n12c"}, "AE": {23, "3n16n"}, "AL": {28, "8n16c"}, "AT": {20, "5n11n"},
	"AZ": {28, "4a20c"}, "BA": {20, "3n3n8n2n"}, "BE": {16, "3n7n2n"}, "BG": {22, "4a4n2n8c"},
	"BH": {22, "4a14c"}, "BI": {27, "5n5n11n2n"}, "BR": {29, "8n5n10n1a1c"}, "BY": {28, "4c4n16c"},
	"CH": {21, "5n12c"}, "CR": {22, "4n14n"}, "CY": {28, "3n5n16c"}, "CZ": {24, "4n6n10n"},
	"DE": {22, "8n10n"}, "DJ": {27, "5n5n11n2n"}, "DK": {18, "4n9n1n"}, "DO": {28, "4c20n"},
	"EE": {20, "2n2n11n1n"}, "EG": {29, "4n4n17n"}, "ES": {24, "4n4n1n1n10n"}, "FI": {18, "3n11n"},
	"FK": {18, "2a12n"}, "FO": {18, "4n9n1n"}, "FR": {27, "5n5n11c2n"}, "GB": {22, "4a6n8n"},
	"GE": {22, "2a16n"}, "GI": {23, "4a15c"}, "GL": {18, "4n9n1n"}, "GR": {27, "3n4n16c"},
	"GT": {28, "4c20c"}, "HN": {28, "4a20n"}, "HR": {21, "7n10n"}, "HU": {28, "3n4n1n15n1n"},
	"IE": {22, "4a6n8n"}, "IL": {23, "3n3n13n"}, "IQ": {23, "4a3n12n"}, "IS": {26, "4n2n6n10n"},
	"IT": {27, "1a5n5n12c"}, "JO": {30, "4a4n18c"}, "KW": {30, "4a22c"}, "KZ": {20, "3n13c"},
	"LB": {28, "4n20c"}, "LC": {32, "4a24c"}, "LI": {21, "5n12c"}, "LT": {20, "5n11n"},
	"LU": {20, "3n13c"}, "LV": {21, "4a13c"}, "LY": {25, "3n3n15n"}, "MC": {27, "5n5n11c2n"},
	"MD": {24, "2c18c"}, "ME": {22, "3n13n2n"}, "MK": {19, "3n10c2n"}, "MN": {20, "4n12n"},
	"MR": {27, "5n5n11n2n"}, "MT": {31, "4a5n18c"}, "MU": {30, "4a2n2n12n3n3a"}, "NI": {28, "4a20n"},
	"NL": {18, "4a10n"}, "NO": {15, "4n6n1n"}, "OM": {23, "3n16c"}, "PK": {24, "4a16c"},
	"PL": {28, "8n16n"}, "PS": {29, "4a21c"}, "PT": {25, "4n4n11n2n"}, "QA": {29, "4a21c"},
	"RO": {24, "4a16c"}, "RS": {22, "3n13n2n"}, "RU": {33, "9n5n15c"}, "SA": {24, "2n18c"},
	"SC": {31, "4a2n2n16n3a"}, "SD": {18, "2n12n"}, "SE": {24, "3n16n1n"}, "SI": {19, "5n8n2n"},
	"SK": {24, "4n6n10n"}, "SM": {27, "1a5n5n12c"}, "SO": {23, "4n3n12n"}, "ST": {25, "4n4n11n2n"},
	"SV": {28, "4a20n"}, "TL": {23, "3n14n2n"}, "TN": {24, "2n3n13n2n"}, "TR": {26, "5n1n16c"},
	"UA": {29, "6n19c"}, "VA": {22, "3n15n"}, "VG": {24, "4a16n"}, "XK": {20, "4n10n2n"},
	"YE": {30, "4a4n18c"},
}

// ibanLen and ibanBBAN are ibanFormats indexed by the two letters (0–675),
// expanded once so the scan does no map lookups or parsing.
var (
	ibanLen  [26 * 26]uint8
	ibanBBAN [26 * 26]string
	vatByCC  [26 * 26][]vatRule
)

func init() {
	for cc, f := range ibanFormats {
		k := ccIndex(cc[0], cc[1])
		ibanLen[k] = uint8(f.length)
		ibanBBAN[k] = expandFormat(f.bban)
	}
	for cc, r := range vatRules {
		vatByCC[ccIndex(cc[0], cc[1])] = r
	}
}

// expandFormat turns "4n4n12c" into "nnnnnnnncccccccccccc".
func expandFormat(f string) string {
	var b []byte
	n := 0
	for i := 0; i < len(f); i++ {
		if isDigit(f[i]) {
			n = n*10 + int(f[i]-'0')
			continue
		}
		for range n {
			b = append(b, f[i])
		}
		n = 0
	}
	return string(b)
}

func ccIndex(a, b byte) int { return int(a|0x20-'a')*26 + int(b|0x20-'a') }

func findPrefixed(s string, spans []span) []span {
	for i := 0; i+4 <= len(s); i++ {
		if !isAlpha(s[i]) || !isAlpha(s[i+1]) || (i > 0 && isWordByte(s[i-1])) {
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

// isSep is a separator allowed between the characters of an identifier.
func isSep(c byte) bool { return c == ' ' || c == '-' || c == '.' || c == '\t' || c == '\n' }

// readChars collects up to len(dst) alphanumerics from i on, upper-cased,
// skipping up to three separator bytes between two of them; ends[k] is the
// byte after the k-th. It returns how many it read.
func readChars(s string, i int, dst []byte, ends []int) int {
	n, k := 0, i
	for n < len(dst) && k < len(s) {
		c := s[k]
		if isAlnum(c) {
			if isAlpha(c) {
				c &^= 0x20
			}
			dst[n] = c
			k++
			ends[n] = k
			n++
			continue
		}
		gap := k
		for k < len(s) && isSep(s[k]) && k-gap < 3 {
			k++
		}
		if k == gap || n == 0 || k >= len(s) || !isAlnum(s[k]) {
			break
		}
	}
	return n
}

// boundaryAt reports that no letter, digit or '_' is glued to position e.
func boundaryAt(s string, e int) bool { return e >= len(s) || !isWordByte(s[e]) }

// ibanAt reads an IBAN at i: electronic ("DE89370400440532013000"), printed
// ("DE89 3704 0044 0532 0130 00") or as typed or spoken ("de89-3704…").
func ibanAt(s string, i int) (span, bool) {
	k := ccIndex(s[i], s[i+1])
	L := int(ibanLen[k])
	if L == 0 {
		return span{}, false
	}
	var c [34]byte
	var ends [34]int
	if readChars(s, i, c[:4], ends[:4]) < 4 || !isDigit(c[2]) || !isDigit(c[3]) {
		return span{}, false // most two-letter words: not followed by check digits
	}
	if readChars(s, i, c[:L], ends[:L]) < L || !isDigit(c[2]) || !isDigit(c[3]) || !boundaryAt(s, ends[L-1]) {
		return span{}, false
	}
	if !charsMatch(c[4:L], ibanBBAN[k]) || !mod97(c[:L]) {
		return span{}, false
	}
	// Its mask names the kind only, so an IBAN whose BBAN is mostly letters
	// (LV, QA, MT…) with fewer than four digits is still one.
	sp := span{start: i, end: ends[L-1], kind: IBAN}
	lastDigits(&sp.last4, c[:L])
	return sp, true
}

// mod97 is the IBAN check: the rearranged number is 1 modulo 97.
func mod97(c []byte) bool {
	L := len(c)
	r := 0
	for j := range L {
		ch := c[(j+4)%L]
		if isDigit(ch) {
			r = (r*10 + int(ch-'0')) % 97
		} else {
			r = (r*100 + int(ch-'A'+10)) % 97
		}
	}
	return r == 1
}

// charsMatch checks upper-cased characters against a format of 'n' (digit),
// 'a' (letter), 'c' (either) and 'd'/'x' (the VAT shapes' spelling of the
// same), anything else (upper case) matching itself.
func charsMatch(c []byte, f string) bool {
	if len(c) != len(f) {
		return false
	}
	for k := range len(f) {
		switch f[k] {
		case 'n', 'd':
			if !isDigit(c[k]) {
				return false
			}
		case 'a':
			if !isUpper(c[k]) {
				return false
			}
		case 'c', 'x':
		default:
			if c[k] != f[k] {
				return false
			}
		}
	}
	return true
}

// vatAt reads a VAT number at i: a country prefix, optional separators, then
// one of the country's shapes ending at a word boundary. Prefixes in lower
// case count only where the number carries check digits.
func vatAt(s string, i int) (span, bool) {
	rules := vatByCC[ccIndex(s[i], s[i+1])]
	if rules == nil {
		return span{}, false
	}
	upper := isUpper(s[i]) && isUpper(s[i+1])
	body := i + 2
	for body < len(s) && isSep(s[body]) && body-i < 4 {
		body++
	}
	if !upper && body > i+2 && !containsFold(s, i-keywordWindow, i, vatWords[:]) {
		// "no 3401 06075", "it 784…": a lower-case prefix set apart from the
		// digits is a word unless VAT wording comes before it.
		return span{}, false
	}
	if body+3 > len(s) || !isDigit(s[body]) && !isDigit(s[body+1]) && !isDigit(s[body+2]) {
		return span{}, false // every shape has a digit in its first three
	}
	var c [14]byte
	var ends [14]int
	n := readChars(s, body, c[:], ends[:])
	for _, r := range rules {
		L := len(r.shape)
		if n < L || !boundaryAt(s, ends[L-1]) || !charsMatch(c[:L], r.shape) {
			continue
		}
		if r.check == ckNone && !upper || !r.check.valid(c[:L]) {
			continue
		}
		sp := span{start: i, end: ends[L-1], kind: VAT}
		if lastDigits(&sp.last4, c[:L]) {
			return sp, true
		}
	}
	return span{}, false
}

// vatWords make a lower-case, spaced country prefix a VAT prefix.
var vatWords = [...]string{"vat", "tva", "mwst", "btw", "iva", "ust", "moms", "mva", "tax"}

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
