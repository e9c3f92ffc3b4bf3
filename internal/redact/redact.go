package redact

import (
	"slices"
	"strings"
)

// RulesVersion names the detection rules. `countersign redact rescan` re-applies
// them to stored rows and resumes per version: change it when the rules change.
const RulesVersion = "2026-12-issue13-heldout"

// Kind names one class of suppressed data. The values are stable: they are
// stored in audit rows and metrics labels.
type Kind string

// The kinds String can suppress, in tie-break priority order (when two findings
// start at the same byte and have the same length, the earlier kind wins).
const (
	Card        Kind = "card"
	CVV         Kind = "cvv"
	IBAN        Kind = "iban"
	Routing     Kind = "routing"
	BankAccount Kind = "bank_account"
	SSN         Kind = "ssn"
	EIN         Kind = "ein"
	ITIN        Kind = "itin"
	VAT         Kind = "vat"
)

func (k Kind) priority() int {
	switch k {
	case Card:
		return 0
	case IBAN:
		return 1
	case CVV:
		return 2
	case Routing:
		return 3
	case SSN:
		return 4
	case ITIN:
		return 5
	case EIN:
		return 6
	case VAT:
		return 7
	default: // BankAccount: the weakest claim, it only rests on wording.
		return 8
	}
}

// Restricted reports the kinds finance may need back (tax ids and bank
// details): their masks show the kind only ("[vat]"), and their originals can
// be kept, encrypted, in the vault. Cards never are (PCI DSS: last four only).
func (k Kind) Restricted() bool {
	switch k {
	case IBAN, Routing, BankAccount, SSN, EIN, ITIN, VAT:
		return true
	}
	return false
}

// label is the word shown inside the mask token.
func (k Kind) label() string {
	if k == BankAccount {
		return "bank account"
	}
	return string(k)
}

// Counts says how many values of each kind were suppressed. A nil or empty
// Counts means nothing was found; callers use it for metrics and audit rows,
// never to reconstruct what was removed.
type Counts map[Kind]int

// Add merges o into c and returns the result, allocating only when c is nil
// and o is not empty, so the usual `total = total.Add(n)` works from nil.
func (c Counts) Add(o Counts) Counts {
	if len(o) == 0 {
		return c
	}
	if c == nil {
		c = make(Counts, len(o))
	}
	for k, v := range o {
		c[k] += v
	}
	return c
}

// Total is the number of suppressed values of every kind.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// maxPasses bounds the fixpoint loop in String. Every pass that changes the
// text removes at least one unmasked digit, so the loop ends on its own; the
// bound only guards the hot path against inputs built to chain findings.
const maxPasses = 16

// String returns s with every card number, security code, IBAN, routing
// number, bank account number, SSN, EIN, ITIN and VAT number it recognises
// replaced by a mask token such as "[card •••• 4242]", and how many of each
// it replaced. When nothing is found it returns s itself without allocating.
//
// The result is a fixpoint: String(String(s)) == String(s), and it never
// contains a Luhn-valid run of 13–19 digits (see doc.go for the exact rule).
func String(s string) (string, Counts) { return redactString(s, nil) }

// Finding is the original text of one restricted value (Kind.Restricted), as
// it was said, for the vault. Nothing else may keep it.
type Finding struct {
	Kind  Kind
	Value string
}

// StringVault is String that also returns the originals of the restricted
// values it masked, in order.
func StringVault(s string) (string, Counts, []Finding) {
	var found []Finding
	out, c := redactString(s, &found)
	return out, c, found
}

func redactString(s string, found *[]Finding) (string, Counts) {
	var counts Counts
	for range maxPasses {
		n, off := normalize(s)
		spans := find(n)
		if len(spans) == 0 {
			break
		}
		if counts == nil {
			counts = make(Counts, 2)
		}
		s = apply(s, off, spans, counts, found)
	}
	return s, counts
}

// Detect reports what String would suppress in s. It exists so callers can
// refuse input (a free-text note) rather than silently rewrite it. Text with
// no findings is answered from a single scan without building any output.
func Detect(s string) Counts {
	n, _ := normalize(s)
	if len(find(n)) == 0 {
		return nil
	}
	_, c := String(s)
	return c
}

// span is one finding: bytes [start,end) of the input are replaced by the mask
// for kind, which shows last4 (ASCII digits; unused for CVV).
type span struct {
	start, end int
	kind       Kind
	last4      [4]byte
}

// find runs every detector over s and returns non-overlapping findings in
// order. It returns nil, without allocating, when there are none.
func find(s string) []span {
	var spans []span
	spans = findNumbers(s, spans)
	spans = findPrefixed(s, spans)
	if len(spans) < 2 {
		return spans
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if a.end != b.end {
			return b.end - a.end // longer first
		}
		return a.kind.priority() - b.kind.priority()
	})
	out := spans[:1]
	for _, sp := range spans[1:] {
		if sp.start >= out[len(out)-1].end {
			out = append(out, sp)
		}
	}
	return out
}

const (
	bullets4 = "••••"
	// maxMaskLen bounds the length of a mask token ("[card •••• 1234]" is the longest).
	maxMaskLen = len("[bank account ") + len(bullets4) + len(" 1234]")
)

