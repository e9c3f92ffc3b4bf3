// Package textsafe keeps text that Postgres cannot store, or that can deceive a
// reader, out of the database: invalid UTF-8 and NUL (which text and jsonb columns
// refuse) and the bidirectional-override controls that can make a note read
// differently from what it says ("Trojan Source").
package textsafe

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// Problems reported by Check; each says what to do.
var (
	ErrInvalidUTF8 = errors.New("the text is not valid UTF-8; paste it again as plain text")
	ErrNUL         = errors.New("the text contains a NUL character; remove it")
	ErrBidi        = errors.New("the text contains invisible right-to-left override characters; retype it without them")
)

// isBidiControl reports the embedding, override and isolate controls (U+202A–U+202E,
// U+2066–U+2069). Ordinary right-to-left letters are fine.
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// Check reports the first problem in s, or nil.
func Check(s string) error {
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8
	}
	if strings.IndexByte(s, 0) >= 0 {
		return ErrNUL
	}
	if strings.IndexFunc(s, isBidiControl) >= 0 {
		return ErrBidi
	}
	return nil
}

// Clean returns s as valid UTF-8 without NUL or bidi controls (for search terms and
// filters, where refusing would only get in the way).
func Clean(s string) string {
	if Check(s) == nil {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == 0 || isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// ErrSurrogate reports a \uD800–\uDFFF escape that is not half of a pair: it names
// no character, so Postgres refuses it in jsonb.
var ErrSurrogate = errors.New("the JSON contains a lone UTF-16 surrogate escape (\\uD800-\\uDFFF without its pair), which names no character")

// StorableJSON reports whether a raw JSON body can be stored by Postgres as jsonb:
// valid UTF-8, no NUL byte, no \u0000 escape and no lone surrogate escape. Escapes
// are read as JSON reads them, so the text \\u0000 (an escaped backslash, then
// "u0000") is fine.
func StorableJSON(raw []byte) error {
	if !utf8.Valid(raw) {
		return ErrInvalidUTF8
	}
	if bytes.IndexByte(raw, 0) >= 0 {
		return ErrNUL
	}
	var err error
	highEnd := -1 // where an unpaired high surrogate escape ends, if one was just read
	eachUnicodeEscape(raw, func(i int, r rune) bool {
		paired := highEnd == i
		if highEnd >= 0 && !paired {
			err = ErrSurrogate
			return false
		}
		highEnd = -1
		switch {
		case r == 0:
			err = ErrNUL
		case r >= 0xD800 && r <= 0xDBFF && !paired:
			highEnd = i + 6
		case r >= 0xD800 && r <= 0xDBFF, r >= 0xDC00 && r <= 0xDFFF && !paired:
			err = ErrSurrogate
		}
		return err == nil
	})
	if err == nil && highEnd >= 0 {
		err = ErrSurrogate
	}
	return err
}

// ReplaceNULEscapes returns raw with every \u0000 escape replaced by \uFFFD (the
// replacement character), and raw itself when there is none. A NUL inside a call's
// text carries nothing a reader could use, while refusing the body would lose the
// whole call for good (DialNexa does not redeliver a 4xx); the replacement character
// still shows where it was.
func ReplaceNULEscapes(raw []byte) []byte {
	var at []int
	eachUnicodeEscape(raw, func(i int, r rune) bool {
		if r == 0 {
			at = append(at, i)
		}
		return true
	})
	if len(at) == 0 {
		return raw
	}
	out := append([]byte(nil), raw...)
	for _, i := range at {
		copy(out[i:i+6], `\ufffd`)
	}
	return out
}

// eachUnicodeEscape calls f with the offset and value of every \uXXXX escape inside
// a JSON string of raw, in order, until f returns false.
func eachUnicodeEscape(raw []byte, f func(i int, r rune) bool) {
	if !bytes.Contains(raw, []byte(`\u`)) {
		return // most bodies have no escape at all
	}
	in := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '"':
			in = !in
		case c == '\\' && in && i+1 < len(raw):
			if raw[i+1] == 'u' {
				if r, ok := unicodeEscapeAt(raw, i); ok && !f(i, r) {
					return
				}
			}
			i++ // skip the escaped character: \\ and \" end here
		}
	}
}

// unicodeEscapeAt parses the \uXXXX escape starting at raw[i].
func unicodeEscapeAt(raw []byte, i int) (rune, bool) {
	if i < 0 || i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range raw[i+2 : i+6] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
