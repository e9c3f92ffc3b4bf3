package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
)

// TestRoleHomes: each role lands on its own page and sees its own navigation.
func TestRoleHomes(t *testing.T) {
	c := newDecConsole(t)
	homes := map[string]string{auth.SupportLead: "/queues/open", auth.FinanceApprover: "/approvals",
		auth.Auditor: "/audit", auth.Admin: "/queues/open"}
	for role, want := range homes {
		rec := c.do("GET", "/", c.login(time.Time{}, role), nil)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
			t.Errorf("%s home: %d %q, want %q", role, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	admin := c.login(time.Time{}, auth.Admin)
	body := c.do("GET", "/dashboard", admin, nil).Body.String()
	for _, k := range []string{"audit", "policy", "users", "connectors", "sandbox", "jobs"} {
		if !decHasTestID(body, "nav-admin-"+k) {
			t.Errorf("admin navigation misses %s", k)
		}
	}
	lead := c.login(time.Time{}, auth.SupportLead)
	body = c.do("GET", "/dashboard", lead, nil).Body.String()
	if decHasTestID(body, "nav-admin-policy") || decHasTestID(body, "nav-awaiting") {
		t.Error("a support lead's navigation shows admin or approver pages")
	}
	auditor := c.login(time.Time{}, auth.Auditor)
	if body := c.do("GET", "/dashboard", auditor, nil).Body.String(); !decHasTestID(body, "nav-audit") {
		t.Error("an auditor's navigation has no audit log")
	}
}

// TestAwaitingMyApproval: the approver's list holds the cases they may decide, with
// progress and requester, and not the cases they requested or already approved.
func TestAwaitingMyApproval(t *testing.T) {
	c := newDecConsole(t)
	lead := c.login(time.Time{}, auth.SupportLead)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	multi := c.login(time.Time{}, auth.SupportLead, auth.FinanceApprover)
	two := c.newCase(250_000) // two approvers
	one := c.newCase(24_900)  // one approver
	own := c.newCase(30_000)  // requested by multi
	c.do("POST", "/cases/"+two+"/request-approval", lead, url.Values{})
	c.do("POST", "/cases/"+one+"/request-approval", lead, url.Values{})
	c.do("POST", "/cases/"+own+"/request-approval", multi, url.Values{})

	rec := c.do("GET", "/approvals", multi, nil)
	body := rec.Body.String()
	if rec.Code != 200 || !decHasTestID(body, "awaiting-"+two) || !decHasTestID(body, "awaiting-"+one) {
		t.Fatalf("awaiting page: %d\n%s", rec.Code, body)
	}
	if decHasTestID(body, "awaiting-"+own) {
		t.Error("the approver's own request is in their list")
	}
	if !strings.Contains(body, "0 of 2 approvals") || !strings.Contains(body, "0 of 1 approval<") {
		t.Error("progress missing")
	}
	if c.do("POST", "/cases/"+two+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(two)}, "confirm": {"yes"}}).Code != http.StatusSeeOther {
		t.Fatal("first approval failed")
	}
	body = c.do("GET", "/approvals", multi, nil).Body.String()
	if !strings.Contains(body, "1 of 2 approvals") {
		t.Error("progress after one approval missing")
	}
	body = c.do("GET", "/approvals", fin, nil).Body.String()
	if decHasTestID(body, "awaiting-"+two) {
		t.Error("a case the viewer approved is still in their list")
	}
	if got := strings.TrimSpace(stripTags(between(body, `data-testid="count-awaiting"`, "</span>"))); got != "2" {
		t.Errorf("sidebar count %q, want 2", got)
	}
	if rec := c.do("GET", "/approvals", lead, nil); rec.Code != http.StatusForbidden {
		t.Errorf("support lead on /approvals: %d", rec.Code)
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

func stripTags(s string) string {
	if i := strings.Index(s, ">"); i >= 0 {
		return s[i+1:]
	}
	return s
}
