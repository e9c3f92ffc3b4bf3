package handlers_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/web"
	"github.com/countersign/countersign/web/webtest"
)

// TestConnectorRoutes drives the connector pages, the retry button and the Stripe
// webhook through the real router.
func TestConnectorRoutes(t *testing.T) {
	db := testdb.New(t)
	cfg := authtest.Config(t)
	cfg.StripeWebhookSecrets = []string{"whsec_test_routes_secret"}
	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := srv.Handler()
	admin := authtest.Login(t, db, cfg, auth.Admin)
	finance := authtest.Login(t, db, cfg, auth.FinanceApprover)
	lead := authtest.Login(t, db, cfg, auth.SupportLead)
	do := func(method, path string, c *http.Cookie, body string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if c != nil {
			req.AddCookie(c)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	for _, path := range []string{"/admin/jobs", "/admin/connectors", "/admin/sandbox"} {
		if rec := do("GET", path, admin, "", nil); rec.Code != http.StatusOK {
			t.Errorf("admin GET %s = %d", path, rec.Code)
		}
		if rec := do("GET", path, lead, "", nil); rec.Code != http.StatusForbidden {
			t.Errorf("support lead GET %s = %d, want 403", path, rec.Code)
		}
	}
	if body := do("GET", "/admin/connectors", admin, "", nil).Body.String(); !strings.Contains(body, `data-testid="mode-stripe">sandbox<`) {
		t.Errorf("stripe is not shown in sandbox mode")
	}
	if body := do("GET", "/admin/connectors", admin, "", nil).Body.String(); !strings.Contains(body, `data-testid="help-slack"`) ||
		!strings.Contains(body, "not_in_channel") || !strings.Contains(body, "/invite") || !strings.Contains(body, "channel_not_found") {
		t.Errorf("the connectors page does not explain Slack's not_in_channel and channel_not_found")
	}

	// An action that needs attention: finance retries it, a support lead cannot.
	var call, caseID, actionID int64
	db.Gorm.Raw(`INSERT INTO calls (dialnexa_id, status) VALUES ('call_routes', 'completed') RETURNING id`).Scan(&call)
	db.Gorm.Raw(`INSERT INTO cases (call_id, kind, status) VALUES (?, 'refund', 'needs_attention') RETURNING id`, call).Scan(&caseID)
	db.Gorm.Raw(`INSERT INTO actions (case_id, position, connector, operation, params, description, idempotency_key, status, last_error)
		VALUES (?, 0, 'slack', 'alert', '{"text":"x"}', 'Slack alert', 'call_routes:alert:1', 'needs_attention', 'slack: permanent failure')
		RETURNING id`, caseID).Scan(&actionID)
	db.Gorm.Exec(`INSERT INTO approvals (case_id, approver_label, fingerprint, policy_version) VALUES (?, 'test', 'fp', 1)`, caseID)
	path := "/actions/" + itoa(actionID) + "/retry"
	if rec := do("POST", path, lead, "", nil); rec.Code != http.StatusForbidden {
		t.Errorf("support lead retry = %d, want 403", rec.Code)
	}
	if body := do("GET", "/admin/jobs", admin, "", nil).Body.String(); !strings.Contains(body, `data-testid="retry-`+itoa(actionID)+`"`) {
		t.Errorf("admin jobs page has no retry button for the action")
	}
	rec := do("POST", path, finance, "", nil)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("finance retry = %d %s", rec.Code, rec.Body.String())
	}
	var status string
	db.Gorm.Raw(`SELECT status FROM actions WHERE id = ?`, actionID).Scan(&status)
	if status != "queued" {
		t.Errorf("after retry status %q, want queued", status)
	}
	if rec := do("POST", path, finance, "", nil); rec.Code != http.StatusConflict {
		t.Errorf("second retry = %d, want 409", rec.Code)
	}

	// Stripe webhook: bad signature refused, good one stored once.
	payload := []byte(`{"id":"evt_routes","type":"charge.refunded","livemode":false,"data":{"object":{"id":"ch_x","object":"charge","amount":100,"amount_refunded":100,"refunded":true}}}`)
	if rec := do("POST", "/webhooks/stripe", nil, string(payload), map[string]string{"Stripe-Signature": "t=1,v1=00"}); rec.Code != http.StatusBadRequest {
		t.Errorf("unsigned stripe event = %d, want 400", rec.Code)
	}
	sig := stripe.SignWebhook(payload, "whsec_test_routes_secret", time.Now())
	for _, want := range []string{"stored", "duplicate"} {
		rec := do("POST", "/webhooks/stripe", nil, string(payload), map[string]string{"Stripe-Signature": sig})
		var out map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code != http.StatusOK || out["status"] != want {
			t.Errorf("stripe event = %d %v, want 200 %s", rec.Code, out, want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
