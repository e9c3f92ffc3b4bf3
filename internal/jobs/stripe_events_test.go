package jobs_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
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

// sendEvent signs and applies a Stripe event as the webhook route does.
func (e *env) sendEvent(id, typ string, object map[string]any) {
	e.t.Helper()
	payload, _ := json.Marshal(map[string]any{"id": id, "type": typ, "livemode": false, "created": time.Now().Unix(),
		"data": map[string]any{"object": object}})
	secret := e.sb.StripeWebhookSecret
	ev, err := stripe.VerifyWebhook(payload, stripe.SignWebhook(payload, secret, time.Now()), []string{secret}, 0, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.HandleStripeEvent(e.ctx, ev, payload); err != nil {
		e.t.Fatal(err)
	}
}

// A refund Stripe reports as pending is not done: the action waits (polled, no
// attempt used up, no second refund) and the "we have refunded you" email does not
// go out until charge.refund.updated says succeeded.
func TestPendingRefundHoldsTheConfirmationEmail(t *testing.T) {
	e := newEnv(t, jobs.Options{RefundPoll: 150 * time.Millisecond})
	e.sb.Stripe.SetRefundStatus("pending")
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(5000))
	caseID, ids := e.newCase("refund", refundPlan(ch, 5000),
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "refund_confirmation", Amount: 5000, Currency: "USD"}})
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	var refund string
	e.waitFor("the pending refund's receipt", 10*time.Second, func() bool {
		refund = e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[0])
		return refund != ""
	})
	gets := func() int {
		n := 0
		for _, r := range e.sb.Stripe.Requests() {
			if r.Method == "GET" && r.Path == "/v1/refunds/"+refund {
				n++
			}
		}
		return n
	}
	e.waitFor("two polls of the pending refund", 10*time.Second, func() bool { return gets() >= 2 })
	if st := e.text(`SELECT status FROM actions WHERE id = ?`, ids[0]); st == "done" || st == "needs_attention" {
		t.Errorf("pending refund action %q, want it waiting", st)
	}
	if n := len(e.sb.Gmail.Sent()); n != 0 {
		t.Fatalf("emails sent while the refund is pending = %d, want 0", n)
	}
	if st := e.text(`SELECT status FROM cases WHERE id = ?`, caseID); st == "done" {
		t.Fatalf("case done while its refund is pending")
	}
	obj, ok := e.sb.Stripe.SettleRefund(refund, "succeeded")
	if !ok {
		t.Fatal("refund not in the fake")
	}
	e.sendEvent("evt_refund_settled", "charge.refund.updated", obj)
	if st := e.text(`SELECT status FROM actions WHERE id = ?`, ids[0]); st != "done" {
		t.Errorf("after charge.refund.updated the action is %q, want done", st)
	}
	e.waitStatus(ids[1], "done", 10*time.Second)
	if n := len(e.sb.Gmail.Sent()); n != 1 {
		t.Errorf("emails = %d, want 1", n)
	}
	if n := e.sb.Stripe.RefundCount(); n != 1 {
		t.Errorf("refunds = %d, want 1", n)
	}
}

// Without a webhook, the poll settles it.
func TestPendingRefundSettledByPoll(t *testing.T) {
	e := newEnv(t, jobs.Options{RefundPoll: 100 * time.Millisecond})
	e.sb.Stripe.SetRefundStatus("pending")
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(5000))
	caseID, ids := e.newCase("refund", refundPlan(ch, 5000))
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	var refund string
	e.waitFor("the pending refund's receipt", 10*time.Second, func() bool {
		refund = e.text(`SELECT receipt_id FROM actions WHERE id = ?`, ids[0])
		return refund != ""
	})
	e.sb.Stripe.SettleRefund(refund, "succeeded")
	e.waitStatus(ids[0], "done", 10*time.Second)
	if n := e.sb.Stripe.RefundCount(); n != 1 {
		t.Errorf("refunds = %d, want 1", n)
	}
}

