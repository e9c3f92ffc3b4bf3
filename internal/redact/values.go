package redact

// Values that are only sensitive because of what surrounds them: security
// codes, routing and account numbers, bare SSN/EIN/ITIN/VAT digits. Formats
// that are sensitive on their own (ddd-dd-dddd, dd-ddddddd) are here too,
// because they are read with the same tokenizer.

type kwClass uint8

const (
	kwNone kwClass = iota
	kwCVV
	kwRouting
	kwAccount
	kwSSN
	kwITIN
	kwEIN
	kwTaxID // ambiguous "tax id": ITIN when in ITIN ranges, else EIN
	kwVAT
)

// keywords are matched case-insensitively at word boundaries. They name the
// value that follows; the nearest one before a value decides its kind.
var keywords = [...]struct {
	text  string
	class kwClass
}{
	{"cvv", kwCVV}, {"cvv2", kwCVV}, {"cvc", kwCVV}, {"cvc2", kwCVV}, {"cid", kwCVV},
	{"csc", kwCVV}, {"security code", kwCVV}, {"card verification", kwCVV},
	{"card security", kwCVV},
	{"routing", kwRouting}, {"aba", kwRouting}, {"rtn", kwRouting},
	{"account number", kwAccount}, {"account no", kwAccount}, {"account num", kwAccount},
	{"account #", kwAccount}, {"account:", kwAccount}, {"acct", kwAccount},
	{"a/c", kwAccount}, {"bank account", kwAccount}, {"checking account", kwAccount},
	{"savings account", kwAccount},
	{"ssn", kwSSN}, {"social security", kwSSN}, {"social", kwSSN},
	{"itin", kwITIN}, {"individual taxpayer", kwITIN},
	{"ein", kwEIN}, {"fein", kwEIN}, {"employer identification", kwEIN}, {"employer id", kwEIN},
	{"tax id", kwTaxID}, {"taxpayer id", kwTaxID}, {"tin", kwTaxID},
	{"vat", kwVAT}, {"tva", kwVAT}, {"ust", kwVAT}, {"ustid", kwVAT}, {"ust-idnr", kwVAT},
	{"mwst", kwVAT}, {"iva", kwVAT},
}

const (
	keywordWindow = 48 // bytes before a value searched for its keyword
	nearAccount   = 40 // bytes between a routing number and its account number
	maxValue      = 17 // longest account number; nothing here is longer
)

// nearestKeyword returns the class of the keyword ending last within s[from:to].
func nearestKeyword(s string, from, to int) kwClass {
	best, bestEnd := kwNone, -1
	for i := max(from, 0); i < to; i++ {
		if s[i] == '[' {
			if e := maskLabelEnd(s, i); e > 0 {
				// A mask stands where a number stood: keywords before it
				// named that number, not ours. It is not a keyword itself.
				best, bestEnd, i = kwNone, -1, e
			}
			continue
		}
		if !isAlpha(s[i]) || (i > 0 && isAlpha(s[i-1])) {
			continue
		}
		for _, k := range keywords {
			e := i + len(k.text)
			if e > to || (e < len(s) && isAlpha(s[e])) || !equalFold(s[i:e], k.text) {
				continue
			}
			if e >= bestEnd {
				best, bestEnd = k.class, e
			}
		}
	}
	return best
}

type valueScan struct {
	s           string
	prevEnd     int // end of the previous number: keywords before it are not ours
	lastAccount int // end of the last bank account number, or -1
}

func (v *valueScan) flush(seq []unit, spans []span) []span {
	if len(seq) == 0 {
		return spans
	}
	s := v.s
	start, end := seq[0].start, seq[len(seq)-1].end
	n, spoken := 0, false
	for _, u := range seq {
		n += u.n
		spoken = spoken || u.word
	}
	prevEnd := v.prevEnd
	if !spoken || n >= 3 { // a lone "one" or "oh" is just a word
		v.prevEnd = end
	}
	if n < 3 || n > maxValue || !leftOK(s, start) || !rightOK(s, end) {
		return spans
	}
	var d [maxValue]byte
	k := 0
	for _, u := range seq {
		for j := 0; j < u.n; j++ {
			d[k] = u.digitAt(s, j)
			k++
		}
	}
	kind := v.classify(seq, d[:n], spoken, max(prevEnd, start-keywordWindow), start, end)
	if kind == "" {
		return spans
	}
	if kind == BankAccount {
		v.lastAccount = end
	}
	sp := span{start: start, end: end, kind: kind}
	if n >= 4 { // a CVV mask shows no digits
		copy(sp.last4[:], d[n-4:n])
	}
	return append(spans, sp)
}

