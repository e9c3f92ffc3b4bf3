package redact

// Mentions of private billing documents. They hold no number to mask, but a
// caller who sends a passport scan or a bank statement photo puts the case in
// restricted handling (the suppression flag lists them).

// Kinds of private document a call can mention.
const (
	Passport      Kind = "passport"
	TaxReturn     Kind = "tax_return"
	BankStatement Kind = "bank_statement"
	IDDocument    Kind = "id_document"
)

var mentionPhrases = [...]struct {
	text string
	kind Kind
}{
	{"passport", Passport},
	{"tax return", TaxReturn}, {"tax returns", TaxReturn}, {"form 1040", TaxReturn}, {"1040 form", TaxReturn},
	{"w-2", TaxReturn}, {"w2 form", TaxReturn}, {"steuererklärung", TaxReturn},
	{"bank statement", BankStatement}, {"bank statements", BankStatement}, {"account statement", BankStatement},
	{"driver's license", IDDocument}, {"drivers license", IDDocument}, {"driving licence", IDDocument},
	{"id card", IDDocument}, {"national id", IDDocument}, {"identity card", IDDocument},
}

// mentionFirst marks the (lower-case) first bytes of the phrases.
var mentionFirst = func() (t [256]bool) {
	for _, p := range mentionPhrases {
		t[p.text[0]] = true
	}
	return t
}()

// Mentions counts the private documents s names, each phrase at word
// boundaries and case-insensitively ("a photo of my passport", "I emailed
// our tax return"). It returns nil, without allocating, when there are none.
func Mentions(s string) Counts {
	var c Counts
	for i := 0; i < len(s); i++ {
		if !mentionFirst[s[i]|0x20] || (i > 0 && isAlpha(s[i-1])) {
			continue
		}
		for _, p := range mentionPhrases {
			e := i + len(p.text)
			if e <= len(s) && (e == len(s) || !isAlpha(s[e])) && equalFoldBytes(s[i:e], p.text) {
				if c == nil {
					c = make(Counts, 1)
				}
				c[p.kind]++
				i = e - 1
				break
			}
		}
	}
	return c
}

// equalFoldBytes is equalFold for phrases that may hold non-ASCII bytes,
// which must then match exactly.
func equalFoldBytes(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
