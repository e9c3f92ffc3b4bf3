package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/vault"
	"github.com/countersign/countersign/web"
	"github.com/countersign/countersign/web/webtest"
)

type decConsole struct {
	t   *testing.T
	db  *database.DB
	cfg *config.Config
	h   http.Handler
}

var decLogOut io.Writer = io.Discard

func newDecConsole(t *testing.T) *decConsole {
	t.Helper()
	db := testdb.New(t)
	cfg := authtest.Config(t)
	keys, err := vault.ParseKeys(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg.VaultKeys = keys
	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(decLogOut, nil))})
	return &decConsole{t: t, db: db, cfg: cfg, h: srv.Handler()}
}

func (c *decConsole) login(authTime time.Time, roles ...string) *http.Cookie {
	c.t.Helper()
	_, cookie := authtest.NewSession(c.t, c.db, c.cfg, authtest.User{Roles: roles, AuthTime: authTime})
	return cookie
}

// newCase inserts a refund case of amount USD cents on charge ch_3PxAbCdEf, billing
// email on file jane@example.com, and a call whose summary mentions a masked SSN.
func (c *decConsole) newCase(amount int64) string {
	c.t.Helper()
	g := c.db.Gorm
	var callID, id int64
	err := g.Raw(`INSERT INTO calls (dialnexa_id, customer_email, customer_number, customer_ref, summary)
		VALUES ('call_` + strconv.FormatInt(time.Now().UnixNano(), 36) + `', 'jane@example.com', '+14155550142', 'cus_T1', 'Caller gave SSN [ssn •••• 6789] unprompted.') RETURNING id`).Scan(&callID).Error
	if err == nil {
		err = g.Raw(`INSERT INTO cases (call_id, kind, amount_minor, currency, destination_type, destination_ref, customer_label)
			VALUES (?, 'refund', ?, 'USD', 'charge', 'ch_3PxAbCdEf', 'Jane Doe') RETURNING id`, callID, amount).Scan(&id).Error
	}
	if err == nil {
		err = g.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, customer_email)
			VALUES (?, 'stripe', 'charge', 'ch_3PxAbCdEf', 10000000, 'USD', 'jane@example.com')`, id).Error
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return strconv.FormatInt(id, 10)
}

func (c *decConsole) do(method, path string, cookie *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return rec
}

func (c *decConsole) status(id string) string {
	var s string
	if err := c.db.Gorm.Raw(`SELECT status FROM cases WHERE id = ?`, id).Scan(&s).Error; err != nil {
		c.t.Fatal(err)
	}
	return s
}

func (c *decConsole) fingerprint(id string) string {
	n, _ := strconv.ParseInt(id, 10, 64)
	fp, err := approval.CurrentFingerprint(context.Background(), c.db.Gorm, n)
	if err != nil {
		c.t.Fatal(err)
	}
	return fp
}

func decHasTestID(body, id string) bool { return strings.Contains(body, `data-testid="`+id+`"`) }

func TestDecisionFlowThroughRouter(t *testing.T) {
	c := newDecConsole(t)
	lead := c.login(time.Time{}, auth.SupportLead)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	id := c.newCase(24900)

	rec := c.do("GET", "/cases/"+id+"/decision", fin, nil)
	if rec.Code != 200 || !decHasTestID(rec.Body.String(), "decision-panel") || !strings.Contains(rec.Body.String(), "Stripe: refund 249.00 USD on charge ch_3PxAbCdEf") {
		t.Fatalf("decision page: %d\n%s", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "6789") {
		t.Error("restricted value's digits on the page before a reveal")
	}
	// Finance cannot approve before a request; support leads cannot approve at all.
	if rec := c.do("POST", "/cases/"+id+"/approve", lead, url.Values{"fingerprint": {"x"}}); rec.Code != http.StatusForbidden {
		t.Errorf("support lead approving: %d", rec.Code)
	}
	rec = c.do("POST", "/cases/"+id+"/request-approval", lead, url.Values{"return": {"/cases/" + id}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/cases/"+id+"?decided=requested" {
		t.Fatalf("request approval: %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	// Reject without a reason: 400, the page says why, nothing changes.
	rec = c.do("POST", "/cases/"+id+"/reject", fin, url.Values{"note": {"no"}})
	if rec.Code != http.StatusBadRequest || !decHasTestID(rec.Body.String(), "flash") || c.status(id) != "awaiting_approval" {
		t.Fatalf("reject without reason: %d %s", rec.Code, c.status(id))
	}
	rec = c.do("POST", "/cases/"+id+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}})
	if rec.Code != http.StatusSeeOther || !strings.HasSuffix(rec.Header().Get("Location"), "?decided=executing") || c.status(id) != "executing" {
		t.Fatalf("approve: %d %s status %s\n%s", rec.Code, rec.Header().Get("Location"), c.status(id), rec.Body)
	}
	fin2 := c.login(time.Time{}, auth.FinanceApprover)
	rec = c.do("POST", "/cases/"+id+"/approve", fin2, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}})
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "already approved by user:") {
		t.Fatalf("late approval: %d\n%s", rec.Code, rec.Body)
	}
}

func TestStepUpRedirect(t *testing.T) {
	c := newDecConsole(t)
	lead := c.login(time.Time{}, auth.SupportLead)
	stale := c.login(time.Now().Add(-30*time.Minute), auth.FinanceApprover)
	id := c.newCase(600_000)
	c.do("POST", "/cases/"+id+"/request-approval", lead, url.Values{})
	rec := c.do("GET", "/cases/"+id+"/decision", stale, nil)
	if !decHasTestID(rec.Body.String(), "step-up-notice") {
		t.Error("no step-up notice for a stale sign-in above the threshold")
	}
	rec = c.do("POST", "/cases/"+id+"/approve", stale, url.Values{"fingerprint": {c.fingerprint(id)}, "return": {"/cases/" + id},
		"confirm": {"yes"}, "comment": {"checked the charge"}})
	want := "/login?max_age=600&return=" + url.QueryEscape("/cases/"+id+"/approve/resume")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != want {
		t.Fatalf("step-up: %d %q, want %q", rec.Code, rec.Header().Get("Location"), want)
	}
	var n int64
	c.db.Gorm.Raw(`SELECT count(*) FROM approvals WHERE case_id = ?`, id).Scan(&n)
	if n != 0 {
		t.Fatal("approval recorded before step-up")
	}
}

func TestRevealAudited(t *testing.T) {
	c := newDecConsole(t)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	lead := c.login(time.Time{}, auth.SupportLead)
	id := c.newCase(100)
	if rec := c.do("POST", "/cases/"+id+"/reveal", lead, url.Values{"ref": {"all"}, "reason": {"checking the tax id"}}); rec.Code != http.StatusForbidden {
		t.Errorf("support lead reveal: %d", rec.Code)
	}
	if rec := c.do("POST", "/cases/"+id+"/reveal", fin, url.Values{"ref": {"all"}}); rec.Code != http.StatusBadRequest {
		t.Errorf("reveal without reason: %d", rec.Code)
	}
	rec := c.do("POST", "/cases/"+id+"/reveal", fin, url.Values{"ref": {"ssn-1"}, "reason": {"customer asked us to confirm the SSN on file"}})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "[ssn •••• 6789]") {
		t.Fatalf("reveal: %d\n%s", rec.Code, rec.Body)
	}
	var summary string
	c.db.Gorm.Raw(`SELECT summary::text FROM audit_log WHERE action = 'restricted.revealed' AND object_id = ?`, id).Scan(&summary)
	if !strings.Contains(summary, "customer asked us") || !strings.Contains(summary, "ssn-1") {
		t.Fatalf("reveal audit summary %q", summary)
	}
	var refused int64
	c.db.Gorm.Raw(`SELECT count(*) FROM audit_log WHERE action = 'restricted.reveal_refused' AND object_id = ?`, id).Scan(&refused)
	if refused != 2 {
		t.Errorf("refused reveals audited: %d, want 2 (wrong role, no reason)", refused)
	}
}

// A VAT id kept in the vault: the page shows its kind only; an allowed reveal
// shows the original, decrypted, and is audited.
func TestRevealOpensTheVault(t *testing.T) {
	c := newDecConsole(t)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	id := c.newCase(100)
	var callID int64
	c.db.Gorm.Raw(`SELECT call_id FROM cases WHERE id = ?`, id).Scan(&callID)
	q, args, err := c.cfg.VaultKeys.InsertStatement(callID, []redact.Finding{{Kind: redact.VAT, Value: "DE 978 401 563"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.db.Pool.Exec(context.Background(), q, args...); err != nil {
		t.Fatal(err)
	}
	rec := c.do("GET", "/cases/"+id+"/decision", fin, nil)
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "978") || !strings.Contains(rec.Body.String(), "vault (encrypted)") {
		t.Fatalf("decision page before reveal: %d\n%s", rec.Code, rec.Body)
	}
	rec = c.do("POST", "/cases/"+id+"/reveal", fin, url.Values{"ref": {"all"}, "reason": {"apply the caller's new VAT id to the invoice"}})
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "DE 978 401 563") {
		t.Fatalf("reveal: %d\n%s", rec.Code, rec.Body)
	}
	var n int64
	c.db.Gorm.Raw(`SELECT count(*) FROM audit_log WHERE action = 'restricted.revealed' AND object_id = ? AND summary::text LIKE '%vat-%'`, id).Scan(&n)
	if n != 1 {
		t.Errorf("vault reveal audited %d times, want 1", n)
	}
}

func TestAuditPagesAndBundle(t *testing.T) {
	c := newDecConsole(t)
	auditor := c.login(time.Time{}, auth.Auditor)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	lead := c.login(time.Time{}, auth.SupportLead)
	id := c.newCase(24900)
	c.do("POST", "/cases/"+id+"/request-approval", lead, url.Values{})
	c.do("POST", "/cases/"+id+"/approve", fin, url.Values{"fingerprint": {c.fingerprint(id)}, "confirm": {"yes"}})

	if rec := c.do("GET", "/audit", fin, nil); rec.Code != http.StatusForbidden {
		t.Errorf("finance on /audit: %d", rec.Code)
	}
	rec := c.do("GET", "/audit?case="+id+"&action=case.*", auditor, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "case.approved") || strings.Contains(rec.Body.String(), "approval.requested") {
		t.Fatalf("audit page: %d\n%s", rec.Code, rec.Body)
	}
	rec = c.do("GET", "/audit/export?format=jsonl&case="+id, auditor, nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	lines := 0
	for sc := bufio.NewScanner(bytes.NewReader(rec.Body.Bytes())); sc.Scan(); lines++ {
	}
	if lines < 3 {
		t.Errorf("export has %d lines", lines)
	}
	var exported int64
	c.db.Gorm.Raw(`SELECT count(*) FROM audit_log WHERE action = 'audit.exported'`).Scan(&exported)
	if exported != 1 {
		t.Errorf("audit.exported entries %d", exported)
	}
	if rec := c.do("GET", "/audit/export?format=xml", auditor, nil); rec.Code != http.StatusBadRequest {
		t.Errorf("bad format: %d", rec.Code)
	}
	rec = c.do("GET", "/cases/"+id+"/evidence.jsonl", auditor, nil)
	if rec.Code != 200 {
		t.Fatalf("bundle: %d", rec.Code)
	}
	rep, err := audit.VerifyBundle(bytes.NewReader(rec.Body.Bytes()))
	if err != nil || !rep.OK() {
		t.Fatalf("bundle does not verify: %v %+v", err, rep)
	}
}

func TestPolicyAdmin(t *testing.T) {
	c := newDecConsole(t)
	admin := c.login(time.Time{}, auth.Admin)
	fin := c.login(time.Time{}, auth.FinanceApprover)
	if rec := c.do("GET", "/admin/policy", fin, nil); rec.Code != http.StatusForbidden {
		t.Errorf("finance on policy: %d", rec.Code)
	}
	rec := c.do("GET", "/admin/policy", admin, nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `data-testid="policy-version">version 1`) {
		t.Fatalf("policy page: %d\n%s", rec.Code, rec.Body)
	}
	bad := c.do("POST", "/admin/policy", admin, url.Values{"mode": {"json"}, "rules": {`{"currencies":{}}`}})
	if bad.Code != http.StatusBadRequest {
		t.Errorf("invalid policy: %d", bad.Code)
	}
	good := `{"currencies":{"USD":{"automatic_below":5000,"one_approver_below":50000,"step_up_above":200000}},
		"always_human_kinds":["dispute"],"no_amount_approvals":1,"step_up_minutes":5}`
	rec = c.do("POST", "/admin/policy", admin, url.Values{"mode": {"json"}, "rules": {good}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("save policy: %d\n%s", rec.Code, rec.Body)
	}
	v, err := approval.CurrentPolicy(context.Background(), c.db.Gorm)
	if err != nil || v.ID != 2 || v.Rules.StepUpMinutes != 5 {
		t.Fatalf("current policy %+v %v", v, err)
	}
	var n int64
	c.db.Gorm.Raw(`SELECT count(*) FROM audit_log WHERE action = 'policy.changed' AND object_id = '2'`).Scan(&n)
	if n != 1 {
		t.Errorf("policy.changed entries %d", n)
	}
	_ = fmt.Sprint
}
