package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// JSON applies the redactor to the whole JSON document raw: every string
// value and every object key passes String; every number is read as text
// (4111111111111111.0 and 4.111111111111111e15 are the card they spell) and,
// when it holds something, becomes the masked string. The texts of a
// transcript (an array of objects with a text, message or content string, or
// an array of strings) are redacted together with Strings, so a number read
// across two turns is found.
//
// When nothing is found raw is returned unchanged. Otherwise the document is
// re-encoded: valid JSON, object keys sorted, no HTML escaping. Two keys that
// mask to the same text keep both values: the later (in sorted order of the
// original keys) gets " (2)", " (3)"… appended. raw must hold exactly one
// JSON value.
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
		if out, c := numberText(string(x)); c != nil {
			*counts = counts.Add(c)
			return out
		}
	case []any:
		walkTurns(x, counts)
		for i := range x {
			x[i] = walk(x[i], counts)
		}
	case map[string]any:
		return walkObject(x, counts)
	}
	return v
}

// turnTextKeys name the text of a transcript turn.
var turnTextKeys = [...]string{"text", "message", "content"}

// walkTurns redacts the texts of an array's turns (or its strings) together.
func walkTurns(x []any, counts *Counts) {
	type ref struct {
		obj map[string]any
		key string
		i   int
	}
	var refs []ref
	var texts []string
	for i, e := range x {
		switch t := e.(type) {
		case string:
			refs, texts = append(refs, ref{i: i}), append(texts, t)
		case map[string]any:
			for _, k := range turnTextKeys {
				if s, ok := t[k].(string); ok {
					refs, texts = append(refs, ref{obj: t, key: k}), append(texts, s)
					break
				}
			}
		}
	}
	if len(texts) < 2 {
		return
	}
	out, c := Strings(texts)
	*counts = counts.Add(c)
	for k, r := range refs {
		if r.obj != nil {
			r.obj[r.key] = out[k]
		} else {
			x[r.i] = out[k]
		}
	}
}

func walkObject(x map[string]any, counts *Counts) map[string]any {
	var renamed []string
	for _, k := range slices.Sorted(maps.Keys(x)) {
		x[k] = walk(x[k], counts)
		if c := Detect(k); c != nil {
			*counts = counts.Add(c)
			renamed = append(renamed, k)
		}
	}
	for _, k := range renamed {
		nk, _ := String(k)
		v := x[k]
		delete(x, k)
		key := nk
		for n := 2; ; n++ {
			if _, taken := x[key]; !taken {
				break
			}
			key = nk + " (" + strconv.Itoa(n) + ")"
		}
		x[key] = v
	}
	return x
}

// numberText redacts a JSON number as the text it is, and as the integer it
// denotes when written with a fraction or an exponent.
func numberText(n string) (string, Counts) {
	if out, c := String(n); c != nil {
		return out, c
	}
	if !strings.ContainsAny(n, ".eE") {
		return "", nil
	}
	if e := strings.IndexAny(n, "eE"); e >= 0 {
		if exp, err := strconv.Atoi(n[e+1:]); err != nil || exp > 30 || exp < -30 {
			return "", nil
		}
	}
	r, ok := new(big.Rat).SetString(n)
	if !ok || !r.IsInt() {
		return "", nil
	}
	d := r.Num().String()
	return String(strings.TrimPrefix(d, "-"))
}
