package handlers_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
)

// Each active filter is a chip above the list whose × is a plain link to the same
// queue without just that filter; the filter panel stays collapsed.
func TestQueueFilterChipsRemoveOneFilter(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	ct.Insert(t, h.db.Gorm, ct.Case{CustomerLabel: "Acme", VIP: true, Urgency: 3, Currency: "USD", AmountMinor: ct.Minor(5000)})

	body := h.get(sam, "/queues/open?vip=1&urgency=3&urgency=2&currency=USD&sort=amount&dir=asc").Body.String()
	if !strings.Contains(body, `data-testid="filter-chips"`) {
		t.Fatalf("no chips:\n%s", body)
	}
	for _, id := range []string{"chip-vip-1", "chip-urgency-3", "chip-urgency-2", "chip-currency-USD"} {
		if !strings.Contains(body, `data-testid="`+id+`"`) {
			t.Errorf("chip %s missing", id)
		}
	}
	if strings.Contains(body, `data-testid="chip-sort-`) || strings.Contains(body, `data-testid="chip-dir-`) {
		t.Error("sort shown as a filter chip")
	}
	if regexp.MustCompile(`<details class="morefilters"[^>]*\bopen\b`).MatchString(body) {
		t.Error("filter panel opens itself")
	}

	m := regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="chip-remove-urgency-3"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no remove link on the urgency chip")
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/queues/open" || q.Get("vip") != "1" || q.Get("currency") != "USD" || q.Get("sort") != "amount" ||
		len(q["urgency"]) != 1 || q.Get("urgency") != "2" {
		t.Errorf("remove link %s should drop only urgency=3", u)
	}

	// Following it lists the queue with the other filters and chips kept.
	after := h.get(sam, u.String()).Body.String()
	if strings.Contains(after, `data-testid="chip-urgency-3"`) || !strings.Contains(after, `data-testid="chip-urgency-2"`) ||
		!strings.Contains(after, `data-testid="chip-vip-1"`) {
		t.Error("following the × did not remove exactly that filter")
	}

	if body := h.get(sam, "/queues/open").Body.String(); strings.Contains(body, `data-testid="filter-chips"`) {
		t.Error("chips without filters")
	}
}
