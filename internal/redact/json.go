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
	d, err := JSONDocument(raw)
	return d.Body, d.Counts, err
}

// Document is a JSON document after redaction.
type Document struct {
	Body []byte // raw itself when nothing was masked
	// Value is Body decoded (objects as map[string]any, numbers as json.Number):
	// the walked tree Body was encoded from, so a caller that needs the document's
	// values reads them here instead of parsing Body again.
	Value      any
	Counts     Counts    // values masked, by kind
	Restricted []Finding // originals of the restricted values, for the vault
	Mentions   Counts    // private documents mentioned (see Mentions)
}

// JSONDocument is JSON that also returns what the vault and the suppression
// flag need: the originals of restricted values, and mentions of private
// documents in any string.
func JSONDocument(raw []byte) (Document, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Document{}, fmt.Errorf("redact: decode json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Document{}, errors.New("redact: decode json: data after the top-level value")
	}
	w := walker{}
	v = w.walk(v)
	if w.counts.Total() == 0 {
		return Document{Body: raw, Value: v, Mentions: w.mentions}, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return Document{}, fmt.Errorf("redact: encode json: %w", err)
	}
	return Document{Body: bytes.TrimSuffix(b.Bytes(), []byte("\n")), Value: v, Counts: w.counts, Restricted: w.found,
		Mentions: w.mentions}, nil
}

// walker carries what a document walk collects.
type walker struct {
	counts   Counts
	found    []Finding
	mentions Counts
}

func (w *walker) text(s string) (string, Counts) {
	w.mentions = w.mentions.Add(Mentions(s))
	return redactString(s, &w.found)
}

func (w *walker) walk(v any) any {
	switch x := v.(type) {
	case string:
		out, c := w.text(x)
		w.counts = w.counts.Add(c)
		return out
	case turnText: // already redacted with its transcript
		w.mentions = w.mentions.Add(Mentions(string(x)))
		return string(x)
	case json.Number:
		if out, c := numberText(string(x)); c != nil {
			w.counts = w.counts.Add(c)
			return out
		}
	case []any:
		w.walkTurns(x)
		for i := range x {
			x[i] = w.walk(x[i])
		}
	case map[string]any:
		return w.walkObject(x)
	}
	return v
}

// turnTextKeys name the text of a transcript turn.
var turnTextKeys = [...]string{"text", "message", "content"}

// walkTurns redacts the texts of an array's turns (or its strings) together.
func (w *walker) walkTurns(x []any) {
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
	out, c := redactStrings(texts, &w.found)
	w.counts = w.counts.Add(c)
	for k, r := range refs {
		if r.obj != nil {
			r.obj[r.key] = turnText(out[k])
		} else {
			x[r.i] = turnText(out[k])
		}
	}
}

// turnText is a transcript text walkTurns has redacted: walk only unwraps it.
type turnText string

func (w *walker) walkObject(x map[string]any) map[string]any {
	var renamed []string
	for _, k := range slices.Sorted(maps.Keys(x)) {
		x[k] = w.walk(x[k])
		if Detect(k) != nil {
			renamed = append(renamed, k)
		}
	}
	for _, k := range renamed {
		nk, c := w.text(k)
		w.counts = w.counts.Add(c)
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
