package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe"
)

// stripeDispute is a charge.dispute.* event as Stripe sends it.
func stripeDispute(t *testing.T, evt, typ, dispute, charge, status string, created, due time.Time) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"id": evt, "object": "event", "type": typ, "livemode": false,
		"created": created.Unix(), "api_version": "2025-03-31.basil",
		"data": map[string]any{"object": map[string]any{"id": dispute, "object": "dispute", "amount": 12900,
			"currency": "eur", "charge": charge, "payment_intent": nil, "reason": "product_not_received",
			"status": status, "livemode": false,
			"evidence_details": map[string]any{"due_by": due.Unix(), "has_evidence": false, "submission_count": 0}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStripeDisputeWebhookAlertsFinance: a chargeback reaches Slack when Stripe
// reports it, through the real webhook route and job path. A dispute on a charge
// no call is about alerts once (by dispute id, with the Stripe links, owner, due
// date and no customer data it does not have); when a call about the charge has
// come and the next dispute event links the dispute to a case, the alert belongs
// to the case and nothing is posted twice. A dispute on a charge a case already
// concerns alerts on that case, once, with its handoff summary.
func TestStripeDisputeWebhookAlertsFinance(t *testing.T) {
	const secret = "whsec_wf_disputes_0123456789"
	w := newWorkflow(t, map[string]string{"COUNTERSIGN_STRIPE_WEBHOOK_SECRETS": secret})
	postStripe := func(body []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", w.ts.URL+"/webhooks/stripe", bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", stripe.SignWebhook(body, secret, time.Now()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stripe webhook: %d", resp.StatusCode)
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	due := now.Add(48 * time.Hour)

	// 1. No call is about ch_orphan: the alert stands alone.
	postStripe(stripeDispute(t, "evt_orphan_1", "charge.dispute.created", "du_orphan", "ch_orphan", "needs_response", now, due))
	w.await("orphan alert posted", `SELECT EXISTS (SELECT 1 FROM case_alerts WHERE call_ref = 'du_orphan'
		AND reason = 'chargeback' AND status = 'posted' AND case_id IS NULL)`)
	msgs := w.sb.Slack.Messages()
	if len(msgs) != 1 {
		t.Fatalf("slack messages = %d, want 1", len(msgs))
	}
	for _, want := range []string{"*Chargeback*", "(129.00 EUR)", "*Urgency:* critical: evidence due in 4", "du_orphan",
		"ch_orphan", "*Owner:* Finance · disputes", "*Deadline:* " + due.Format("2006-01-02"),
		"dashboard.stripe.com/test/disputes/du_orphan|Stripe dispute>", "/admin/connectors|Unlinked disputes"} {
		if !strings.Contains(msgs[0].Text, want) {
			t.Errorf("orphan alert lacks %q:\n%s", want, msgs[0].Text)
		}
	}
	var audited int64
	w.db.Gorm.Raw(`SELECT count(*) FROM audit_log WHERE object_type = 'stripe_dispute' AND object_id = 'du_orphan'
		AND action IN ('alert.raised', 'alert.posted')`).Scan(&audited)
	if audited != 2 {
		t.Errorf("audit entries of the orphan alert = %d, want raised and posted", audited)
	}

	// A replayed or updated event on the still unlinked dispute posts nothing more.
	postStripe(stripeDispute(t, "evt_orphan_2", "charge.dispute.updated", "du_orphan", "ch_orphan", "needs_response", now.Add(time.Second), due))

	// 2. A call about the charge arrives (its case concerns ch_orphan), then Stripe
	// updates the dispute: the dispute and its alert join the call's dispute case.
	var call, refundCase int64
	w.db.Gorm.Raw(`INSERT INTO calls (dialnexa_id, status) VALUES ('call_wf_orphan', 'completed') RETURNING id`).Scan(&call)
	w.db.Gorm.Raw(`INSERT INTO cases (call_id, kind, status, amount_minor, currency, customer_label)
		VALUES (?, 'refund', 'triaged', 12900, 'EUR', 'Ana Ruiz') RETURNING id`, call).Scan(&refundCase)
	w.db.Gorm.Exec(`INSERT INTO billing_facts (case_id, source, object, external_id, amount_minor, currency, status)
		VALUES (?, 'stripe', 'charge', 'ch_orphan', 12900, 'EUR', 'succeeded')`, refundCase)
	postStripe(stripeDispute(t, "evt_orphan_3", "charge.dispute.updated", "du_orphan", "ch_orphan", "under_review", now.Add(2*time.Second), due))
	w.await("dispute linked", `SELECT EXISTS (SELECT 1 FROM stripe_disputes WHERE id = 'du_orphan' AND case_id IS NOT NULL)`)
	var linked struct {
		Dispute int64 `gorm:"column:dispute_case"`
		Alert   int64 `gorm:"column:alert_case"`
	}
	w.db.Gorm.Raw(`SELECT d.case_id AS dispute_case, a.case_id AS alert_case FROM stripe_disputes d, case_alerts a
		WHERE d.id = 'du_orphan' AND a.call_ref = 'du_orphan'`).Scan(&linked)
	if linked.Dispute == 0 || linked.Alert != linked.Dispute {
		t.Errorf("alert linked to case %d, dispute to case %d: want the same", linked.Alert, linked.Dispute)
	}
	var alerts int64
	w.db.Gorm.Raw(`SELECT count(*) FROM case_alerts WHERE reason = 'chargeback'`).Scan(&alerts)
	if alerts != 1 || len(w.sb.Slack.Messages()) != 1 {
		t.Errorf("chargeback alerts %d, slack messages %d after linking: want 1 and 1", alerts, len(w.sb.Slack.Messages()))
	}

	// 3. A dispute on a charge a case already concerns alerts on that case, once.
	var call2, case2 int64
	w.db.Gorm.Raw(`INSERT INTO calls (dialnexa_id, status) VALUES ('call_wf_known', 'completed') RETURNING id`).Scan(&call2)
	w.db.Gorm.Raw(`INSERT INTO cases (call_id, kind, status, amount_minor, currency, customer_label, destination_type, destination_ref, owner, next_step)
		VALUES (?, 'dispute', 'new', 12900, 'EUR', 'Lee Park', 'charge', 'ch_known', 'Fiona Finance', 'Stage evidence') RETURNING id`, call2).Scan(&case2)
	postStripe(stripeDispute(t, "evt_known_1", "charge.dispute.created", "du_known", "ch_known", "needs_response", now, due))
	postStripe(stripeDispute(t, "evt_known_2", "charge.dispute.updated", "du_known", "ch_known", "under_review", now.Add(time.Second), due))
	w.await("case alert posted", `SELECT EXISTS (SELECT 1 FROM case_alerts WHERE case_id = ? AND reason = 'chargeback' AND status = 'posted')`, case2)
	w.db.Gorm.Raw(`SELECT count(*) FROM case_alerts WHERE case_id = ?`, case2).Scan(&alerts)
	msgs = w.sb.Slack.Messages()
	if alerts != 1 || len(msgs) != 2 {
		t.Fatalf("alerts of the known case %d, slack messages %d: want 1 and 2", alerts, len(msgs))
	}
	for _, want := range []string{"*Chargeback*", "Lee Park", "*Owner:* Fiona Finance",
		"*Urgency:* critical: chargeback with a response due within 72 hours (Stripe dispute du_known)"} {
		if !strings.Contains(msgs[1].Text, want) {
			t.Errorf("case chargeback alert lacks %q:\n%s", want, msgs[1].Text)
		}
	}
}