// apply replaces the spans, found in the normal form whose offsets into s
// are off, by their masks in s itself.
func apply(s string, off []int, spans []span, counts Counts, found *[]Finding) string {
	var b strings.Builder
	b.Grow(len(s) + len(spans)*maxMaskLen)
	prev := 0
	for _, sp := range spans {
		start, end := origSpan(off, sp.start, sp.end)
		b.WriteString(s[prev:start])
		writeMask(&b, sp)
		counts[sp.kind]++
		if found != nil && sp.kind.Restricted() {
			*found = append(*found, Finding{Kind: sp.kind, Value: s[start:end]})
		}
		prev = end
	}
	b.WriteString(s[prev:])
	return b.String()
}

func writeMask(b *strings.Builder, sp span) {
	b.WriteByte('[')
	b.WriteString(sp.kind.label())
	if sp.kind.Restricted() {
		b.WriteByte(']')
		return
	}
	if sp.kind == CVV {
		b.WriteString(" •••]")
		return
	}
	b.WriteString(" " + bullets4 + " ")
	b.Write(sp.last4[:])
	b.WriteByte(']')
}

// isMaskTail reports whether the digit run s[i:j] is the visible last four of
// a mask token ("•••• 1234]"). Such digits are opaque to every detector, which
// is what keeps String idempotent.
func isMaskTail(s string, i, j int) bool {
	const pre = " " + bullets4 + " "
	return j-i == 4 && j < len(s) && s[j] == ']' &&
		i >= len(pre)-1 && s[i-len(pre)+1:i] == pre[1:]
}

// maskLabelEnd returns the end of "[label •" or of "[label]" when a mask
// token starts at i, or 0.
func maskLabelEnd(s string, i int) int {
	for _, k := range [...]Kind{Card, CVV, IBAN, Routing, BankAccount, SSN, EIN, ITIN, VAT} {
		l := k.label()
		e := i + 1 + len(l)
		if e > len(s) || s[i+1:e] != l {
			continue
		}
		if e < len(s) && s[e] == ']' {
			return e + 1
		}
		if e+len(" •") <= len(s) && s[e:e+len(" •")] == " •" {
			return e + len(" •")
		}
	}
	return 0
}

// Strings redacts texts as one document, joined by line breaks, so that a
// number split across two of them (a card read over two transcript turns) is
// found; each text gets back its own part of every mask. A value split across
// texts is masked in each of them and counted once. texts is not modified;
// when nothing is found it is returned as is.
func Strings(texts []string) ([]string, Counts) { return redactStrings(texts, nil) }

func redactStrings(texts []string, found *[]Finding) ([]string, Counts) {
	if len(texts) < 2 {
		if len(texts) == 1 {
			s, c := redactString(texts[0], found)
			if c == nil {
				return texts, nil
			}
			return []string{s}, c
		}
		return texts, nil
	}
	var counts Counts
	out := texts
	for range maxPasses {
		joined := strings.Join(out, "\n")
		n, off := normalize(joined)
		spans := find(n)
		if len(spans) == 0 {
			break
		}
		if counts == nil {
			counts = make(Counts, 2)
		}
		for _, sp := range spans {
			counts[sp.kind]++
			if found != nil && sp.kind.Restricted() {
				a, z := origSpan(off, sp.start, sp.end)
				*found = append(*found, Finding{Kind: sp.kind, Value: joined[a:z]})
			}
		}
		out = splitApply(out, off, spans)
	}
	return out, counts
}

// splitApply masks, in each text, the part of every span that falls in it.
func splitApply(texts []string, off []int, spans []span) []string {
	res := make([]string, len(texts))
	base := 0
	k := 0 // first span that may still reach the current text
	for i, t := range texts {
		end := base + len(t)
		var b strings.Builder
		prev := base
		for j := k; j < len(spans); j++ {
			a, z := origSpan(off, spans[j].start, spans[j].end)
			if a >= end {
				break
			}
			if z <= base {
				k = j + 1
				continue
			}
			a, z = max(a, base), min(z, end)
			if a == z || !holdsNumber(texts[i][a-base:z-base]) {
				continue // only the line break, or a turn of fillers ("uh-huh")
			}
			if b.Len() == 0 {
				b.Grow(len(t) + maxMaskLen)
			}
			b.WriteString(texts[i][prev-base : a-base])
			writeMask(&b, spans[j])
			prev = z
		}
		if prev == base && b.Len() == 0 {
			res[i] = t
		} else {
			b.WriteString(t[prev-base:])
			res[i] = b.String()
		}
		base = end + 1 // the joining line break
	}
	return res
}

// holdsNumber reports a digit (of any script) or a spoken number in piece.
func holdsNumber(piece string) bool {
	for i := 0; i < len(piece); i++ {
		c := piece[i]
		if isDigit(c) || c >= 0x80 {
			return true
		}
		if isAlpha(c) && (i == 0 || !isAlpha(piece[i-1])) {
			e := i
			for e < len(piece) && isAlpha(piece[e]) {
				e++
			}
			if _, ok := spokenAt(piece, i, e); ok {
				return true
			}
			i = e - 1
		}
	}
	return false
}
