package stripefake

import (
	"bytes"
	"fmt"
	"strings"
)

// pdf renders lines as a minimal one-page PDF 1.4 (Helvetica, A4), the shape of
// the documents Stripe serves from pay.stripe.com: enough for a client to check
// the magic, the content type and what the document says. Characters outside
// printable ASCII become "?".
func pdf(title string, lines []string) []byte {
	var content bytes.Buffer
	content.WriteString("BT /F1 16 Tf 50 790 Td (" + pdfText(title) + ") Tj ET\n")
	content.WriteString("BT /F1 10 Tf 50 760 Td 14 TL\n")
	for i, ln := range lines {
		if i == 50 {
			break
		}
		content.WriteString("(" + pdfText(ln) + ") Tj T*\n")
	}
	content.WriteString("ET\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Title (" + pdfText(title) + ") /Producer (stripefake) >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func pdfText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 32 && r < 127:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// major renders minor units for a document line: "249.00 USD" (two decimals;
// the few zero- and three-decimal currencies are printed as Stripe stores them).
func major(amount int64, currency string) string {
	cur := strings.ToUpper(currency)
	switch {
	case fakeZeroDecimal[strings.ToLower(currency)]:
		return fmt.Sprintf("%d %s", amount, cur)
	case fakeThreeDecimal[strings.ToLower(currency)]:
		return fmt.Sprintf("%d.%03d %s", amount/1000, abs(amount%1000), cur)
	}
	return fmt.Sprintf("%d.%02d %s", amount/100, abs(amount%100), cur)
}

var fakeZeroDecimal = map[string]bool{"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true,
	"krw": true, "mga": true, "pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
