package handlers_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

// TestUnknownMentionWarned: a note that @mentions nobody known is stored, and the
// page says nobody was notified for that name.
func TestUnknownMentionWarned(t *testing.T) {
	c := newDecConsole(t)
	lead := c.login(time.Time{}, auth.SupportLead)
	id := c.newCase(1000)
	rec := c.do("POST", "/cases/"+id+"/notes", lead, url.Values{"body": {"@zelda please check the invoice"}})
	loc := rec.Header().Get("Location")
	if !strings.Contains(loc, "unknown=zelda") {
		t.Fatalf("redirect %q does not name the unknown mention", loc)
	}
	page := c.do("GET", strings.TrimSuffix(loc, "#notes-h"), lead, nil).Body.String()
	if f := testid(page, "flash"); !strings.Contains(f, "Nobody was notified for @zelda") {
		t.Errorf("flash %q", f)
	}
	if f := testid(c.do("GET", "/cases/"+id+"?done=noted&unknown=%3Cb%3E", lead, nil).Body.String(), "flash"); strings.Contains(f, "<b>") || strings.Contains(f, "Nobody") {
		t.Errorf("a crafted unknown= is shown: %q", f)
	}
}
