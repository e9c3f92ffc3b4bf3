package handlers_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	ct "github.com/countersign/countersign/internal/console/consoletest"
)

// The note form offers the people a note can @mention (a datalist the script turns
// into suggestions); a suggested handle, typed as plain text, notifies that person,
// and an unknown name still gets its warning.
func TestNoteFormSuggestsMentionableUsers(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	fiona := h.user("Fiona Finance", "fiona.f@example.com", auth.FinanceApprover)
	gone := h.user("Gone Person", "gone@example.com", auth.SupportLead)
	if err := h.db.Gorm.Exec("UPDATE users SET disabled = true WHERE id = ?", gone.id).Error; err != nil {
		t.Fatal(err)
	}
	id := ct.Insert(t, h.db.Gorm, ct.Case{CustomerLabel: "Acme"})
	path := "/cases/" + strconv.FormatInt(id, 10)

	page := h.get(sam, path).Body.String()
	list := testid(page, "mention-users")
	if !strings.Contains(page, `data-mentions="mention-users"`) {
		t.Error("note field not tied to the suggestions")
	}
	if !strings.Contains(page, `data-testid="mention-user-fiona.f"`) || !strings.Contains(page, `value="@fiona.f"`) ||
		!strings.Contains(list, "Fiona Finance") {
		t.Errorf("Fiona not suggested: %q", list)
	}
	if strings.Contains(page, `data-testid="mention-user-gone"`) {
		t.Error("a disabled user is suggested")
	}

	rec := h.post(sam, path+"/notes", url.Values{"body": {"@fiona.f please look, and @nobodyhere too"}})
	loc := rec.Header().Get("Location")
	if !strings.Contains(loc, "unknown=nobodyhere") {
		t.Fatalf("redirect %q does not name the unknown mention", loc)
	}
	if n := h.count(`SELECT count(*) FROM mentions WHERE user_id = ?`, fiona.id); n != 1 {
		t.Errorf("fiona mentioned %d times, want 1", n)
	}
	after := h.get(sam, strings.TrimSuffix(loc, "#notes-h")).Body.String()
	if f := testid(after, "flash"); !strings.Contains(f, "Nobody was notified for @nobodyhere") {
		t.Errorf("unknown-name warning missing: %q", f)
	}

	// Someone who may not write notes gets no form and no list.
	auditor := h.user("Alex Auditor", "alex@example.com", auth.Auditor)
	if strings.Contains(h.get(auditor, path).Body.String(), `data-testid="mention-users"`) {
		t.Error("suggestions shown without the note form")
	}
}
