package handlers_test

import (
	"encoding/csv"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/config"
	ct "github.com/countersign/countersign/internal/console/consoletest"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/web"
	"github.com/countersign/countersign/web/webtest"
)

// harness is the real router on a private database, with signed-in users.
type harness struct {
	t   *testing.T
	db  *database.DB
	cfg *config.Config
	h   http.Handler
}

type user struct {
	id     int64
	cookie *http.Cookie
}

func newHarness(t *testing.T) *harness {
	t.Parallel()
	db := testdb.New(t)
	cfg := authtest.Config(t)
	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return &harness{t: t, db: db, cfg: cfg, h: srv.Handler()}
}

func (h *harness) user(name, email string, roles ...string) user {
	id, c := authtest.NewSession(h.t, h.db, h.cfg, authtest.User{Name: name, Email: email, Roles: roles})
	return user{id, c}
}

func (h *harness) get(u user, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(u.cookie)
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

func (h *harness) post(u user, path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(u.cookie)
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

func (h *harness) count(q string, args ...any) int64 {
	var n int64
	if err := h.db.Gorm.Raw(q, args...).Scan(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

// testid returns the element carrying data-testid=id, up to its closing tag (no
// nesting of the same tag inside), or "" when absent.
func testid(body, id string) string {
	re := regexp.MustCompile(`<(\w+)[^>]*data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	loc := re.FindStringSubmatchIndex(body)
	if loc == nil {
		return ""
	}
	tag := body[loc[2]:loc[3]]
	rest := body[loc[0]:]
	if end := strings.Index(rest, "</"+tag+">"); end >= 0 {
		return rest[:end+len(tag)+3]
	}
	return rest
}

func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, status int) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %.600s", rec.Code, status, rec.Body.String())
	}
}

func TestQueuePages(t *testing.T) {
	h := newHarness(t)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	a := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", Urgency: 3, CustomerLabel: "Ada Lovelace", Summary: "Wants a refund of a duplicate order",
		AmountMinor: ct.Minor(124950), Currency: "USD"})
	b := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "dispute", CustomerLabel: "Grace Hopper"})

	rec := h.get(fiona, "/")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/approvals" {
		t.Fatalf("home: %d %s", rec.Code, rec.Header().Get("Location"))
	}
	rec = h.get(fiona, "/queues/open")
	wantStatus(t, rec, http.StatusOK)
	body := rec.Body.String()
	if testid(body, "row-"+strconv.FormatInt(a, 10)) == "" || testid(body, "row-"+strconv.FormatInt(b, 10)) == "" {
		t.Fatal("open queue misses a case")
	}
	if !strings.Contains(testid(body, "row-"+strconv.FormatInt(a, 10)), "1,249.50 USD") {
		t.Fatal("amount not formatted")
	}
	if got := testid(body, "count-open"); !strings.Contains(got, ">2<") {
		t.Fatalf("open count: %q", got)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("queue page is cacheable")
	}
	if len(body) > 100_000 {
		t.Fatalf("queue page is %d bytes", len(body))
	}

	rec = h.get(fiona, "/queues/refund?q=duplicate")
	wantStatus(t, rec, http.StatusOK)
	if testid(rec.Body.String(), "row-"+strconv.FormatInt(b, 10)) != "" || testid(rec.Body.String(), "row-"+strconv.FormatInt(a, 10)) == "" {
		t.Fatal("search in the refund queue")
	}
	wantStatus(t, h.get(fiona, "/queues/nope"), http.StatusNotFound)

	rec = h.get(fiona, "/queues/open/since?id="+strconv.FormatInt(a, 10))
	wantStatus(t, rec, http.StatusOK)
	var since struct{ Count int }
	if err := json.Unmarshal(rec.Body.Bytes(), &since); err != nil || since.Count != 1 {
		t.Fatalf("since: %s %v", rec.Body.String(), err)
	}
}

func TestBulkActionsAudited(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	a := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", Urgency: 2})
	b := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", Urgency: 1})
	c := ct.Insert(t, h.db.Gorm, ct.Case{Kind: "dispute"})

	rec := h.post(sam, "/queues/bulk", url.Values{"queue": {"refund"}, "action": {"assign_me"},
		"ids": {strconv.FormatInt(a, 10), strconv.FormatInt(b, 10)}})
	wantStatus(t, rec, http.StatusSeeOther)
	if n := h.count("SELECT count(*) FROM cases WHERE assignee_id = ?", sam.id); n != 2 {
		t.Fatalf("assigned %d", n)
	}
	if n := h.count("SELECT count(*) FROM audit_log WHERE action = 'case.assigned' AND actor_id = ?", sam.id); n != 2 {
		t.Fatalf("audit entries %d", n)
	}
	rec = h.get(sam, rec.Header().Get("Location"))
	if !strings.Contains(testid(rec.Body.String(), "flash"), "2 case(s) changed") {
		t.Fatalf("flash: %q", testid(rec.Body.String(), "flash"))
	}

	rec = h.post(sam, "/queues/bulk", url.Values{"queue": {"open"}, "action": {"tag"}, "tag": {"escalated"},
		"all": {"1"}, "filter": {"urgency=2&urgency=0"}})
	wantStatus(t, rec, http.StatusSeeOther)
	if n := h.count("SELECT count(*) FROM cases WHERE 'escalated' = ANY(tags)"); n != 2 { // a (2) and c (0)
		t.Fatalf("tagged %d", n)
	}
	if n := h.count("SELECT count(*) FROM audit_log WHERE action = 'case.tagged' AND object_id = ?", strconv.FormatInt(c, 10)); n != 1 {
		t.Fatalf("tag audit %d", n)
	}

	rec = h.post(sam, "/queues/bulk", url.Values{"queue": {"open"}, "action": {"review"}})
	wantStatus(t, rec, http.StatusBadRequest)
	if !strings.Contains(testid(rec.Body.String(), "flash"), "Select at least one case") {
		t.Fatal("no selection message")
	}
	auditor := h.user("Alex Auditor", "alex@example.com", auth.Auditor)
	wantStatus(t, h.post(auditor, "/queues/bulk", url.Values{"queue": {"open"}, "action": {"review"}, "ids": {"1"}}), http.StatusForbidden)
}

func TestExportCSV(t *testing.T) {
	h := newHarness(t)
	fiona := h.user("Fiona Finance", "fiona@example.com", auth.FinanceApprover)
	for i := range 450 {
		ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", CustomerLabel: "Customer " + strconv.Itoa(i)})
	}
	ct.Insert(t, h.db.Gorm, ct.Case{Kind: "refund", CustomerLabel: "=cmd|' /C calc'!A0", DestinationRef: "-2+3"})
	rec := h.get(fiona, "/queues/refund/export.csv?sort=received")
	wantStatus(t, rec, http.StatusOK)
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || !strings.Contains(rec.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("headers: %v", rec.Header())
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 452 {
		t.Fatalf("%d rows", len(rows))
	}
	if rows[1][8] != "'=cmd|' /C calc'!A0" || rows[1][9] != "'-2+3" {
		t.Fatalf("formula not defused: %q", rows[1])
	}
	if n := h.count("SELECT count(*) FROM audit_log WHERE action = 'queue.exported' AND object_id = 'refund'"); n != 1 {
		t.Fatalf("export audit %d", n)
	}
}

func TestSavedViews(t *testing.T) {
	h := newHarness(t)
	sam := h.user("Sam Support", "sam@example.com", auth.SupportLead)
	rec := h.post(sam, "/views", url.Values{"name": {"Critical refunds"}, "query": {"/queues/refund?urgency=3"}})
	wantStatus(t, rec, http.StatusSeeOther)
	rec = h.get(sam, "/queues/open")
	saved := testid(rec.Body.String(), "saved-views")
	if !strings.Contains(saved, "Critical refunds") || !strings.Contains(saved, `href="/queues/refund?urgency=3"`) {
		t.Fatalf("sidebar: %s", saved)
	}
	wantStatus(t, h.post(sam, "/views", url.Values{"name": {"x"}, "query": {"javascript:alert(1)"}}), http.StatusBadRequest)
	id := h.count("SELECT id FROM saved_views")
	wantStatus(t, h.post(sam, "/views/"+strconv.FormatInt(id, 10)+"/delete", nil), http.StatusSeeOther)
	if h.count("SELECT count(*) FROM saved_views") != 0 {
		t.Fatal("not deleted")
	}
}

func unescaped(s string) string { return html.UnescapeString(s) }
