package triage

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// fields is the analysis renamed to our field names, with values normalised:
// text and number fields are strings (numbers as their JSON text), flags are
// bools. Nulls, empty strings and values of the wrong type are left out.
type fields map[string]any

func mapFields(analysis map[string]any, m Mapping) fields {
	f := fields{}
	for _, spec := range fieldSpecs {
		theirs := *spec.ref(&m)
		if theirs == "" {
			continue
		}
		if v, ok := normalise(analysis[theirs], spec.typ); ok {
			f[spec.name] = v
		}
	}
	return f
}

func normalise(v any, typ valueType) (any, bool) {
	switch typ {
	case boolValue:
		return asBool(v)
	case numberValue:
		s, ok := asNumberText(v)
		return s, ok && s != ""
	default:
		s, ok := asText(v)
		return s, ok && s != ""
	}
}

func asText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// asNumberText keeps the number exactly as the customer sent it when it
// arrives as json.Number or a string; float64 (decoded without UseNumber) is
// formatted in its shortest exact form.
func asNumberText(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number, float64:
		return asText(x)
	case string:
		return strings.TrimSpace(x), true
	}
	return "", false
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(strings.ToLower(x)))
		if err == nil {
			return b, true
		}
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "yes", "y":
			return true, true
		case "no", "n":
			return false, true
		}
	case json.Number:
		return x.String() != "0", true
	case float64:
		return x != 0, true
	}
	return false, false
}

func (f fields) text(name string) string {
	s, _ := f[name].(string)
	return s
}

// flag reports the field's value and whether the customer set it at all.
func (f fields) flag(name string) (value, set bool) {
	value, set = f[name].(bool)
	return value, set
}

func (f fields) isTrue(name string) bool {
	v, _ := f.flag(name)
	return v
}

// parseDeadline accepts a date ("2026-11-28", read as the end of that day in
// UTC, since a promise "by the 28th" holds all day) or an RFC 3339 time.
func parseDeadline(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Second), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
