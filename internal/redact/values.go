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
	kwAccount     // "account number": bank or customer account, decided by context
	kwBankAccount // wording that can only mean a bank account
	kwSSN
	kwITIN
	kwEIN
	kwTaxID // ambiguous "tax id": ITIN when in ITIN ranges, else EIN
	kwVAT
	kwBusiness // invoice, order, ticket…: the number is ours, not the caller's
)

type keyword struct {
	text  string
	class kwClass
	weak  bool // a common word too ("tin", "social"): a business word in the sentence overrides it
}

// keywords are matched case-insensitively at word boundaries. They name the
// value next to them; the nearest one before a value decides its kind, or
// failing that the first one after it in the same sentence.
var keywords = [...]keyword{
	{"cvv", kwCVV, false}, {"cvv2", kwCVV, false}, {"cvc", kwCVV, false}, {"cvc2", kwCVV, false},
	{"cid", kwCVV, true}, {"csc", kwCVV, true}, {"security code", kwCVV, false},
	{"card verification", kwCVV, false}, {"card security", kwCVV, false}, {"three digit code", kwCVV, false},
	{"code on the back", kwCVV, false}, {"digits on the back", kwCVV, false},
	{"routing", kwRouting, false}, {"aba", kwRouting, true}, {"rtn", kwRouting, true},
	{"sort code", kwRouting, false}, {"transit number", kwRouting, false},
	{"account number", kwAccount, false}, {"account no", kwAccount, false}, {"account num", kwAccount, false},
	{"account #", kwAccount, false}, {"account:", kwAccount, false}, {"acct", kwAccount, false},
	{"a/c", kwAccount, false}, {"account at", kwAccount, false}, {"bank account", kwBankAccount, false}, {"checking account", kwBankAccount, false},
	{"savings account", kwBankAccount, false}, {"checking", kwBankAccount, true}, {"savings", kwBankAccount, true},
	{"ssn", kwSSN, false}, {"s s n", kwSSN, false}, {"social security", kwSSN, false}, {"social", kwSSN, true}, {"socials", kwSSN, true},
	{"itin", kwITIN, false}, {"individual taxpayer", kwITIN, false},
	{"ein", kwEIN, false}, {"fein", kwEIN, false}, {"employer identification", kwEIN, false}, {"employer id", kwEIN, false},
	{"tax id", kwTaxID, false}, {"taxpayer id", kwTaxID, false}, {"tin", kwTaxID, true},
	{"tax identification", kwTaxID, false}, {"taxpayer identification", kwTaxID, false},
	{"vat", kwVAT, false}, {"tva", kwVAT, false}, {"ust", kwVAT, true}, {"ustid", kwVAT, false},
	{"ust-idnr", kwVAT, false}, {"mwst", kwVAT, false}, {"iva", kwVAT, true}, {"btw", kwVAT, false},
	{"moms", kwVAT, true}, {"mva", kwVAT, true}, {"nip", kwVAT, true},
	{"invoice", kwBusiness, false}, {"inv", kwBusiness, false}, {"order", kwBusiness, false},
	{"ticket", kwBusiness, false}, {"receipt", kwBusiness, false}, {"tracking", kwBusiness, false},
	{"reference", kwBusiness, false}, {"ref", kwBusiness, false}, {"confirmation", kwBusiness, false},
	{"case", kwBusiness, false}, {"sku", kwBusiness, false}, {"po", kwBusiness, false},
	{"purchase order", kwBusiness, false}, {"quote", kwBusiness, false}, {"booking", kwBusiness, false},
	{"claim", kwBusiness, false}, {"shipment", kwBusiness, false}, {"parcel", kwBusiness, false},
	{"serial", kwBusiness, false}, {"part number", kwBusiness, false}, {"item", kwBusiness, false},
	{"product", kwBusiness, false}, {"phone", kwBusiness, false}, {"fax", kwBusiness, false},
	{"extension", kwBusiness, false}, {"ext", kwBusiness, false}, {"zip", kwBusiness, false},
	{"postal", kwBusiness, false}, {"postcode", kwBusiness, false}, {"customer number", kwBusiness, false},
	{"customer id", kwBusiness, false}, {"member", kwBusiness, false}, {"membership", kwBusiness, false},
	{"client number", kwBusiness, false}, {"subscription", kwBusiness, false}, {"contract", kwBusiness, false},
	{"policy", kwBusiness, false}, {"license", kwBusiness, false}, {"licence", kwBusiness, false},
	{"statement number", kwBusiness, false}, {"credit note", kwBusiness, false}, {"rma", kwBusiness, false},
	{"can", kwBusiness, false}, {"model", kwBusiness, false}, {"batch", kwBusiness, false},
	{"exp", kwBusiness, false}, {"expiry", kwBusiness, false}, {"expires", kwBusiness, false},
	{"expiration", kwBusiness, false}, {"valid thru", kwBusiness, false}, {"date", kwBusiness, false},
	{"dated", kwBusiness, false}, {"transaction id", kwBusiness, false}, {"charge id", kwBusiness, false}, {"payment id", kwBusiness, false},
}

