package handlers_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
)

// A search result says why it matched: the snippet of the indexed text with the
// matching terms in <mark>, and everything else from the database escaped.
func TestQueueSearchShowsHighlightedSnippet(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	id := ct.Insert(t, h.db.Gorm, ct.Case{CustomerLabel: "Acme",
		Summary: "Customer wants the duplicate <b>charge</b> & late fee reversed"})
	other := ct.Insert(t, h.db.Gorm, ct.Case{CustomerLabel: "Globex", Summary: "Asks about the invoice address"})

	body := h.get(sam, "/queues/open?q=duplicate").Body.String()
	re := regexp.MustCompile(`(?s)data-testid="snippet-` + strconv.FormatInt(id, 10) + `">(.*?)</span>\s*</td>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no snippet for case %d in:\n%s", id, body)
	}
	snippet := m[1]
	if !strings.Contains(snippet, "<mark>duplicate</mark>") {
		t.Errorf("matching term not marked: %s", snippet)
	}
	if strings.Contains(snippet, "<b>") || strings.Contains(snippet, "\x01") || strings.Contains(snippet, "\x02") {
		t.Errorf("raw HTML or markers in the snippet: %q", snippet)
	}
	if !strings.Contains(snippet, "&amp;") {
		t.Errorf("text not escaped: %s", snippet)
	}
	if strings.Contains(body, `data-testid="row-`+strconv.FormatInt(other, 10)+`"`) {
		t.Errorf("case %d does not match but is listed", other)
	}

	// Without a search there is no snippet.
	if body := h.get(sam, "/queues/open").Body.String(); strings.Contains(body, `data-testid="snippet-`) {
		t.Error("snippet shown without a search")
	}
}

// Text containing the marker characters cannot forge a highlight.
func TestQueueSearchSnippetMarkersCannotBeForged(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	id := ct.Insert(t, h.db.Gorm, ct.Case{CustomerLabel: "Initech",
		Summary: "refund \x01forged\x02 <script>alert(1)</script>"})
	body := h.get(sam, "/queues/open?q=refund").Body.String()
	re := regexp.MustCompile(`(?s)data-testid="snippet-` + strconv.FormatInt(id, 10) + `">(.*?)</span>\s*</td>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no snippet for case %d", id)
	}
	if strings.Contains(m[1], "<mark>forged</mark>") || strings.Contains(m[1], "<script>") {
		t.Errorf("forged highlight or raw HTML: %s", m[1])
	}
	if !strings.Contains(m[1], "<mark>refund</mark>") {
		t.Errorf("matching term not marked: %s", m[1])
	}
}

// A case under restricted handling (the call named a private document) shows a
// viewer outside auth.Revealers no call text in its search snippet, as its case
// page withholds it; a finance approver sees the matching passage.
func TestQueueSearchSnippetWithholdsRestrictedCalls(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	id := ct.Insert(t, h.db.Gorm, ct.Case{CustomerLabel: "Acme",
		Summary: "Caller read out her passport details and asked about the duplicate charge"})
	if err := h.db.Gorm.Exec(`UPDATE cases SET restricted = true WHERE id = ?`, id).Error; err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?s)data-testid="snippet-` + strconv.FormatInt(id, 10) + `">(.*?)</span>\s*</td>`)
	body := h.get(sam, "/queues/open?q=duplicate").Body.String()
	if !strings.Contains(body, `data-testid="row-`+strconv.FormatInt(id, 10)+`"`) {
		t.Fatalf("the restricted case is not listed for the support lead")
	}
	if m := re.FindStringSubmatch(body); m != nil && (strings.Contains(m[1], "passport") || strings.Contains(m[1], "duplicate")) {
		t.Errorf("support lead's snippet carries the restricted call's text: %s", m[1])
	}
	m := re.FindStringSubmatch(h.get(fiona, "/queues/open?q=duplicate").Body.String())
	if m == nil || !strings.Contains(m[1], "<mark>duplicate</mark>") {
		t.Errorf("finance approver's snippet lacks the matching passage: %v", m)
	}
}
