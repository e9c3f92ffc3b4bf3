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

// StorableJSON reports whether a raw JSON body can be stored by Postgres: valid UTF-8,
// no NUL byte and no \u0000 escape (jsonb refuses it).
func StorableJSON(raw []byte) error {
	if !utf8.Valid(raw) {
		return ErrInvalidUTF8
	}
	if bytes.IndexByte(raw, 0) >= 0 || bytes.Contains(raw, []byte(`\u0000`)) {
		return ErrNUL
	}
	return nil
}
