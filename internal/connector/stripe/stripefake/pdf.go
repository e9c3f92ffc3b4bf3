package stripefake

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/textpdf"
)

// pdf renders a document as a one-page PDF 1.4, the shape of the documents
// Stripe serves from pay.stripe.com: enough for a client to check the magic, the
// content type and what the document says.
func pdf(title string, lines []string) []byte {
	return textpdf.Render(title, strings.Join(lines, "\n"), "stripefake")
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