// kwByLetter is keywords by their first letter.
var kwByLetter [26][]keyword

func init() {
	for _, k := range keywords {
		kwByLetter[k.text[0]-'a'] = append(kwByLetter[k.text[0]-'a'], k)
	}
}

// customerWords before "account number", or after the value, make it the
// caller's account with us; bankWords anywhere around make it a bank's.
var (
	customerWords = [...]string{"customer", "billing", "client", "member", "subscriber", "loyalty",
		"with us", "with you", "on our", "in our system", "portal", "login", "username", "our records",
		"on the bill", "on my bill", "on your bill", "on the invoice"}
	bankWords = [...]string{"bank", "routing", "sort code", "iban", "swift", "bic", "wire", "ach",
		"direct debit", "deposit", "checking", "savings", "credit union", "building society", "transit"}
)

const (
	keywordWindow = 120 // bytes before a value searched for its keyword
	rightWindow   = 80  // bytes after a value searched, within its sentence
	nearAccount   = 40  // bytes between a routing number and its account number
	maxValue      = 17  // longest account number; nothing here is longer
)

// kwHit is a keyword found in the text.
type kwHit struct {
	class      kwClass
	weak       bool
	start, end int
}

// nearestKeyword returns the keyword ending last within s[from:to].
func nearestKeyword(s string, from, to int) kwHit {
	best := kwHit{end: -1}
	for i := max(from, 0); i < to; i++ {
		if s[i] == '[' {
			if e := maskLabelEnd(s, i); e > 0 {
				// A mask stands where a number stood: keywords before it
				// named that number, not ours. It is not a keyword itself.
				best, i = kwHit{end: -1}, e
			}
			continue
		}
		if k, e := keywordAt(s, i, to); e > 0 && e >= best.end {
			best = kwHit{class: k.class, weak: k.weak, start: i, end: e}
		}
	}
	return best
}

// keywordAt returns the longest keyword starting at i and ending by to.
func keywordAt(s string, i, to int) (keyword, int) {
	if !isAlpha(s[i]) || (i > 0 && isAlpha(s[i-1])) {
		return keyword{}, 0
	}
	var best keyword
	bestEnd := 0
	for _, k := range kwByLetter[s[i]|0x20-'a'] {
		e := i + len(k.text)
		if e > to || e <= bestEnd || (e < len(s) && isAlpha(s[e])) || !equalFold(s[i:e], k.text) {
			continue
		}
		best, bestEnd = k, e
	}
	return best, bestEnd
}

// keywordAfter returns the first keyword after a value that ends at from, in
// the same sentence (up to . ! ? ; or a line break) and before the next digit.
func keywordAfter(s string, from int) kwHit {
	to := min(len(s), from+rightWindow)
	for i := from; i < to; i++ {
		c := s[i]
		if isDigit(c) || c == '\n' || c == ';' || c == '!' || c == '?' || c == '[' ||
			c == '.' && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n') {
			break
		}
		if k, e := keywordAt(s, i, to); e > 0 {
			if k.class != kwBusiness && numberFollows(s, e, minDigits(k.class)) {
				// "exp 1228 cvv 123": the keyword introduces its own value.
				return kwHit{end: -1}
			}
			return kwHit{class: k.class, weak: k.weak, start: i, end: e}
		}
	}
	return kwHit{end: -1}
}

// minDigits is the fewest digits a value named by class has: a keyword after
// a number that is followed by a shorter one ("my SSN for the 1099") still
// names the number before it.
func minDigits(c kwClass) int {
	switch c {
	case kwSSN, kwITIN, kwEIN, kwTaxID, kwRouting:
		return 9
	}
	return 1
}

// numberFollows reports a written number of at least need digits (separators
// between them allowed), or a spoken one, after i in its sentence.
func numberFollows(s string, i, need int) bool {
	to := min(len(s), i+rightWindow)
	for j := i; j < to; j++ {
		c := s[j]
		if c == '\n' || c == ';' || c == '!' || c == '?' || c == ',' || c == '.' && (j+1 == len(s) || s[j+1] == ' ') {
			return false
		}
		if isDigit(c) {
			n := 0
			for ; j < len(s) && (isDigit(s[j]) || s[j] == ' ' || s[j] == '-' || s[j] == '.'); j++ {
				if isDigit(s[j]) {
					n++
				}
			}
			if n >= need {
				return true
			}
			continue
		}
		if isAlpha(c) && (j == 0 || !isAlpha(s[j-1])) {
			e := j
			for e < len(s) && isAlpha(s[e]) {
				e++
			}
			if _, ok := spokenAt(s, j, e); ok {
				return true
			}
			j = e - 1
		}
	}
	return false
}

