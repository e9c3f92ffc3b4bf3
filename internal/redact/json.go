package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// JSON applies String to every string value of the JSON document raw. Object
// keys are left alone (they are schema, not content), and so are numbers,
// except an integer that is itself a Luhn-valid 13–19 digit card number: a
// PAN sent as a number becomes the masked string.
//
// When nothing is found raw is returned unchanged. Otherwise the document is
// re-encoded: valid JSON, object keys sorted, no HTML escaping. raw must hold
// exactly one JSON value.
func JSON(raw []byte) ([]byte, Counts, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, nil, fmt.Errorf("redact: decode json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, errors.New("redact: decode json: data after the top-level value")
	}
	var counts Counts
	v = walk(v, &counts)
	if counts.Total() == 0 {
		return raw, nil, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, nil, fmt.Errorf("redact: encode json: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), counts, nil
}

func walk(v any, counts *Counts) any {
	switch x := v.(type) {
	case string:
		out, c := String(x)
		*counts = counts.Add(c)
		return out
	case json.Number:
		if out, ok := maskNumber(string(x)); ok {
			*counts = counts.Add(Counts{Card: 1})
			return out
		}
	case []any:
		for i := range x {
			x[i] = walk(x[i], counts)
		}
	case map[string]any:
		for k := range x {
			x[k] = walk(x[k], counts)
		}
	}
	return v
}

// maskNumber masks a JSON integer literal that is a card number.
func maskNumber(n string) (string, bool) {
	d := strings.TrimPrefix(n, "-")
	if len(d) < minPAN || len(d) > maxPAN {
		return "", false
	}
	for i := 0; i < len(d); i++ {
		if !isDigit(d[i]) {
			return "", false
		}
	}
	if !luhn([]byte(d)) {
		return "", false
	}
	var b strings.Builder
	sp := span{kind: Card}
	copy(sp.last4[:], d[len(d)-4:])
	writeMask(&b, sp)
	return b.String(), true
}