// Dispute evidence is staged with submit=false (text plus the transcript PDF
// uploaded to the files host) and submitted by its own action; a submission past
// the due date is refused without calling Stripe.
func TestDisputeEvidenceStagedThenSubmitted(t *testing.T) {
	now := time.Now()
	e := newEnv(t, jobs.Options{Now: func() time.Time { return now }})
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(8900))
	due := now.Add(72 * time.Hour).UTC().Truncate(time.Second)
	dp := e.sb.Stripe.AddDispute(stripefake.Dispute{Charge: ch, Currency: "usd", Amount: 8900, Reason: "fraudulent", DueBy: due})
	caseID, ids := e.newCase("dispute",
		plan{"stripe", "stage_evidence", jobs.EvidenceParams{Dispute: dp, Documents: []string{"call_transcript"},
			Evidence: map[string]string{"uncategorized_text": "Call summary: customer confirmed the purchase"}}},
		plan{"stripe", "submit_evidence", jobs.SubmitParams{Dispute: dp, DueBy: due.Format(time.RFC3339)}})
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[1], "done", 10*time.Second)
	d, _ := e.sb.Stripe.Dispute(dp)
	if !strings.HasPrefix(d.Evidence["customer_communication"], "file_") || d.Evidence["uncategorized_text"] == "" {
		t.Errorf("evidence %v, want the transcript file and the text", d.Evidence)
	}
	if !d.Submitted || d.SubmissionCount != 1 {
		t.Errorf("dispute submitted %v (%d), want once by the submit action", d.Submitted, d.SubmissionCount)
	}
	var stages []string
	for _, r := range e.sb.Stripe.Requests() {
		if r.Method == "POST" && r.Path == "/v1/disputes/"+dp {
			stages = append(stages, r.Form.Get("submit"))
		}
	}
	if len(stages) != 2 || stages[0] != "false" || stages[1] != "true" {
		t.Errorf("dispute updates submit=%v, want [false true]", stages)
	}
	if files := e.sb.Stripe.Files(); len(files) != 1 || files[0].Type != "pdf" {
		t.Errorf("uploads %+v, want one PDF on the files host", files)
	}

	late := e.sb.Stripe.AddDispute(stripefake.Dispute{Charge: ch, Currency: "usd", Amount: 8900, DueBy: now.Add(-time.Hour)})
	caseID, ids = e.newCase("dispute",
		plan{"stripe", "submit_evidence", jobs.SubmitParams{Dispute: late, DueBy: now.Add(-time.Hour).UTC().Format(time.RFC3339)}})
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "needs_attention", 10*time.Second)
	if d, _ := e.sb.Stripe.Dispute(late); d.Submitted {
		t.Error("evidence submitted after the due date")
	}
}

// A 5xx Stripe stored for the key is replayed to every retry: the worker stops
// retrying, looks for the refund by its metadata, and finding none asks a person;
// no refund is made twice or behind anyone's back.
func TestReplayedServerErrorNeedsAPerson(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(5000))
	e.sb.Stripe.FailStartedNext(1, 500)
	caseID, ids := e.newCase("refund", refundPlan(ch, 5000))
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "needs_attention", 10*time.Second)
	if msg := e.text(`SELECT last_error FROM actions WHERE id = ?`, ids[0]); !strings.Contains(msg, "replayed") {
		t.Errorf("last error %q, want it to say Stripe replayed the stored error", msg)
	}
	posts, lists := 0, 0
	for _, r := range e.sb.Stripe.Requests() {
		switch {
		case r.Method == "POST" && r.Path == "/v1/refunds":
			posts++
		case r.Method == "GET" && r.Path == "/v1/refunds":
			lists++
		}
	}
	if posts != 2 || lists != 1 || e.sb.Stripe.RefundCount() != 0 {
		t.Errorf("refund posts %d (want 2: the failure and its replay), look-ups %d (want 1), refunds %d (want 0)",
			posts, lists, e.sb.Stripe.RefundCount())
	}
}