func (v *valueScan) classify(seq []unit, d []byte, spoken bool, from, start, end int) Kind {
	s, n := v.s, len(d)
	if n == 9 && !spoken && dashed(s, seq) {
		switch {
		case groups(seq, 3, 2, 4) && itinRange(d):
			return ITIN
		case groups(seq, 3, 2, 4) && ssnValid(d):
			return SSN
		case groups(seq, 2, 7) && einPrefix(d):
			return EIN
		}
	}
	switch nearestKeyword(s, from, start) {
	case kwCVV:
		if n == 3 || n == 4 {
			return CVV
		}
	case kwRouting:
		if n == 9 && abaValid(d) {
			return Routing
		}
	case kwAccount:
		if n >= 6 {
			return BankAccount
		}
	case kwSSN:
		if n == 9 {
			if itinRange(d) {
				return ITIN
			}
			return SSN
		}
	case kwITIN:
		if n == 9 {
			return ITIN
		}
	case kwEIN:
		if n == 9 {
			return EIN
		}
	case kwTaxID:
		if n == 9 {
			if itinRange(d) {
				return ITIN
			}
			return EIN
		}
	case kwVAT:
		if n >= 8 && n <= 12 {
			return VAT
		}
	}
	if n == 9 && abaValid(d) {
		if v.lastAccount >= 0 && start-v.lastAccount <= nearAccount {
			return Routing
		}
		if nearestKeyword(s, end, min(len(s), end+nearAccount)) == kwAccount {
			return Routing
		}
	}
	return ""
}

// leftOK and rightOK reject numbers that are part of a larger token: amounts
// (1,249.00), times (15:02), ids (INV-20931, call_8f2c), paths and versions.
func leftOK(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch c := s[i-1]; {
	case isWordByte(c), c == '$', c == '+':
		return false
	case c == '-', c == '/', c == '.', c == ',', c == ':':
		return i < 2 || !isAlnum(s[i-2])
	}
	return true
}

func rightOK(s string, j int) bool {
	if j == len(s) {
		return true
	}
	switch c := s[j]; {
	case isWordByte(c), c == '%':
		return false
	case c == '-', c == '/', c == '.', c == ',', c == ':':
		return j+1 == len(s) || !isAlnum(s[j+1])
	}
	return true
}

func dashed(s string, seq []unit) bool {
	for k := 1; k < len(seq); k++ {
		if s[seq[k-1].end:seq[k].start] != "-" {
			return false
		}
	}
	return true
}

func groups(seq []unit, sizes ...int) bool {
	if len(seq) != len(sizes) {
		return false
	}
	for k, u := range seq {
		if u.n != sizes[k] {
			return false
		}
	}
	return true
}

func num(d []byte) int {
	v := 0
	for _, c := range d {
		v = v*10 + int(c-'0')
	}
	return v
}

// ssnValid applies the SSA rules: area not 000, 666 or 9xx; group not 00;
// serial not 0000.
func ssnValid(d []byte) bool {
	area := num(d[0:3])
	return area != 0 && area != 666 && area < 900 && num(d[3:5]) != 0 && num(d[5:9]) != 0
}

// itinRange: 9xx with a group of 50–65, 70–88, 90–92 or 94–99.
func itinRange(d []byte) bool {
	g := num(d[3:5])
	return d[0] == '9' && (g >= 50 && g <= 65 || g >= 70 && g <= 88 || g >= 90 && g <= 92 || g >= 94)
}

// einPrefix rejects the two-digit prefixes the IRS does not assign.
func einPrefix(d []byte) bool {
	switch num(d[0:2]) {
	case 0, 7, 8, 9, 17, 18, 19, 28, 29, 49, 69, 70, 78, 79, 89, 96, 97:
		return false
	}
	return true
}

// abaValid checks an ABA routing number: a Federal Reserve prefix and the
// 3-7-1 weighted checksum.
func abaValid(d []byte) bool {
	p := num(d[0:2])
	if !(p <= 12 || p >= 21 && p <= 32 || p >= 61 && p <= 72 || p == 80) {
		return false
	}
	sum := 0
	for k := 0; k < 9; k += 3 {
		sum += 3*int(d[k]-'0') + 7*int(d[k+1]-'0') + int(d[k+2]-'0')
	}
	return sum%10 == 0 && num(d) != 0
}
