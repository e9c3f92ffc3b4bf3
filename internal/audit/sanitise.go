package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	piiredact "github.com/countersign/countersign/internal/redact"
)

// Redact masks secrets (card numbers and the like) in summary values before they are
// stored: internal/redact's masker. Tests may swap it; never while Append may run.
var Redact = func(s string) string { r, _ := piiredact.String(s); return r }

// Caps on request metadata, which an attacker controls and which nobody needs whole.
const (
	maxRequestID = 128
	maxIP        = 64
	maxUserAgent = 512
)

// sanitise validates e and escapes every string field so that none can forge a line.
func sanitise(e Entry) (Entry, error) {
	e.Actor = clean(e.Actor)
	e.Action = clean(e.Action)
	if e.Actor == "" || e.Action == "" {
		return Entry{}, fmt.Errorf("%w: actor and action are required", ErrInvalid)
	}
	e.ObjectType = clean(e.ObjectType)
	e.ObjectID = clean(e.ObjectID)
	e.Outcome = clean(e.Outcome)
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	e.RequestID = truncate(clean(e.RequestID), maxRequestID)
	e.IP = truncate(clean(e.IP), maxIP)
	e.UserAgent = truncate(clean(e.UserAgent), maxUserAgent)
	s, err := cleanSummary(e.Summary)
	if err != nil {
		return Entry{}, fmt.Errorf("%w: summary: %v", ErrInvalid, err)
	}
	e.Summary = s
	return e, nil
}

// cleanSummary normalises any summary (structs, typed maps, slices) to JSON values,
// redacts string and number values, and escapes every key and string.
func cleanSummary(in map[string]any) (map[string]any, error) {
	if len(in) == 0 {
		return map[string]any{}, nil
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	m, err := decodeSummary(string(raw))
	if err != nil {
		return nil, err
	}
	return cleanValue(m).(map[string]any), nil
}

func cleanValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[clean(k)] = cleanValue(x)
		}
		return out
	case []any:
		for i := range v {
			v[i] = cleanValue(v[i])
		}
		return v
	case string:
		return clean(redact(v))
	case json.Number:
		// A card number sent as a JSON number must be masked too; once masked it is
		// no longer a number.
		if r := redact(string(v)); r != string(v) {
			return clean(r)
		}
		return v
	default:
		return v
	}
}

func redact(s string) string {
	if Redact == nil {
		return s
	}
	return Redact(s)
}

// clean replaces invalid UTF-8 with U+FFFD and escapes control characters, line and
// paragraph separators and bidi controls as visible text (`\n`, `\u001b`).
func clean(s string) string {
	if !needsClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case escaped(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsClean(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if escaped(r) {
			return true
		}
	}
	return false
}

func escaped(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
