package handlers_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// disputeEvent is a charge.dispute.* event as Stripe sends it (API 2025 shape:
// amount in minor units, evidence_details.due_by in Unix seconds).
func disputeEvent(id, typ, status string, created, dueBy time.Time, hasEvidence bool) []byte {
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "livemode": false,
		"created": created.Unix(), "api_version": "2025-03-31.basil",
		"data": map[string]any{"object": map[string]any{"id": "dp_routes1", "object": "dispute", "amount": 8900,
			"currency": "usd", "charge": "ch_routes_disputed", "payment_intent": "pi_routes_disputed",
			"reason": "fraudulent", "status": status, "is_charge_refundable": false, "livemode": false,
			"evidence": map[string]any{"uncategorized_text": nil},
			"evidence_details": map[string]any{"due_by": dueBy.Unix(), "has_evidence": hasEvidence,
				"past_due": false, "submission_count": 0}}}})
	return b
}

// TestStripeDisputeLifecycleThroughRouter posts signed charge.dispute.* events to
// the real route: each is stored (200, not 503), the dispute opens a dispute case on
// the call whose refund case concerns the charge, the evidence due date becomes the
// approval deadline, an older event arriving late changes nothing, and the outcome
// lands on the case.
func TestStripeDisputeLifecycleThroughRouter(t *testing.T) {
	db := testdb.New(t)
	cfg := authtest.Config(t)
	const secret = "whsec_test_disputes_secret"
	cfg.StripeWebhookSecrets = []string{secret}
	srv := webtest.New(t, web.Deps{Config: cfg, DB: db, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	post := func(payload []byte) (int, string) {
		req := httptest.NewRequest("POST", "/webhooks/stripe", strings.NewReader(string(payload)))
		req.Header.Set("Stripe-Signature", stripe.SignWebhook(payload, secret, time.Now()))
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		var out map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out["status"]
	}
	var call, refundCase int64
	db.Gorm.Raw(`INSERT INTO calls (dialnexa_id, status) VALUES ('call_dispute_routes', 'completed') RETURNING id`).Scan(&call)
	db.Gorm.Raw(`INSERT INTO cases (call_id, kind, status, amount_minor, currency, customer_label)
		VALUES (?, 'refund', 'triaged', 8900, 'USD', 'Jordan Lee') RETURNING id`, call).Scan(&refundCase)
	db.Gorm.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status)
		VALUES (?, 'stripe', 'charge', 'ch_routes_disputed', 8900, 'USD', 'succeeded')`, refundCase)

	now := time.Now().UTC().Truncate(time.Second)
	due := now.Add(7 * 24 * time.Hour)
	if code, st := post(disputeEvent("evt_dp_created", "charge.dispute.created", "needs_response", now, due, false)); code != http.StatusOK || st != "stored" {
		t.Fatalf("charge.dispute.created = %d %q, want 200 stored", code, st)
	}
	var dc struct {
		ID       int64      `gorm:"column:id"`
		Kind     string     `gorm:"column:kind"`
		Deadline *time.Time `gorm:"column:approval_deadline"`
		NextStep string     `gorm:"column:next_step"`
	}
	load := func() {
		t.Helper()
		if err := db.Gorm.Raw(`SELECT c.id, c.kind, c.approval_deadline, c.next_step FROM cases c
			JOIN stripe_disputes d ON d.case_id = c.id WHERE d.id = 'dp_routes1'`).Scan(&dc).Error; err != nil {
			t.Fatal(err)
		}
	}
	load()
	if dc.Kind != "dispute" || dc.ID == refundCase {
		t.Fatalf("dispute linked to case %d kind %q, want a new dispute case on the call", dc.ID, dc.Kind)
	}
	if dc.Deadline == nil || !dc.Deadline.Equal(due) {
		t.Errorf("approval deadline %v, want due_by %v", dc.Deadline, due)
	}
	var fact struct {
		Amount int64      `gorm:"column:amount_minor"`
		Due    *time.Time `gorm:"column:due_date"`
		Status string     `gorm:"column:status"`
	}
	db.Gorm.Raw(`SELECT amount_minor, due_date, status FROM billing_facts WHERE case_id = ? AND object = 'dispute'`, dc.ID).Scan(&fact)
	if fact.Amount != 8900 || fact.Due == nil || !fact.Due.Equal(due) || fact.Status != "needs_response" {
		t.Errorf("dispute fact %+v, want 8900 due %v needs_response", fact, due)
	}

	later := due.Add(24 * time.Hour)
	if code, _ := post(disputeEvent("evt_dp_updated", "charge.dispute.updated", "under_review", now.Add(time.Minute), later, true)); code != http.StatusOK {
		t.Fatalf("charge.dispute.updated = %d", code)
	}
	// An older event delivered late does not move the dispute back.
	if code, _ := post(disputeEvent("evt_dp_stale", "charge.dispute.updated", "needs_response", now.Add(30*time.Second), due, false)); code != http.StatusOK {
		t.Fatalf("stale charge.dispute.updated = %d", code)
	}
	var st string
	db.Gorm.Raw(`SELECT status FROM stripe_disputes WHERE id = 'dp_routes1'`).Scan(&st)
	if st != "under_review" {
		t.Errorf("dispute status %q after a stale event, want under_review", st)
	}
	load()
	if dc.Deadline == nil || !dc.Deadline.Equal(later) {
		t.Errorf("approval deadline %v after update, want %v", dc.Deadline, later)
	}

	if code, _ := post(disputeEvent("evt_dp_closed", "charge.dispute.closed", "won", now.Add(2*time.Minute), later, true)); code != http.StatusOK {
		t.Fatalf("charge.dispute.closed = %d", code)
	}
	load()
	var outcome string
	db.Gorm.Raw(`SELECT outcome FROM stripe_disputes WHERE id = 'dp_routes1'`).Scan(&outcome)
	if outcome != "won" || !strings.Contains(dc.NextStep, "Won") {
		t.Errorf("outcome %q, next step %q: want won on the case", outcome, dc.NextStep)
	}
	var n int64
	db.Gorm.Raw(`SELECT count(*) FROM audit_log WHERE action = 'dispute.closed' AND object_id = ?`, itoa(dc.ID)).Scan(&n)
	if n != 1 {
		t.Errorf("dispute.closed audit entries = %d, want 1", n)
	}
	db.Gorm.Raw(`SELECT count(*) FROM cases WHERE call_id = ? AND kind = 'dispute'`, call).Scan(&n)
	if n != 1 {
		t.Errorf("dispute cases on the call = %d, want 1", n)
	}

	// A dispute on a charge with no payment intent, whose dispute case names the
	// charge as its destination, links to that case.
	var call2, disputeCase int64
	db.Gorm.Raw(`INSERT INTO calls (dialnexa_id, status) VALUES ('call_dispute_routes2', 'completed') RETURNING id`).Scan(&call2)
	db.Gorm.Raw(`INSERT INTO cases (call_id, kind, status, destination_type, destination_ref)
		VALUES (?, 'dispute', 'new', 'charge', 'ch_routes_other') RETURNING id`, call2).Scan(&disputeCase)
	b, _ := json.Marshal(map[string]any{"id": "evt_dp_nopi", "type": "charge.dispute.created", "created": now.Unix(),
		"data": map[string]any{"object": map[string]any{"id": "dp_routes2", "object": "dispute", "amount": 1999,
			"currency": "usd", "charge": "ch_routes_other", "payment_intent": nil, "status": "needs_response",
			"evidence_details": map[string]any{"due_by": due.Unix()}}}})
	if code, _ := post(b); code != http.StatusOK {
		t.Fatalf("dispute without payment intent = %d", code)
	}
	var linked int64
	db.Gorm.Raw(`SELECT case_id FROM stripe_disputes WHERE id = 'dp_routes2'`).Scan(&linked)
	if linked != disputeCase {
		t.Errorf("dispute linked to case %d, want %d", linked, disputeCase)
	}

	// A dispute on a charge no case concerns is stored unlinked and listed for admins.
	b, _ = json.Marshal(map[string]any{"id": "evt_dp_orphan", "type": "charge.dispute.created", "created": now.Unix(),
		"data": map[string]any{"object": map[string]any{"id": "dp_orphan", "object": "dispute", "amount": 500,
			"currency": "jpy", "charge": "ch_nobody_called", "status": "needs_response",
			"evidence_details": map[string]any{"due_by": due.Unix()}}}})
	if code, st := post(b); code != http.StatusOK || st != "stored" {
		t.Fatalf("orphan dispute = %d %q", code, st)
	}
	admin := authtest.Login(t, db, cfg, auth.Admin)
	req := httptest.NewRequest("GET", "/admin/connectors", nil)
	req.AddCookie(admin)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if body := rec.Body.String(); !strings.Contains(body, `data-testid="unlinked-dp_orphan"`) || !strings.Contains(body, "500 JPY") {
		t.Errorf("connectors page does not list the unlinked dispute (status %d)", rec.Code)
	}
}
