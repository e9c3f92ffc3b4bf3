// Package textpdf renders plain text as a small, valid one-page PDF 1.4: a title
// and lines of text in Helvetica on A4. It is what Countersign makes itself (a
// payment receipt from Stripe's charge, a call transcript as dispute evidence)
// and what the Stripe fake serves as its documents. It needs no font files: the
// standard Helvetica with WinAnsiEncoding, so Latin-1 text (García, Straße, €)
// prints as written; a character outside that set prints as "?".
package textpdf

import (
	"bytes"
	"fmt"
	"strings"
)

// MaxLines is how many lines fit the page; longer text is cut (the full text
// stays where it came from).
const MaxLines = 60

// wrapAt is the longest line, in characters, before it wraps.
const wrapAt = 95

// Render returns the PDF of title and text (lines split on "\n", long ones wrapped).
// producer names the software in the document's information dictionary.
func Render(title, text, producer string) []byte {
	var lines []string
	for _, ln := range strings.Split(text, "\n") {
		r := []rune(ln)
		for len(r) > wrapAt {
			lines, r = append(lines, string(r[:wrapAt])), r[wrapAt:]
		}
		lines = append(lines, string(r))
	}
	var content bytes.Buffer
	content.WriteString("BT /F1 15 Tf 50 790 Td (" + Escape(title) + ") Tj ET\n")
	content.WriteString("BT /F1 10 Tf 50 762 Td 12 TL\n")
	for i, ln := range lines {
		if i == MaxLines {
			break
		}
		content.WriteString("(" + Escape(ln) + ") Tj T*\n")
	}
	content.WriteString("ET\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Title (" + Escape(title) + ") /Producer (" + Escape(producer) + ") >>",
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

// winAnsi maps the characters WinAnsiEncoding places in 0x80–0x9F.
var winAnsi = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89,
	'Š': 0x8A, '‹': 0x8B, 'Œ': 0x8C, 'Ž': 0x8E, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95,
	'–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9A, '›': 0x9B, 'œ': 0x9C, 'ž': 0x9E, 'Ÿ': 0x9F,
}

// Escape writes s as the body of a PDF string in WinAnsiEncoding: the
// delimiters escaped, printable ASCII as is, other encodable characters as octal
// escapes, anything else (and control characters) as "?".
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 32 && r < 127:
			b.WriteRune(r)
		case r >= 0xA0 && r <= 0xFF:
			fmt.Fprintf(&b, "\\%03o", r)
		case winAnsi[r] != 0:
			fmt.Fprintf(&b, "\\%03o", winAnsi[r])
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
