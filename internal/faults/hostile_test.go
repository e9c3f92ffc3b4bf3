package faults

import (
	"fmt"
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
	ct "github.com/countersign/countersign/internal/console/consoletest"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/web"
	"github.com/countersign/countersign/web/webtest"
)

const (
	xssScript = "<script>alert(1)</script>"
	xssImg    = `"><img src=x onerror=alert(1)>`
	xssJS     = "javascript:alert(1)"
)

// hostilePath are values put into path parameters ({id}, {queue}, the static path).
var hostilePath = []string{"1 OR 1=1", "'; DROP TABLE cases;--", "../../etc/passwd", "%00", "\x00", "\u202e",
	"\u202egpj.exe", strings.Repeat("A", 10<<10), "abc", "-1", "0", "99999999999999999999999", "1e3", " 1",
	xssScript, xssImg, "\xff\xfe"}

// hostileQuery are values put into the console's query parameters.
var hostileQuery = []string{xssScript, xssImg, xssJS, "' OR '1'='1", "1; DROP TABLE cases;--", "\xff\xfe\xfd",
	"a\x00b", "\u202eevil", "\u2066x\u2069", strings.Repeat("x", 10<<10), "-1", "99999999999999999999999", "%",
	"1e309", "NaN", "2026-13-45", "0001-01-01"}

var queryKeys = []string{"q", "status", "sort", "dir", "after", "amount_min", "amount_max", "currency", "deadline",
	"assignee", "received_from", "received_to", "vip", "confidence", "size", "id", "done", "saved", "decided",
	"actor", "case", "action", "from", "to", "before", "format", "kind", "page", "queue", "return"}

// unescaped finds a payload that reached a response as markup rather than text.
var unescaped = regexp.MustCompile(`(?i)<script>alert\(1\)</script>|<img src=x onerror=alert\(1\)>|(href|src|action|formaction)\s*=\s*["']?\s*javascript:`)

// readAudits are the audit entries a GET may write on purpose: every export is audited.
var readAudits = []string{"audit.exported", "audit.bundle_exported", "queue.exported"}

type sweep struct {
	t      *testing.T
	db     *database.DB
	h      http.Handler
	users  map[string]*http.Cookie
	caseID int64
}

func newSweep(t *testing.T) *sweep {
	db := testdb.New(t)
	cfg := authtest.Config(t)
	cfg.DialNexaSecrets = []string{testSecret}
	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	s := &sweep{t: t, db: db, h: srv.Handler(), users: map[string]*http.Cookie{}}
	for _, role := range []string{auth.SupportLead, auth.FinanceApprover, auth.Admin, auth.Auditor} {
		s.users[role] = authtest.Login(t, db, cfg, role)
	}
	for _, d := range deliveries(0x405e, 12) { // real ingested calls give the pages content
		if rec := s.webhook(d.Body, d.Sig); rec.Code != http.StatusOK {
			t.Fatalf("seed delivery: %d %s", rec.Code, rec.Body)
		}
	}
	s.caseID = ct.Insert(t, db.Gorm, ct.Case{Kind: "refund", AmountMinor: ct.Minor(4200), Currency: "USD",
		CustomerLabel: "Seed customer", Summary: "Customer asks for a refund of 42 USD."})
	return s
}

