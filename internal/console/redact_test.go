package console_test

import (
	"net/url"
	"testing"

	"github.com/countersign/countersign/internal/console"
)

func TestSearchStringIsRedacted(t *testing.T) {
	f, _ := console.ParseFilter(url.Values{"q": {"refund 4111-1111-1111-1111"}})
	if f.Q != "refund [card •••• 1111]" {
		t.Errorf("Q = %q, want the card masked", f.Q)
	}
	if got := f.Values().Get("q"); got != f.Q {
		t.Errorf("links carry q = %q", got)
	}
}
