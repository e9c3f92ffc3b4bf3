package dialnexa

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Lenient field readers over a JSON object decoded with UseNumber. DialNexa's
// documentation generations disagree on names and types, so each reader takes
// the first of several keys that holds a usable value.

func objectAt(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

// firstString returns the first non-empty string (trimmed) or number text.
func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			if s := strings.TrimSpace(v); s != "" {
				return s
			}
		case json.Number:
			return v.String()
		}
	}
	return ""
}

// firstObject returns the first JSON object, also one sent as a JSON string
// (some connectors stringify the extracted data).
func firstObject(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		switch v := m[k].(type) {
		case map[string]any:
			return v
		case string:
			var o map[string]any
			dec := json.NewDecoder(bytes.NewReader([]byte(v)))
			dec.UseNumber()
			if dec.Decode(&o) == nil && o != nil {
				return o
			}
		}
	}
	return nil
}

// firstSeconds reads a duration in seconds from a number or a numeric
// string, rounding fractions to the nearest second. Negative, non-finite or
// absurd (over 68 years) values are treated as absent.
func firstSeconds(m map[string]any, keys ...string) *int {
	for _, k := range keys {
		s := firstString(m, k)
		if s == "" {
			continue
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f < 0 || f > math.MaxInt32 {
			continue
		}
		n := int(math.Round(f))
		return &n
	}
	return nil
}

// firstTime reads an RFC 3339 string, or Unix time as a number or numeric
// string (seconds; milliseconds when above 1e11), and returns it in UTC.
func firstTime(m map[string]any, keys ...string) *time.Time {
	for _, k := range keys {
		s := firstString(m, k)
		if s == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			t = t.UTC()
			return &t
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f <= 0 || f > 1e14 {
			continue
		}
		var t time.Time
		if f > 1e11 {
			t = time.UnixMilli(int64(math.Round(f))).UTC()
		} else {
			sec, frac := math.Modf(f)
			t = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
		}
		return &t
	}
	return nil
}
