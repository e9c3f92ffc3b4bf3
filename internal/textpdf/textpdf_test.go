package textpdf

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestRenderIsAWellFormedPDF(t *testing.T) {
	doc := Render("Payment receipt (1234-5678)", "Customer: Mateo García\nAddress: Hauptstraße 5\nAmount: 129,00 € — paid\n"+strings.Repeat("x", 200), "test")
	if !bytes.HasPrefix(doc, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(doc, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF: %q", doc[:20])
	}
	// Every xref offset points at its object.
	xref := regexp.MustCompile(`(?m)^(\d{10}) 00000 n $`).FindAllSubmatch(doc, -1)
	if len(xref) != 6 {
		t.Fatalf("xref entries %d, want 6", len(xref))
	}
	for i, m := range xref {
		off, _ := strconv.Atoi(string(m[1]))
		if want := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(doc[off:], []byte(want)) {
			t.Errorf("xref %d points at %q, want %q", i+1, doc[off:off+8], want)
		}
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(doc)
	if off, _ := strconv.Atoi(string(m[1])); !bytes.HasPrefix(doc[off:], []byte("xref\n")) {
		t.Errorf("startxref does not point at the xref table")
	}
	for _, want := range []string{`\(1234-5678\)`, `Garc\355a`, `Hauptstra\337e`, `129,00 \200 \227 paid`, "/WinAnsiEncoding"} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("PDF lacks %q", want)
		}
	}
	if Escape("日本 \x07") != "?? ?" {
		t.Errorf("unencodable characters: %q", Escape("日本 \x07"))
	}
}
