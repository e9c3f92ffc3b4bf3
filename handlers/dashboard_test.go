package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/seed"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/web"
	"github.com/countersign/countersign/web/webtest"
)

// getDashboard requests /dashboard through the real router as a user with roles.
func getDashboard(t *testing.T, db *database.DB, roles ...string) (*http.Response, string) {
	t.Helper()
	cfg := authtest.Config(t)
	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	req := httptest.NewRequest("GET", "/dashboard", nil)
	if roles != nil {
		req.AddCookie(authtest.Login(t, db, cfg, roles...))
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

// byTestID returns the element marked data-testid=id, from its opening tag to the
// end of the page (enough to find what it contains); "" when absent.
func dashTestID(body, id string) string {
	i := strings.Index(body, `data-testid="`+id+`"`)
	if i < 0 {
		return ""
	}
	return body[strings.LastIndex(body[:i], "<"):]
}

func dashAttr(fragment, name string) string {
	m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(fragment[:strings.Index(fragment, ">")])
	if m == nil {
		return ""
	}
	return m[1]
}

func TestDashboardSeeded(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	if _, err := seed.Run(ctx, db, seed.Options{Calls: 2000, Days: 45, Now: time.Now(), SkipAnalyze: true}); err != nil {
		t.Fatal(err)
	}
	res, body := getDashboard(t, db, auth.Auditor)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if dashTestID(body, "dashboard") == "" {
		t.Fatal("no dashboard")
	}
	for _, id := range []string{"per-day", "open-age", "overdue", "missed-trend", "decision-time", "money-usd", "money-eur", "money-gbp", "money-jpy"} {
		el := dashTestID(body, "chart-"+id)
		if el == "" {
			t.Errorf("chart %s missing", id)
			continue
		}
		if !strings.Contains(el, "<svg") || !strings.Contains(el, `data-testid="table-`+id+`"`) {
			t.Errorf("chart %s lacks its SVG or its table alternative", id)
		}
	}
	if !strings.Contains(dashTestID(body, "chart-per-day"), "<title>") {
		t.Error("bars carry no hover title")
	}
	if !strings.Contains(dashTestID(body, "legend-per-day"), `href="/queues/refund"`) {
		t.Error("the per-day legend does not link the kind queues")
	}
	links := map[string]string{"link-overdue": "/queues/open?deadline=overdue", "link-missed-trend": "/queues/open?deadline=overdue",
		"link-money": "/queues/open?status=awaiting_approval", "link-open-age": "/queues/open"}
	for id, want := range links {
		if got := dashAttr(dashTestID(body, id), "href"); got != strings.ReplaceAll(want, "&", "&amp;") {
			t.Errorf("%s links to %q, want %q", id, got, want)
		}
	}

	var open int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM cases WHERE status NOT IN ('done', 'rejected')`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	fig := dashTestID(body, "figure-open")
	if m := regexp.MustCompile(`dash-figure-value">([0-9,]+)<`).FindStringSubmatch(fig); m == nil || strings.ReplaceAll(m[1], ",", "") != strconv.Itoa(open) {
		t.Errorf("open figure %v, want %d", m, open)
	}
	// Yen have no minor unit; each currency is its own chart, never a sum.
	jpy := dashTestID(body, "table-money-jpy")
	jpy = jpy[:strings.Index(jpy, "</table>")]
	if !strings.Contains(jpy, " JPY") || strings.Contains(jpy, ".") || strings.Contains(jpy, "USD") {
		t.Errorf("JPY table: %s", jpy)
	}
	if strings.Contains(body, "NaN") || strings.Contains(body, ` style="`) {
		t.Error("page contains NaN or an inline style (CSP)")
	}
}

func TestDashboardEmpty(t *testing.T) {
	res, body := getDashboard(t, testdb.New(t), auth.SupportLead)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, id := range []string{"empty-per-day", "empty-open-age", "empty-missed-trend", "money-empty"} {
		if dashTestID(body, id) == "" {
			t.Errorf("empty state %s missing", id)
		}
	}
	if strings.Contains(body, "NaN") {
		t.Error("NaN in an empty dashboard")
	}
}

func TestDashboardNeedsSignIn(t *testing.T) {
	db := testdb.New(t)
	if res, _ := getDashboard(t, db); res.StatusCode == http.StatusOK {
		t.Fatalf("anonymous request got %d", res.StatusCode)
	}
	if res, _ := getDashboard(t, db, "nobody"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("user without a console role got %d", res.StatusCode)
	}
}
