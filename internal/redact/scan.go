package redact

// unit is one piece of a number as it appears in text: a run of ASCII digits
// ("4242") or a spoken digit ("four", "oh", "double four").
type unit struct {
	start, end int
	n          int  // digits it stands for
	word       bool // spoken digit(s); dd holds them
	dd         [4]byte
	attached   bool // digit run touching a letter or '_' (CVV2, call_8f2c)
	mask       bool // the last four of a mask token: opaque
}

// digitAt returns the k-th digit (0-based) of u.
func (u unit) digitAt(s string, k int) byte {
	if u.word {
		return u.dd[k]
	}
	return s[u.start+k]
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func isWordByte(c byte) bool {
	return isAlnum(c) || c == '_'
}
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
func isHex(c byte) bool   { return isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f') }

// nextUnit returns the first unit starting at or after i. Canonical UUIDs
// are skipped whole: they are identifiers, never numbers.
func nextUnit(s string, i int) (unit, bool) {
	for i < len(s) {
		c := s[i]
		if !isAlnum(c) {
			i++
			continue
		}
		if (i == 0 || !isWordByte(s[i-1])) && isUUIDAt(s, i) {
			i += uuidLen
			continue
		}
		if isDigit(c) {
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			u := unit{start: i, end: j, n: j - i}
			u.attached = (i > 0 && isWordByte(s[i-1])) || (j < len(s) && isWordByte(s[j]))
			u.mask = isMaskTail(s, i, j)
			return u, true
		}
		j := i + 1
		for j < len(s) && isAlpha(s[j]) {
			j++
		}
		if u, ok := spokenAt(s, i, j); ok {
			return u, true
		}
		i = j
	}
	return unit{}, false
}

func digitWord(w string) (byte, bool) {
	if len(w) < 2 || len(w) > 5 {
		return 0, false
	}
	var name string
	var d byte
	switch w[0] | 0x20 {
	case 'z':
		name, d = "zero", '0'
	case 'o':
		if len(w) == 2 {
			name, d = "oh", '0'
		} else {
			name, d = "one", '1'
		}
	case 't':
		if len(w) == 3 {
			name, d = "two", '2'
		} else {
			name, d = "three", '3'
		}
	case 'f':
		if len(w) == 4 && w[1]|0x20 == 'o' {
			name, d = "four", '4'
		} else {
			name, d = "five", '5'
		}
	case 's':
		if len(w) == 3 {
			name, d = "six", '6'
		} else {
			name, d = "seven", '7'
		}
	case 'e':
		name, d = "eight", '8'
	case 'n':
		name, d = "nine", '9'
	default:
		return 0, false
	}
	return d, equalFold(w, name)
}

// equalFold compares ASCII case-insensitively; b must be lower case.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

const uuidLen = 36

// isUUIDAt reports whether a canonical 8-4-4-4-12 hex UUID starts at i and is
// not followed by another word byte.
func isUUIDAt(s string, i int) bool {
	if len(s)-i < uuidLen || (len(s)-i > uuidLen && isWordByte(s[i+uuidLen])) {
		return false
	}
	for k := 0; k < uuidLen; k++ {
		c := s[i+k]
		switch k {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

// findNumbers tokenizes s once and feeds two readers of the same units: card
// numbers, which take every digit run (even one glued to letters, so no PAN
// survives), and context values, which skip runs that belong to identifiers
// (CVV2, call_8f2c) and are split by them.
func findNumbers(s string, spans []span) []span {
	var cbuf, vbuf [32]unit
	cards, vals := cbuf[:0], vbuf[:0]
	v := valueScan{s: s, lastAccount: -1}
	for i := 0; ; {
		u, ok := nextUnit(s, i)
		if !ok {
			break
		}
		i = u.end
		if u.mask {
			spans = cardsInSeq(s, cards, spans)
			spans = v.flush(vals, spans)
			cards, vals = cards[:0], vals[:0]
			v.prevEnd = u.end
			continue
		}
		if len(cards) > 0 && !joins(s, cards[len(cards)-1], u, true) {
			spans = cardsInSeq(s, cards, spans)
			cards = cards[:0]
		}
		cards = append(cards, u)
		if u.attached && !u.word {
			spans = v.flush(vals, spans)
			vals = vals[:0]
			continue
		}
		if len(vals) > 0 && !joins(s, vals[len(vals)-1], u, false) {
			spans = v.flush(vals, spans)
			vals = vals[:0]
		}
		vals = append(vals, u)
	}
	spans = cardsInSeq(s, cards, spans)
	return v.flush(vals, spans)
}
