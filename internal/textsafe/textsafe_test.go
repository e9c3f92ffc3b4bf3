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