// businessInSentence reports a business keyword after from in its sentence.
func businessInSentence(s string, from int) bool {
	for from < len(s) {
		h := keywordAfter(s, from)
		if h.end < 0 {
			return false
		}
		if h.class == kwBusiness {
			return true
		}
		from = h.end
	}
	return false
}

// containsFold reports whether any of words occurs, case-insensitively and at
// word boundaries, in s[from:to].
func containsFold(s string, from, to int, words []string) bool {
	from, to = max(from, 0), min(to, len(s))
	for i := from; i < to; i++ {
		if !isAlpha(s[i]) || (i > 0 && isAlpha(s[i-1])) {
			continue
		}
		for _, w := range words {
			e := i + len(w)
			// A word right before a colon is a speaker ("Customer: …"), not wording.
			if e <= to && (e == len(s) || !isAlpha(s[e]) && s[e] != ':') && equalFold(s[i:e], w) {
				return true
			}
		}
	}
	return false
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
	// A lone "one" or "oh" is just a word, and a digit glued to a form's
	// name ("W-9") is part of that name: keywords before either still count.
	if (!spoken || n >= 3) && (n >= 3 || leftOK(s, start)) {
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
	kind := v.classify(seq, d[:n], max(prevEnd, start-keywordWindow), start, end)
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

func (v *valueScan) classify(seq []unit, d []byte, from, start, end int) Kind {
	s, n := v.s, len(d)
	left := nearestKeyword(s, from, start)
	right := keywordAfter(s, end)
	if left.class == kwBusiness ||
		(left.class == kwNone || left.weak) && right.class == kwBusiness ||
		left.weak && businessInSentence(s, end) {
		return ""
	}
	ctx := left
	if ctx.class == kwNone {
		ctx = right
	}
	if n == 9 {
		if k := taxShape(s, seq, d); k != "" {
			return k
		}
	}
	switch ctx.class {
	case kwCVV:
		if n == 3 || n == 4 {
			return CVV
		}
	case kwRouting:
		if n == 9 && abaValid(d) || n == 6 {
			return Routing
		}
	case kwAccount:
		if n >= 6 && v.bankAccount(ctx, end) {
			return BankAccount
		}
	case kwBankAccount:
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
		if h := nearestKeyword(s, end, min(len(s), end+nearAccount)); h.class == kwAccount || h.class == kwBankAccount {
			return Routing
		}
	}
	return ""
}

// taxShape classifies nine digits written in the SSN (3-2-4) or EIN (2-7)
// grouping with dashes or dots, digits or spoken ("one two three dash …").
func taxShape(s string, seq []unit, d []byte) Kind {
	var sizes [4]int
	g, sep := 0, byte(0)
	for k, u := range seq {
		if k > 0 {
			c := gapSep(s[seq[k-1].end:u.start])
			switch {
			case c == '-' || c == '.':
				if sep != 0 && sep != c || g == 3 {
					return ""
				}
				sep = c
				g++
			case c != ' ' || !u.word && !seq[k-1].word:
				return "" // written groups split by spaces: context decides
			}
		}
		sizes[g] += u.n
	}
	switch {
	case g == 2 && sizes[0] == 3 && sizes[1] == 2 && sizes[2] == 4 && itinRange(d):
		return ITIN
	case g == 2 && sizes[0] == 3 && sizes[1] == 2 && sizes[2] == 4 && ssnValid(d):
		return SSN
	case g == 1 && sizes[0] == 2 && sizes[1] == 7 && einPrefix(d):
		return EIN
	}
	return ""
}

// gapSep names the separator a gap between two units stands for: '-' for a
// dash (written or spoken), '.' for a dot, ' ' for spaces, fillers and commas.
func gapSep(gap string) byte {
	sep := byte(' ')
	for i := 0; i < len(gap); i++ {
		switch c := gap[i]; {
		case c == '-' || c == '.':
			sep = c
		case c == '/':
			return '/'
		case isAlpha(c):
			e := i
			for e < len(gap) && isAlpha(gap[e]) {
				e++
			}
			if sepWordOnly(gap[i:e]) {
				sep = '-'
			}
			i = e - 1
		}
	}
	return sep
}

// bankAccount decides whether the number named by "account number" (h) is a
// bank account: "customer"/"billing" wording just before the keyword makes it
// ours; then banking wording around it makes it a bank's; then "with us"
// wording after it makes it ours; otherwise it is treated as a bank's.
func (v *valueScan) bankAccount(h kwHit, end int) bool {
	s := v.s
	if containsFold(s, h.start-24, h.start, customerWords[:]) {
		return false
	}
	if containsFold(s, h.start-160, min(len(s), end+80), bankWords[:]) {
		return true
	}
	return !containsFold(s, end, min(len(s), end+40), customerWords[:])
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