func (s *sweep) do(req *http.Request, role string) *httptest.ResponseRecorder {
	if c := s.users[role]; c != nil {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

func (s *sweep) webhook(body []byte, sig string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/dialnexa", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-DialNexa-Signature", sig)
	return s.do(req, "")
}

// snapshot fingerprints every table a GET must not change: all of them except
// sessions (last_seen_at moves on every request), the audited reads in audit_log and
// the sealing of existing entries that an audited read does.
func (s *sweep) snapshot() map[string]string {
	var tables []string
	// Partitioned tables are fingerprinted through their parent (which reads every
	// partition), not partition by partition.
	if err := s.db.Gorm.Raw(`SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace
		AND relkind IN ('r', 'p') AND NOT relispartition AND relname <> 'sessions' ORDER BY 1`).
		Scan(&tables).Error; err != nil {
		s.t.Fatal(err)
	}
	out := map[string]string{}
	for _, tb := range tables {
		row, where := "t", ""
		if tb == "audit_log" {
			// Audited exports seal the chain before exporting, so the seal columns of
			// existing entries may be filled in; their content must not change.
			row = "(t.id, t.at, t.actor, t.actor_id, t.action, t.object_type, t.object_id, t.outcome, t.summary)"
			where = " WHERE action NOT IN ('" + strings.Join(readAudits, "','") + "')"
		}
		var fp string
		q := `SELECT count(*)::text || ':' || coalesce(md5(string_agg(` + row + `::text, '|' ORDER BY ` + row +
			`::text)), '') FROM ` + strconv.Quote(tb) + ` t` + where
		if err := s.db.Gorm.Raw(q).Scan(&fp).Error; err != nil {
			s.t.Fatalf("snapshot %s: %v", tb, err)
		}
		out[tb] = fp
	}
	return out
}

// check fails on a 5xx or on a payload reflected as markup.
func (s *sweep) check(what string, rec *httptest.ResponseRecorder) {
	s.t.Helper()
	if rec.Code >= 500 {
		s.t.Errorf("BUG %s: status %d: %.200q", what, rec.Code, rec.Body.String())
		return
	}
	if m := unescaped.FindString(rec.Body.String()); m != "" {
		s.t.Errorf("BUG %s: status %d, unescaped payload %q in the response (%s)", what, rec.Code, m, rec.Header().Get("Content-Type"))
	}
}

// TestHostileInputSweep sends hostile path and query values to every GET route as
// every role, hostile form values to the console's POST routes, and malformed signed
// bodies to the webhook: never a 5xx, never an unescaped payload, no state change on
// GET, and form input either refused with a 4xx or stored neutralised (reliability
// properties 29, 30, 33, 50).
func TestHostileInputSweep(t *testing.T) {
	t.Parallel()
	s := newSweep(t)
	before := s.snapshot()
	gets := s.routesWith("GET ")
	n := 0
	roles := []string{auth.SupportLead, auth.FinanceApprover, auth.Admin, auth.Auditor}
	for _, pattern := range gets {
		// Hostile path parameters, as every role.
		if strings.Contains(pattern, "{") && !strings.Contains(pattern, "{$}") || strings.HasSuffix(pattern, "/static/") {
			for _, v := range hostilePath {
				path := fill(pattern, url.PathEscape(v), s.caseID)
				for _, role := range roles {
					s.check(fmt.Sprintf("GET %.120s as %s", path, role), s.do(httptest.NewRequest(http.MethodGet, path, nil), role))
					n++
				}
			}
		}
		// Hostile query parameters on the real path: all keys at once, as every role.
		base := fill(pattern, "", s.caseID)
		for _, v := range hostileQuery {
			q := url.Values{}
			for _, k := range queryKeys {
				q.Set(k, v)
			}
			for _, role := range roles {
				target := base + "?" + q.Encode()
				s.check(fmt.Sprintf("GET %s ?*=%.60q as %s", base, v, role), s.do(httptest.NewRequest(http.MethodGet, target, nil), role))
				n++
			}
		}
		// One key at a time, as a role the route admits: about 500 requests a route,
		// most of the sweep's time, so only in `make faults` (fullSweep).
		if !fullSweep {
			continue
		}
		role := auth.Admin
		if strings.HasPrefix(base, "/queues") || base == "/" || strings.HasPrefix(base, "/cases") {
			role = auth.SupportLead
		}
		for _, k := range queryKeys {
			for _, v := range hostileQuery {
				target := base + "?" + url.Values{k: {v}}.Encode()
				s.check(fmt.Sprintf("GET %s ?%s=%.60q as %s", base, k, v, role), s.do(httptest.NewRequest(http.MethodGet, target, nil), role))
				n++
			}
		}
	}
	after := s.snapshot()
	for tb, fp := range before {
		if after[tb] != fp {
			t.Errorf("BUG GET requests changed table %s (%s -> %s)%s", tb, fp, after[tb], s.auditActions(tb))
		}
	}
	t.Logf("GET sweep: %d requests over %d routes", n, len(gets))
}

// auditActions describes audit_log by action, to name the GET that wrote there.
func (s *sweep) auditActions(table string) string {
	if table != "audit_log" {
		return ""
	}
	var rows []struct {
		Action string
		N      int64
	}
	_ = s.db.Gorm.Raw(`SELECT action, count(*) AS n FROM audit_log GROUP BY 1 ORDER BY 2 DESC`).Scan(&rows).Error
	return fmt.Sprintf("; entries by action: %v", rows)
}

// routesWith lists the patterns of s's router that start with prefix, minus the
// OIDC flow (it talks to the identity provider; web/auth tests cover it).
func (s *sweep) routesWith(prefix string) []string {
	srv := webtest.New(s.t, web.Deps{Config: authtest.Config(s.t), DB: s.db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var out []string
	for _, rt := range srv.Routes() {
		if !strings.HasPrefix(rt.Pattern, prefix) || rt.Pattern == "GET /login" || rt.Pattern == "GET /auth/callback" {
			continue
		}
		out = append(out, rt.Pattern)
	}
	return out
}

// fill turns a route pattern into a path: v for the parameters, or real values when v is "".
func fill(pattern, v string, caseID int64) string {
	_, path, _ := strings.Cut(pattern, " ")
	path = strings.Replace(path, "{$}", "", 1)
	if v == "" {
		path = strings.Replace(path, "{queue}", "open", 1)
		path = strings.Replace(path, "{id}", strconv.FormatInt(caseID, 10), 1)
		if strings.HasSuffix(path, "/static/") {
			path += "app.css"
		}
		return path
	}
	if strings.HasSuffix(path, "/static/") {
		return path + v
	}
	path = strings.Replace(path, "{queue}", v, 1)
	return strings.Replace(path, "{id}", v, 1)
}

// hostileForm are values put into form fields.
var hostileForm = map[string]string{
	"oversized":       strings.Repeat("Z", 200<<10),
	"over note limit": strings.Repeat("n", 4001),
	"null byte":       "before\x00after",
	"non-UTF-8":       "caf\xe9 \xff\xfe",
	"bidi override":   "refund \u202eevil\u202c done",
	"bidi isolate":    "x\u2066hidden\u2069y",
	"control chars":   "a\x07\x1b[31mred\x08",
	"markup":          xssImg + xssScript,
}

// TestHostileFormInput posts hostile values to every console form: never a 5xx; a 4xx
// carries a message; what is stored holds no raw bidi control and nothing oversized.
func TestHostileFormInput(t *testing.T) {
	t.Parallel()
	s := newSweep(t)
	id := strconv.FormatInt(s.caseID, 10)
	forms := []struct {
		role, path string
		fields     []string
		fixed      url.Values
	}{
		{auth.SupportLead, "/cases/" + id + "/notes", []string{"body"}, nil},
		{auth.SupportLead, "/cases/" + id + "/tags", []string{"tag"}, nil},
		{auth.SupportLead, "/cases/" + id + "/tags", []string{"remove"}, nil},
		{auth.SupportLead, "/cases/" + id + "/assign", []string{"assignee"}, nil},
		{auth.SupportLead, "/cases/" + id + "/reclassify", []string{"kind"}, nil},
		{auth.SupportLead, "/queues/bulk", []string{"action", "tag", "filter"}, url.Values{"queue": {"open"}, "ids": {id}}},
		{auth.SupportLead, "/queues/bulk", []string{"queue", "ids"}, url.Values{"action": {"tag"}, "tag": {"x"}}},
		{auth.SupportLead, "/views", []string{"name", "query"}, nil},
		{auth.SupportLead, "/views", []string{"name"}, url.Values{"query": {"status=new"}}},
		{auth.SupportLead, "/cases/" + id + "/plan", []string{"amount", "currency", "destination", "recipient"}, nil},
		{auth.SupportLead, "/cases/" + id + "/request-approval", []string{"note"}, nil},
		{auth.SupportLead, "/cases/" + id + "/recipients", []string{"email", "method", "note"}, nil},
		{auth.FinanceApprover, "/cases/" + id + "/reject", []string{"reason", "note"}, nil},
		{auth.FinanceApprover, "/cases/" + id + "/needs-info", []string{"missing"}, nil},
		{auth.FinanceApprover, "/cases/" + id + "/reveal", []string{"ref", "reason"}, nil},
		{auth.Admin, "/admin/policy", []string{"rules"}, nil},
	}
	for _, f := range forms {
		for name, v := range hostileForm {
			form := url.Values{}
			for k, vs := range f.fixed {
				form[k] = vs
			}
			for _, k := range f.fields {
				form.Set(k, v)
			}
			req := httptest.NewRequest(http.MethodPost, f.path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			rec := s.do(req, f.role)
			what := fmt.Sprintf("POST %s %v=%s as %s", f.path, f.fields, name, f.role)
			s.check(what, rec)
			if rec.Code >= 400 && rec.Code < 500 && strings.TrimSpace(rec.Body.String()) == "" {
				t.Errorf("%s: %d with an empty body (a refusal must say why)", what, rec.Code)
			}
			t.Logf("%s -> %d", what, rec.Code)
		}
	}
	s.storedNeutralised()
}

// storedNeutralised scans every text-like column for raw bidi controls and for the
// oversized value: either would mean a hostile form value was stored as sent.
func (s *sweep) storedNeutralised() {
	type col struct{ Table, Column string }
	var cols []col
	if err := s.db.Gorm.Raw(`SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns
		WHERE table_schema = 'public' AND data_type IN ('text', 'jsonb', 'ARRAY', 'character varying')
		AND table_name NOT LIKE 'river%' ORDER BY 1, 2`).Scan(&cols).Error; err != nil {
		s.t.Fatal(err)
	}
	for _, c := range cols {
		var bidi, big int64
		q := fmt.Sprintf(`SELECT count(*) FILTER (WHERE %[1]s::text ~ '[\u202a-\u202e\u2066-\u2069]'),
			count(*) FILTER (WHERE strpos(%[1]s::text, repeat('Z', 100000)) > 0) FROM %[2]s`,
			strconv.Quote(c.Column), strconv.Quote(c.Table))
		if err := s.db.Gorm.Raw(q).Row().Scan(&bidi, &big); err != nil {
			s.t.Fatalf("%s.%s: %v", c.Table, c.Column, err)
		}
		if bidi > 0 {
			s.t.Errorf("BUG %s.%s: %d rows store a raw bidi control character (neither refused nor neutralised)", c.Table, c.Column, bidi)
		}
		if big > 0 {
			s.t.Errorf("BUG %s.%s: %d rows store the 200 KB form value (no length limit)", c.Table, c.Column, big)
		}
	}
}

// TestHostileWebhookBodies posts malformed bodies with valid signatures: each is
// answered 400 or 413, never 5xx, and the process survives.
func TestHostileWebhookBodies(t *testing.T) {
	t.Parallel()
	s := newSweep(t)
	good := deliveries(0x4b0d, 1)[0].Body
	bodies := map[string][]byte{
		"truncated JSON":       good[:len(good)/2],
		"empty":                {},
		"non-UTF-8":            append([]byte(`{"event_type":"call_ended","payload":{"call":{"id":"x`), 0xff, 0xfe, '"', '}', '}', '}'),
		"non-UTF-8 in summary": []byte(strings.Replace(string(good), `"summary":"`, "\"summary\":\"\xff\xfe", 1)),
		"raw null byte":        append(append([]byte{}, good[:20]...), append([]byte{0}, good[20:]...)...),
		"escaped null in id":   []byte(`{"event_type":"call_ended","payload":{"call":{"id":"a\u0000b","status":"completed"}}}`),
		"escaped null in text": []byte(`{"event_type":"call_ended","payload":{"call":{"id":"call_nul_1","status":"completed","summary":"a\u0000b"}}}`),
		"2 MiB":                []byte(`{"event_type":"call_ended","pad":"` + strings.Repeat("a", 2<<20) + `"}`),
		"nested 10000 arrays":  []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)),
		"nested 10001 objects": []byte(strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001)),
		"nested in payload":    []byte(`{"event_type":"call_ended","payload":` + strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000) + `}`),
		"JSON null":            []byte(`null`),
		"wrong types":          []byte(`{"event_type":1,"payload":{"call":"x"}}`),
		"bidi call id":         []byte(`{"event_type":"call_ended","payload":{"call":{"id":"\u202eabc","status":"completed"}}}`),
		"lone high surrogate":  []byte(`{"event_type":"call_ended","payload":{"call":{"id":"call_sur_1","status":"completed","summary":"a\ud800b"}}}`),
		"lone low surrogate":   []byte(`{"event_type":"call_ended","payload":{"call":{"id":"call_sur_2","status":"completed","summary":"\udc00"}}}`),
	}
	// A \u0000 escape is replaced by U+FFFD and the call stored (internal/textsafe).
	nulEscape := map[string]bool{"escaped null in id": true, "escaped null in text": true}
	for name, body := range bodies {
		rec := s.webhook(body, dialnexa.Sign(body, testSecret))
		what := fmt.Sprintf("POST /webhooks/dialnexa (%s, signed)", name)
		s.check(what, rec)
		t.Logf("%s -> %d %.120s", what, rec.Code, strings.TrimSpace(rec.Body.String()))
		// Valid JSON that is not a call event is stored as ignored (property 10).
		ignored := rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), `"ignored"`)
		if nulEscape[name] {
			if rec.Code != http.StatusOK {
				t.Errorf("%s: status %d, want 200 (stored with U+FFFD for the NUL)", what, rec.Code)
			}
			continue
		}
		if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge && rec.Code < 500 &&
			!ignored && name != "bidi call id" {
			t.Errorf("%s: status %d, want 400 or 413 (or 200 ignored)", what, rec.Code)
		}
	}
	// Still serving.
	d := deliveries(0x4b0e, 1)[0]
	if rec := s.webhook(d.Body, d.Sig); rec.Code != http.StatusOK {
		t.Errorf("a valid delivery after the hostile ones: %d", rec.Code)
	}
}
