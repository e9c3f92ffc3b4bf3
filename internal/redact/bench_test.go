package redact

import (
	"encoding/json"
	"strings"
	"testing"
)

const cleanLine = "Agent: Thanks for calling Acme billing, this is Nova. Can you read me the invoice number? " +
	"User: It's INV-20931, charged 249.00 on 2026-11-20, call me on +1 415 555 0100. Order 1234567890123456.\n"

// transcript20KB is a realistic call transcript of about 20 kB; dirty adds a
// card, a CVV, an IBAN and an SSN to it.
func transcript20KB(dirty bool) string {
	var b strings.Builder
	for b.Len() < 20<<10 {
		b.WriteString(cleanLine)
		if dirty && b.Len() > 10<<10 && b.Len() < 10<<10+len(cleanLine)+1 {
			b.WriteString("User: card is four two four two 4242 4242 4242 4242, cvv 123, IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789.\n")
		}
	}
	return b.String()
}

func BenchmarkString20KB(b *testing.B) {
	for _, bc := range []struct {
		name  string
		dirty bool
	}{{"clean", false}, {"dirty", true}} {
		s := transcript20KB(bc.dirty)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				String(s)
			}
		})
	}
}

// corpusTranscript builds a transcript of about 20 kB from the labelled
// corpus (every line of it in turn: a third carry a card, bank or tax value),
// as turns of a DialNexa-style webhook body.
func corpusTranscript(b *testing.B) (text string, body []byte) {
	rows := readLabelledB(b)
	var sb strings.Builder
	type turn struct {
		Role string `json:"role"`
		Text string `json:"text"`
	}
	var turns []turn
	for i := 0; sb.Len() < 20<<10; i++ {
		t := rows[(i*37)%len(rows)].text
		sb.WriteString(t)
		sb.WriteByte('\n')
		turns = append(turns, turn{Role: "user", Text: t})
	}
	body, err := json.Marshal(map[string]any{"event_type": "call_ended", "call": map[string]any{"id": "call_1", "transcript": turns}})
	if err != nil {
		b.Fatal(err)
	}
	return sb.String(), body
}

// BenchmarkRedactTranscript20KB is the cost of redacting one 20 kB transcript
// drawn from the corpus: as one text (String) and as a whole webhook body
// whose turns are redacted together (JSON).
func BenchmarkRedactTranscript20KB(b *testing.B) {
	text, body := corpusTranscript(b)
	b.Run("String", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			String(text)
		}
	})
	b.Run("JSON", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := JSON(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
