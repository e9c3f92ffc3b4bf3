package ingest

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/demo"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/redact"
)

// Ingest decodes the redacted tree (redact.Document.Value) instead of parsing the
// redacted body again: both must give the same event, whether or not anything was
// masked (a masked document's Body is re-encoded, an unmasked one's is raw).
func TestDecodeValueMatchesDecodeOfRedactedBody(t *testing.T) {
	bodies := map[string][]byte{
		"masked": []byte(`{"event_type":"call_ended","call":{"call_id":"c-1","status":"completed",
			"summary":"card 4111 1111 1111 1111 and IBAN GB82 WEST 1234 5698 7654 32",
			"transcript":[{"speaker":"user","text":"my card is 4111 1111"},{"speaker":"agent","text":"and?"},
				{"speaker":"user","text":"1111 1111, thanks"}],
			"post_call_analysis":{"amount":"120.50","invoice_number":"INV-9","n":4111111111111111.0,"vip":true}}}`),
	}
	samples, _ := filepath.Glob("../dialnexa/testdata/samples/*.json")
	for _, p := range samples {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		bodies[filepath.Base(p)] = b
	}
	for i := range 20 {
		b, _ := demo.Call(7, i, time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
		bodies["demo"+string(rune('a'+i))] = b
	}
	for name, raw := range bodies {
		doc, err := redact.JSONDocument(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, werr := dialnexa.Decode(doc.Body)
		got, gerr := dialnexa.DecodeValue(doc.Value)
		if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: DecodeValue = %+v, %v; Decode of the body = %+v, %v", name, got, gerr, want, werr)
		}
		if name == "masked" && doc.Counts.Total() == 0 {
			t.Errorf("masked: nothing was masked; the test no longer covers a re-encoded body")
		}
	}
}
