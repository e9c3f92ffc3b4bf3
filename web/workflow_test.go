package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/wire"
	"github.com/countersign/countersign/web"
)

// workflow is the console with its job workers running against the sandbox fakes:
// the real webhook → ingest → outbox → job path.
type workflow struct {
	t   *testing.T
	db  *database.DB
	sb  *sandbox.Sandbox
	ts  *httptest.Server
	srv *web.Server
	g   *wire.Graph
}

// setup, when given, adjusts the sandbox before the server uses it.
func newWorkflow(t *testing.T, extra map[string]string, setup ...func(*sandbox.Sandbox)) *workflow {
	t.Helper()
	db := testdb.New(t)
	sb, err := sandbox.Start(config.Connectors{MailFrom: "billing@countersign.test"}, sandbox.Options{All: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	for _, f := range setup {
		f(sb)
	}
	env := map[string]string{
		"COUNTERSIGN_DIALNEXA_SECRETS":  "whsec_current_secret_0123456789," + sampleSecret,
		"COUNTERSIGN_SESSION_KEYS":      "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"COUNTERSIGN_JOB_POLL_INTERVAL": "100ms",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Dev)
	if err != nil {
		t.Fatal(err)
	}
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	g, err := wire.Build(wire.Options{Config: cfg, DB: db, Log: lg, Version: "test", Sandbox: sb})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	srv, err := web.New(web.Deps{Config: cfg, DB: db, Log: lg, Services: g})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := g.StartWorkers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stop(ctx)
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &workflow{t: t, db: db, sb: sb, ts: ts, srv: srv, g: g}
}

// call posts a signed variant of a shared sample.
func (w *workflow) call(sample string, replace ...string) {
	w.t.Helper()
	w.post([]byte(strings.NewReplacer(replace...).Replace(string(readSample(w.t, sample)))))
}

// post posts a signed body to the webhook.
func (w *workflow) post(body []byte) {
	w.t.Helper()
	if resp := post(w.t, w.ts, body, map[string]string{"X-DialNexa-Signature": dialnexa.Sign(body, sampleSecret)}); resp.StatusCode != 200 {
		w.t.Fatalf("webhook: %d", resp.StatusCode)
	}
}

// await polls q (one boolean) until it is true; the jobs run asynchronously.
func (w *workflow) await(what, q string, args ...any) {
	w.t.Helper()
	for range 300 {
		var ok bool
		if err := w.db.Gorm.Raw(q, args...).Scan(&ok).Error; err != nil {
			w.t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("%s: not reached after 15 s", what)
}

func TestClaimCheckRoutesThroughTheJobPath(t *testing.T) {
	w := newWorkflow(t, nil)
	// A 50.00 USD invoice on file; the caller claims 500 USD on it.
	w.sb.AddPaidInvoice("INV-50050", "jordan.lee@example.com", 5000, "USD")
	w.call("refund-request.json", "call_rf7k2m9q4xbt", "call_wf_fifty", "INV-20931", "INV-50050", `"amount": 249.0`, `"amount": 500.0`)
	w.await("claim checked", `SELECT EXISTS (SELECT 1 FROM claim_checks c JOIN cases k ON k.id = c.case_id
		JOIN calls l ON l.id = k.call_id WHERE l.dialnexa_id = 'call_wf_fifty')`)
	var kind, reasons string
	w.db.Gorm.Raw(`SELECT k.kind, k.reasons::text FROM cases k JOIN calls l ON l.id = k.call_id
		WHERE l.dialnexa_id = 'call_wf_fifty'`).Row().Scan(&kind, &reasons)
	if kind != "review" || !strings.Contains(reasons, "amount 500.00 USD claimed, the ledger has 50.00 USD") {
		t.Errorf("case %s, reasons %s; want review with the amount reason", kind, reasons)
	}

	// The review case is a row of the exception review queue in Sheets ...
	var caseID int64
	w.db.Gorm.Raw(`SELECT k.id FROM cases k JOIN calls l ON l.id = k.call_id WHERE l.dialnexa_id = 'call_wf_fifty'`).Scan(&caseID)
	key := "case-" + strconv.FormatInt(caseID, 10) + "-review"
	if err := w.g.Jobs.SweepExceptions(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.await("exception row written", `SELECT EXISTS (SELECT 1 FROM exception_rows WHERE case_id = ? AND synced = 'open')`, caseID)
	rows := w.sb.Sheets.Rows(sandbox.SheetID, jobs.ExceptionSheet)
	if len(rows) != 1 || rows[0][0] != key || rows[0][1] != "open" || rows[0][2] != "review" ||
		!strings.Contains(rows[0][3], "amount 500.00 USD claimed") || !strings.Contains(strings.Join(rows[0], "|"), "/cases/") {
		t.Fatalf("exception rows: %q", rows)
	}
	// ... resolved in place once the case is decided, and a second sweep changes nothing.
	if err := w.db.Gorm.Exec(`UPDATE cases SET status = 'rejected' WHERE id = ?`, caseID).Error; err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := w.g.Jobs.SweepExceptions(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	w.await("exception row resolved", `SELECT EXISTS (SELECT 1 FROM exception_rows WHERE case_id = ? AND synced = 'resolved')`, caseID)
	rows = w.sb.Sheets.Rows(sandbox.SheetID, jobs.ExceptionSheet)
	if len(rows) != 1 || rows[0][0] != key || rows[0][1] != "resolved" || rows[0][5] == "" {
		t.Errorf("exception rows after resolution: %q", rows)
	}
}

// blockerCall is a completed call of a VIP whose renewal failed.
func blockerCall(t *testing.T, id string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event_type": "call_ended", "payload": map[string]any{"call": map[string]any{
		"id": id, "direction": "inbound", "status": "completed", "from_number": "14155550142", "to_number": "18005550199",
		"transcript": "Agent: Acme billing.\nUser: Our renewal failed and now our payment is blocked. My card is 4242 4242 4242 4242.",
		"summary":    "VIP customer's renewal payment of 5400.00 USD failed; payment blocked.",
		"post_call_analysis": map[string]any{"call_intent": "payment_blocked", "vip": true, "amount": 5400.00, "currency": "USD",
			"customer_name": "Jordan Lee", "customer_email": "jordan.lee@example.com", "subscription_id": "sub_DemoVIP01"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVIPBlockerAlertsAtIngestOnceWithThreadReplies(t *testing.T) {
	w := newWorkflow(t, nil)
	w.sb.Stripe.AddSubscription(stripefake.Subscription{ID: "sub_DemoVIP01", Customer: "cus_SandboxJordan", Status: "past_due", Currency: "usd"})
	w.post(blockerCall(t, "call_wf_vip"))
	w.await("alert posted", `SELECT EXISTS (SELECT 1 FROM case_alerts WHERE call_ref = 'call_wf_vip'
		AND reason = 'vip_blocker' AND status = 'posted')`)
	msgs := w.sb.Slack.Messages()
	if len(msgs) != 1 {
		t.Fatalf("slack messages = %d, want 1", len(msgs))
	}
	text := msgs[0].Text
	for _, want := range []string{"*VIP payment blocker*", "*Impact:* a VIP customer cannot pay (5,400.00 USD)",
		"*Urgency:* critical: VIP customer cannot pay", "*Asked:* to unblock a failed or blocked payment",
		"*Object:* subscription sub_DemoVIP01", "*Owner:* Finance · VIP desk", "*Next step:*", "/cases/", "|Transcript>"} {
		if !strings.Contains(text, want) {
			t.Errorf("alert lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "4242 4242") || strings.Contains(text, "•••• 4242") {
		t.Errorf("alert carries a card number: %s", text)
	}
	// Alerting is not approval: the case is still new, nothing was approved.
	var caseID int64
	var status string
	w.db.Gorm.Raw(`SELECT case_id FROM case_alerts WHERE call_ref = 'call_wf_vip'`).Scan(&caseID)
	w.db.Gorm.Raw(`SELECT status FROM cases WHERE id = ?`, caseID).Scan(&status)
	if status != "new" {
		t.Errorf("case status %s after the alert, want new", status)
	}

	// The same check again (a replayed outbox row, a redelivered call) posts
	// nothing more: one alert per call and reason.
	w.db.Gorm.Exec(`INSERT INTO job_outbox (kind, case_id) VALUES ('alerts', ?)`, caseID)
	w.g.Jobs.WakeOutbox()
	w.post(blockerCall(t, "call_wf_vip"))
	w.await("outbox drained", `SELECT NOT EXISTS (SELECT 1 FROM job_outbox)`)
	w.await("alert jobs finished", `SELECT NOT EXISTS (SELECT 1 FROM river_job WHERE queue = 'alerts' AND state NOT IN ('completed', 'cancelled', 'discarded'))`)
	var alerts int64
	w.db.Gorm.Raw(`SELECT count(*) FROM case_alerts`).Scan(&alerts)
	if n := len(w.sb.Slack.Messages()); n != 1 || alerts != 1 {
		t.Errorf("slack messages %d, alerts %d after a second check, want 1 and 1", n, alerts)
	}

	// A later change goes into the alert's thread.
	w.db.Gorm.Exec(`UPDATE cases SET status = 'done' WHERE id = ?`, caseID)
	if err := w.g.Jobs.SweepAlerts(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.await("reply posted", `SELECT EXISTS (SELECT 1 FROM case_alert_updates WHERE status = 'posted' AND event = 'done')`)
	msgs = w.sb.Slack.Messages()
	if len(msgs) != 2 || msgs[1].ThreadTS != msgs[0].TS || !strings.Contains(msgs[1].Text, "executed and resolved") {
		t.Errorf("thread reply: %+v", msgs)
	}
	if err := w.g.Jobs.SweepAlerts(context.Background()); err != nil {
		t.Fatal(err)
	}
	var updates int64
	w.db.Gorm.Raw(`SELECT count(*) FROM case_alert_updates`).Scan(&updates)
	if updates != 1 {
		t.Errorf("updates after a second sweep = %d, want 1", updates)
	}
}

// disputeCall is a signed-webhook body for a dispute call saying what.
func disputeCall(t *testing.T, id, transcript, reason string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"event_type": "call_ended", "payload": map[string]any{"call": map[string]any{
		"id": id, "direction": "inbound", "status": "completed", "from_number": "14155550177", "to_number": "18005550199",
		"transcript": transcript, "summary": "Caller disputes a charge of 129.00 USD.",
		"post_call_analysis": map[string]any{"call_intent": "dispute", "amount": 129.00, "currency": "USD",
			"dispute_reason": reason, "customer_name": "Priya Raman", "customer_email": "priya.raman@example.com"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDisputeAlertsAtIngestRouteByReason: a duplicate charge and a chargeback said on
// a call each alert finance through the real webhook → outbox → job path, as soon as
// the call is stored, in the channel configured for their reason, once per call and
// reason, with no card number.
func TestDisputeAlertsAtIngestRouteByReason(t *testing.T) {
	// COUNTERSIGN_SLACK_CHANNELS as the sandbox passes it on (newWorkflow starts the
	// sandbox before the configuration is read).
	w := newWorkflow(t, nil, func(sb *sandbox.Sandbox) {
		sb.Connectors.SlackChannels["duplicate_charge"] = "#billing-duplicates"
		sb.Connectors.SlackChannels["chargeback"] = "C0DISPUTES"
		sb.Slack.AddChannel("C0DUPLICAT", "billing-duplicates")
		sb.Slack.AddChannel("C0DISPUTES", "disputes")
	})
	w.post(disputeCall(t, "call_wf_dup",
		"Agent: Acme billing.\nUser: I was charged twice for the same order, 129 dollars both times. Card 4000 0566 5566 5556.",
		"Duplicate charge"))
	w.post(disputeCall(t, "call_wf_cb",
		"Agent: Acme billing.\nUser: I never authorised this 129 dollar charge. My bank opened a chargeback yesterday.",
		"Unrecognised charge"))
	w.await("both alerts posted", `SELECT count(*) = 2 FROM case_alerts WHERE status = 'posted'
		AND ((call_ref = 'call_wf_dup' AND reason = 'duplicate_charge') OR (call_ref = 'call_wf_cb' AND reason = 'chargeback'))`)
	want := map[string]string{"C0DUPLICAT": "*Duplicate charge*", "C0DISPUTES": "*Chargeback*"}
	for _, m := range w.sb.Slack.Messages() {
		title, ok := want[m.Channel]
		if !ok {
			t.Errorf("alert in channel %s, want one of the reasons' channels: %s", m.Channel, m.Text)
			continue
		}
		if !strings.Contains(m.Text, title) || !strings.Contains(m.Text, "129.00 USD") || !strings.Contains(m.Text, "/cases/") {
			t.Errorf("alert in %s lacks %q, the amount or the case link:\n%s", m.Channel, title, m.Text)
		}
		if strings.Contains(m.Text, "5556") || strings.Contains(m.Text, "4000 0566") {
			t.Errorf("alert carries the card number: %s", m.Text)
		}
		delete(want, m.Channel)
	}
	if len(want) > 0 {
		t.Errorf("no alert in %v", want)
	}
	// A redelivery of the same call raises nothing more.
	w.post(disputeCall(t, "call_wf_dup",
		"Agent: Acme billing.\nUser: I was charged twice for the same order, 129 dollars both times.", "Duplicate charge"))
	w.await("outbox drained", `SELECT NOT EXISTS (SELECT 1 FROM job_outbox)`)
	w.await("alert jobs finished", `SELECT NOT EXISTS (SELECT 1 FROM river_job WHERE queue = 'alerts' AND state NOT IN ('completed', 'cancelled', 'discarded'))`)
	if n := len(w.sb.Slack.Messages()); n != 2 {
		t.Errorf("slack messages after a redelivery = %d, want 2", n)
	}
}
