package redact

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalize rewrites s into the text the detectors read, and returns for each
// byte of it the offset in s of the rune it came from (off has one extra entry,
// len(s), so a span's end maps too). ASCII text is its own normal form: it is
// returned as is with a nil off, without allocating.
//
// Per rune, in this order:
//   - zero-width and format characters (ZWSP, ZWNJ, ZWJ, word joiner, BOM,
//     soft hyphen, bidi marks: category Cf) are dropped;
//   - every decimal digit (\p{Nd}: full-width, Arabic-Indic, Devanagari…)
//     becomes its ASCII digit;
//   - every space separator (\p{Zs}, no-break spaces included) becomes ' ',
//     and line/paragraph separators '\n';
//   - every dash (\p{Pd}, minus sign) becomes '-'; fraction and division
//     slashes '/'; one-dot leaders and ideographic full stops '.';
//   - anything else is replaced by its NFKC form when that is ASCII
//     (full-width letters, ligatures), and kept as it is otherwise.
func normalize(s string) (string, []int) {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s, nil
	}
	out := make([]byte, i, len(s))
	copy(out, s[:i])
	off := make([]int, i, len(s)+1)
	for k := range i {
		off[k] = k
	}
	var nb [16]byte
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			out = append(out, c)
			off = append(off, i)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch rep := normRune(r); {
		case rep == dropRune:
		case rep != keepRune:
			out = append(out, byte(rep))
			off = append(off, i)
		default:
			k := norm.NFKC.AppendString(nb[:0], s[i:i+size])
			if !isASCII(k) {
				k = []byte(s[i : i+size])
			}
			for _, b := range k {
				out = append(out, b)
				off = append(off, i)
			}
		}
		i += size
	}
	off = append(off, len(s))
	return string(out), off
}

const (
	dropRune = -1
	keepRune = -2
)

// normRune returns the ASCII byte r stands for, dropRune, or keepRune.
func normRune(r rune) int {
	switch {
	case r == utf8.RuneError:
		return keepRune
	case unicode.Is(unicode.Cf, r):
		return dropRune
	case unicode.Is(unicode.Nd, r):
		return '0' + ndValue(r)
	case r == '\u2028' || r == '\u2029' || r == '\u0085':
		return '\n'
	case unicode.Is(unicode.Zs, r):
		return ' '
	case unicode.Is(unicode.Pd, r) || r == '\u2212' || r == '\u2043' || r == '\uFE63' || r == '\uFF0D':
		return '-'
	case r == '\u2044' || r == '\u2215' || r == '\uFF0F' || r == '\u29F8':
		return '/'
	case r == '\u2024' || r == '\u3002' || r == '\uFF0E' || r == '\uFF61' || r == '\u00B7' || r == '\u2219':
		return '.'
	case r == '\uFF3F' || r == '\u2017':
		return '_'
	}
	return keepRune
}

// ndValue is the value of a decimal digit. Unicode allocates \p{Nd} in
// contiguous runs of ten starting at zero, and the category table merges
// adjacent runs, so the offset in its range modulo ten is the value.
func ndValue(r rune) int {
	for _, rg := range unicode.Nd.R16 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rune(rg.Lo) <= r && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10
		}
	}
	return 0
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// origSpan maps bytes [a,b) of the normal form back to s.
func origSpan(off []int, a, b int) (int, int) {
	if off == nil {
		return a, b
	}
	// An NFKC expansion ("ﬁ" to "fi") gives several bytes one origin: a
	// span ending inside one covers the whole rune.
	for b > 0 && b < len(off)-1 && off[b] == off[b-1] {
		b++
	}
	return off[a], off[b]
}
