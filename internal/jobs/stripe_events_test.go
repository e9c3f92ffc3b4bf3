package jobs_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/jobs"
)

func TestStripeRefundFailedEventNeedsAttentionOnce(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(5000))
	caseID, ids := e.newCase("refund", refundPlan(ch, 5000))
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	refund := e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[0])
	payload, _ := json.Marshal(map[string]any{"id": "evt_1", "type": "refund.failed", "livemode": false,
		"data": map[string]any{"object": map[string]any{"id": refund, "object": "refund", "status": "failed",
			"failure_reason": "expired_or_canceled_card", "charge": ch}}})
	secret := e.sb.StripeWebhookSecret
	ev, err := stripe.VerifyWebhook(payload, stripe.SignWebhook(payload, secret, time.Now()), []string{secret}, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, wantDup := range []bool{false, true} {
		dup, err := e.svc.HandleStripeEvent(e.ctx, ev, payload)
		if err != nil || dup != wantDup {
			t.Fatalf("delivery %d: duplicate %v err %v, want %v", i, dup, err, wantDup)
		}
	}
	if st := e.text(`SELECT status FROM actions WHERE id = ?`, ids[0]); st != "needs_attention" {
		t.Errorf("action status %q, want needs_attention", st)
	}
	if n := e.scalar(`SELECT count(*) FROM connector_alerts WHERE action_id = ?`, ids[0]); n != 1 {
		t.Errorf("alerts = %d, want 1", n)
	}
	if n := e.scalar(`SELECT count(*) FROM webhook_deliveries WHERE source = 'stripe' AND dedup_key = 'evt_1'`); n != 1 {
		t.Errorf("deliveries = %d, want 1", n)
	}
	if n := e.scalar(`SELECT count(*) FROM audit_log WHERE action = 'action.needs_attention' AND object_id = ?`, fmt.Sprint(ids[0])); n != 1 {
		t.Errorf("audit entries = %d, want 1", n)
	}
}
