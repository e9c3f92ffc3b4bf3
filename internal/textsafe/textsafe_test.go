package textsafe

import (
	"errors"
	"testing"
)

func TestCheckAndClean(t *testing.T) {
	cases := []struct {
		in    string
		err   error
		clean string
	}{
		{"plain note, café, שלום", nil, "plain note, café, שלום"},
		{"caf\xe9", ErrInvalidUTF8, "caf\uFFFD"},
		{"a\x00b", ErrNUL, "ab"},
		{"pay \u202eevil\u202c now", ErrBidi, "pay evil now"},
		{"iso \u2066x\u2069", ErrBidi, "iso x"},
	}
	for _, c := range cases {
		if err := Check(c.in); !errors.Is(err, c.err) {
			t.Errorf("Check(%q) = %v, want %v", c.in, err, c.err)
		}
		if got := Clean(c.in); got != c.clean {
			t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.clean)
		}
		if Check(Clean(c.in)) != nil {
			t.Errorf("Clean(%q) still has a problem", c.in)
		}
	}
}

func TestStorableJSON(t *testing.T) {
	for in, bad := range map[string]bool{
		`{"a":"b"}`: false, `{"a":"\u0000"}`: true, "{\"a\":\"\x00\"}": true, "{\"a\":\"\xff\"}": true, `{"a":"\u00e9"}`: false,
	} {
		if err := StorableJSON([]byte(in)); (err != nil) != bad {
			t.Errorf("StorableJSON(%q) = %v", in, err)
		}
	}
}

// TestStorableJSONEscapes: escapes are read as JSON reads them. An escaped backslash
// followed by "u0000" is ordinary text; a \u0000 escape and a lone surrogate are not
// storable as jsonb; a surrogate pair is.
func TestStorableJSONEscapes(t *testing.T) {
	for in, want := range map[string]error{
		`{"a":"\\u0000"}`:               nil, // the six characters \u0000
		`{"a":"C:\\\\u0000x"}`:          nil,
		`{"a":"\\\u0000"}`:              ErrNUL,
		`{"a":"\ud800"}`:                ErrSurrogate,
		`{"a":"\udc00"}`:                ErrSurrogate,
		`{"a":"\ud800x\udc00"}`:         ErrSurrogate,
		`{"a":"\ud800\ud800\udc00"}`:    ErrSurrogate,
		`{"a":"\\ud800\udc00"}`:         ErrSurrogate, // the first is text, the second alone
		`{"a":"\ud83d\ude00 ok"}`:       nil,
		`{"\ud800":"key"}`:              ErrSurrogate,
		`{"a":"\\"} "\u0000 outside"`:   ErrNUL, // after a string that ends in \\, the next quote opens one
		`{"a":"x"}`:                     nil,
		`{"a":"\u00e9 \"\ud800\" b"}`:   ErrSurrogate,
		`{"a":"\"\\u0000\\\""}`:         nil,
		`{"a":"\uD800\uDC00 caps"}`:     nil,
		`{"a":"\uDBFF"}`:                ErrSurrogate,
		`{"a":"tail \ud800"} `:          ErrSurrogate,
		`{"n":1, "s":"\\\\\\u0000 ok"}`: nil,
	} {
		if err := StorableJSON([]byte(in)); err != want {
			t.Errorf("StorableJSON(%s) = %v, want %v", in, err, want)
		}
	}
}

func TestReplaceNULEscapes(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"x\u0000y"}`:       `{"a":"x\ufffdy"}`,
		`{"a":"\\u0000"}`:        `{"a":"\\u0000"}`,
		`{"a":"\u0000\\\u0000"}`: `{"a":"\ufffd\\\ufffd"}`,
		`{"a":"plain"}`:          `{"a":"plain"}`,
	} {
		got := ReplaceNULEscapes([]byte(in))
		if string(got) != want {
			t.Errorf("ReplaceNULEscapes(%s) = %s, want %s", in, got, want)
		}
		if StorableJSON(got) != nil {
			t.Errorf("ReplaceNULEscapes(%s) is still not storable", in)
		}
	}
}
