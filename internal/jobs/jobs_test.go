package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/testdb"
)

// fastRetry retries after 50 ms instead of River's attempt^4 seconds.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(50 * time.Millisecond) }

type env struct {
	t   testing.TB
	db  *database.DB
	sb  *sandbox.Sandbox
	svc *jobs.Service
	ctx context.Context
}

func newEnv(t *testing.T, opts jobs.Options) *env {
	t.Helper()
	return newEnvWith(t, config.Connectors{MailFrom: "billing@countersign.test"}, opts)
}

func newEnvWith(t *testing.T, k config.Connectors, opts jobs.Options) *env {
	t.Helper()
	db := testdb.New(t)
	sb, err := sandbox.Start(k, sandbox.Options{All: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	conns, err := jobs.NewConnectors(sb.Connectors, sb.Sandboxed, sb.Recorder)
	if err != nil {
		t.Fatal(err)
	}
	opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	opts.NoPeriodic = true
	opts.RetryPolicy = fastRetry{}
	opts.FetchPollInterval = 100 * time.Millisecond
	opts.BaseURL = "http://console.test"
	svc, err := jobs.New(db, conns, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, sb: sb, svc: svc, ctx: context.Background()}
}

func (e *env) start() {
	e.t.Helper()
	if err := e.svc.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.svc.Stop(ctx)
	})
}

func (e *env) scalar(q string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.db.Gorm.Raw(q, args...).Scan(&n).Error; err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (e *env) text(q string, args ...any) string {
	e.t.Helper()
	var s string
	if err := e.db.Gorm.Raw(q, args...).Scan(&s).Error; err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return s
}

type plan struct {
	connector, operation string
	params               any
}

// newCase inserts an approved-to-be case with planned actions and returns ids.
func (e *env) newCase(kind string, plans ...plan) (int64, []int64) {
	return e.newCaseB(e.t, kind, plans...)
}

func (e *env) newCaseB(tb testing.TB, kind string, plans ...plan) (int64, []int64) {
	tb.Helper()
	e.t = tb
	call := e.scalar(`INSERT INTO calls (dialnexa_id, status) VALUES ('call_' || md5(random()::text), 'completed') RETURNING id`)
	caseID := e.scalar(`INSERT INTO cases (call_id, kind, status) VALUES (?, ?, 'awaiting_approval') RETURNING id`, call, kind)
	var ids []int64
	for i, p := range plans {
		b, _ := json.Marshal(p.params)
		key := fmt.Sprintf("call_test_1:%s:%d:%d", p.operation, caseID, i)
		ids = append(ids, e.scalar(`INSERT INTO actions (case_id, position, connector, operation, params, description, idempotency_key)
			VALUES (?, ?, ?, ?, ?::jsonb, 'test', ?) RETURNING id`, caseID, i, p.connector, p.operation, string(b), key))
	}
	return caseID, ids
}

// approve does what the decisions side does: planned → queued and OnApproved, in one
// transaction; rollback makes the transaction fail after the hook.
func (e *env) approve(caseID int64, rollback bool) error {
	return e.db.Gorm.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE actions SET status = 'queued' WHERE case_id = ? AND status = 'planned'`, caseID).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE cases SET status = 'approved' WHERE id = ?`, caseID).Error; err != nil {
			return err
		}
		fp, err := jobs.PlanFingerprint(e.ctx, tx, caseID)
		if err != nil {
			return err
		}
		if err := e.svc.OnApproved(e.ctx, tx, caseID, fp); err != nil {
			return err
		}
		if rollback {
			return errors.New("decision rolled back")
		}
		return nil
	})
}

// waitStatus waits until the action reaches status.
func (e *env) waitStatus(id int64, want string, within time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for {
		got := e.text(`SELECT status FROM actions WHERE id = ?`, id)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("action %d status %q, want %q (last error %q)", id, got, want,
				e.text(`SELECT last_error FROM actions WHERE id = ?`, id))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) waitFor(what string, within time.Duration, ok func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func refundPlan(charge string, amount int64) plan {
	return plan{"stripe", "refund", jobs.RefundParams{Charge: charge, Amount: amount, Currency: "USD", Reason: "requested_by_customer"}}
}

func TestJobCommitsAndRollsBackWithTheDecision(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	caseID, ids := e.newCase("refund", refundPlan("ch_x", 100), plan{"slack", "alert", jobs.AlertParams{Text: "refund approved"}})
	jobsFor := func() int64 {
		return e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND (args->>'case_id')::bigint = ?`, caseID)
	}
	if err := e.approve(caseID, true); err == nil {
		t.Fatal("rollback approval succeeded")
	}
	if n := jobsFor(); n != 0 {
		t.Fatalf("jobs after rolled-back approval = %d, want 0", n)
	}
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	if n := jobsFor(); n != 2 {
		t.Fatalf("jobs after approval = %d, want 2 (one per action)", n)
	}
	// A second insert for the same actions (a replayed hook) adds nothing.
	err := e.db.Gorm.Transaction(func(tx *gorm.DB) error {
		fp, _ := jobs.PlanFingerprint(e.ctx, tx, caseID)
		return e.svc.OnApproved(e.ctx, tx, caseID, fp)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if n := e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = ?`, id); n != 1 {
			t.Errorf("jobs for action %d = %d, want exactly 1", id, n)
		}
	}
	if n := e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND max_attempts = 12`); n != 1 {
		t.Errorf("stripe jobs with 12 attempts = %d, want 1", n)
	}
}

// TestExactlyOnceAfterCrash: the worker dies after the other system answered and
// before the completion transaction; River reruns the job; every fake holds exactly
// one effect, and the audit log one "action.executed" per action.
func TestExactlyOnceAfterCrash(t *testing.T) {
	var mu sync.Mutex
	crashed := map[int64]bool{}
	e := newEnv(t, jobs.Options{AfterCall: func(ctx context.Context, actionID int64) error {
		mu.Lock()
		defer mu.Unlock()
		if crashed[actionID] {
			return nil
		}
		crashed[actionID] = true
		if actionID%2 == 0 {
			panic("simulated crash after the connector answered")
		}
		return errors.New("simulated crash after the connector answered")
	}})
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(24900))
	caseID, ids := e.newCase("refund",
		refundPlan(ch, 24900),
		plan{"slack", "alert", jobs.AlertParams{Text: "Refund approved"}},
		plan{"zendesk", "ticket", jobs.TicketParams{Mode: "create", Subject: "Your refund", Body: "Refund approved.", ExternalID: "call_test_1", Priority: "normal"}},
		plan{"email", "send_document", jobs.EmailParams{To: "jordan@example.com", DocumentType: "refund_confirmation", Amount: 24900, Currency: "USD"}},
		plan{"sheets", "append_row", jobs.RowParams{Sheet: "collections", Values: []any{"refund", "249.00", "USD"}}},
		plan{"drive", "upload", jobs.UploadParams{DocumentType: "receipt", DocumentRef: "RCPT-10442", Charge: ch, Folder: "Countersign/customers/cus_Jordan"}},
	)
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		e.waitStatus(id, "done", 20*time.Second)
	}
	if n := e.sb.Stripe.RefundCount(); n != 1 {
		t.Errorf("refunds at Stripe = %d, want 1", n)
	}
	if n := e.sb.Slack.CountByActionID(fmt.Sprintf("action-%d", ids[1])); n != 1 {
		t.Errorf("slack messages = %d, want 1", n)
	}
	if n := e.sb.Zendesk.Creates(); n != 1 {
		t.Errorf("zendesk tickets = %d, want 1", n)
	}
	if n := e.sb.Gmail.Count(jobs.MessageID(ids[3], e.text(`SELECT idempotency_key FROM actions WHERE id = ?`, ids[3]))); n != 1 {
		t.Errorf("emails = %d, want 1", n)
	}
	if n := len(e.sb.Sheets.Rows(sandbox.SheetID, "collections")); n != 1 {
		t.Errorf("sheet rows = %d, want 1", n)
	}
	if n := e.sb.Drive.Creates(); n != 1 {
		t.Errorf("drive files = %d, want 1", n)
	}
	for _, id := range ids {
		if !crashed[id] {
			t.Errorf("action %d never crashed: the test proves nothing for it", id)
		}
		if n := e.scalar(`SELECT count(*) FROM audit_log WHERE action = 'action.executed' AND object_id = ?`, fmt.Sprint(id)); n != 1 {
			t.Errorf("action.executed entries for %d = %d, want 1", id, n)
		}
		if e.text(`SELECT receipt_id FROM actions WHERE id = ?`, id) == "" {
			t.Errorf("action %d has no receipt id", id)
		}
	}
	if st := e.text(`SELECT status FROM cases WHERE id = ?`, caseID); st != "done" {
		t.Errorf("case status %q, want done", st)
	}
}

func TestRetryAfterSnoozesWithoutUsingAnAttempt(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.sb.Slack.FailNext(1, http.StatusTooManyRequests, time.Second)
	caseID, ids := e.newCase("payment_blocker", plan{"slack", "alert", jobs.AlertParams{Text: "VIP blocked"}})
	e.start()
	start := time.Now()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	if d := time.Since(start); d < time.Second {
		t.Errorf("done after %s, before the requested 1 s", d)
	}
	if n := e.scalar(`SELECT attempt FROM river_job WHERE kind = 'connector_action'`); n != 1 {
		t.Errorf("job attempt = %d, want 1 (a snooze uses no attempt)", n)
	}
	if n := e.sb.Slack.CountByActionID(fmt.Sprintf("action-%d", ids[0])); n != 1 {
		t.Errorf("messages = %d, want 1", n)
	}
}

func TestServerErrorsAreRetriedWithTheSameKey(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(5000))
	e.sb.Stripe.FailNext(2, http.StatusInternalServerError, "", 0)
	caseID, ids := e.newCase("refund", refundPlan(ch, 5000))
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "done", 10*time.Second)
	if n := e.sb.Stripe.RefundCount(); n != 1 {
		t.Errorf("refunds = %d, want 1", n)
	}
	keys := map[string]int{}
	for _, r := range e.sb.Stripe.Requests() {
		if r.Path == "/v1/refunds" && r.Method == http.MethodPost {
			keys[r.IdempotencyKey]++
		}
	}
	if len(keys) != 1 {
		t.Errorf("idempotency keys used = %v, want one key on every attempt", keys)
	}
	for k, n := range keys {
		if n != 3 {
			t.Errorf("key %s sent %d times, want 3", k, n)
		}
	}
}

// TestTimeoutIsRetried: Stripe takes the refund but answers after the client gave up
// (the ambiguous case). Retries with the same key get 409 while the first request is
// held, then the replayed answer: one refund.
func TestTimeoutIsRetried(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	e.svc.Connectors().Stripe = stripe.New(stripe.Config{BaseURL: e.sb.Connectors.StripeURL,
		Key: e.sb.Connectors.StripeKey, HTTPClient: &http.Client{Timeout: 300 * time.Millisecond}})
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(5000))
	e.sb.Stripe.Delay(time.Second)
	caseID, ids := e.newCase("refund", refundPlan(ch, 5000))
	e.start()
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitFor("a timed-out attempt", 10*time.Second, func() bool {
		return e.scalar(`SELECT attempts FROM actions WHERE id = ?`, ids[0]) >= 2
	})
	e.sb.Stripe.Delay(0)
	e.waitStatus(ids[0], "done", 10*time.Second)
	if n := e.sb.Stripe.RefundCount(); n != 1 {
		t.Errorf("refunds = %d, want 1", n)
	}
	if msg := e.text(`SELECT last_error FROM actions WHERE id = ?`, ids[0]); msg != "" {
		t.Errorf("done action keeps error %q", msg)
	}
}

func TestPermanentErrorNeedsAttention(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	ch := e.sb.Stripe.AddCharge(stripefakeCharge(5000))
	e.sb.Stripe.AddCharge(stripefakeCharge(1))
	// Refund it fully elsewhere first: Stripe answers charge_already_refunded.
	caseID, ids := e.newCase("refund", refundPlan(ch, 5000), plan{"slack", "alert", jobs.AlertParams{Text: "after the refund"}})
	e.sb.Stripe.SetRefundStatus("succeeded")
	other, otherIDs := e.newCase("refund", refundPlan(ch, 5000))
	e.start()
	if err := e.approve(other, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(otherIDs[0], "done", 10*time.Second)
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(ids[0], "needs_attention", 10*time.Second)
	if msg := e.text(`SELECT last_error FROM actions WHERE id = ?`, ids[0]); msg == "" {
		t.Error("no error recorded")
	} else {
		t.Logf("error shown: %s", msg)
	}
	if st := e.text(`SELECT status FROM cases WHERE id = ?`, caseID); st != "needs_attention" {
		t.Errorf("case status %q, want needs_attention", st)
	}
	if n := e.scalar(`SELECT count(*) FROM audit_log WHERE action = 'action.needs_attention' AND object_id = ?`, fmt.Sprint(ids[0])); n != 1 {
		t.Errorf("needs_attention audit entries = %d, want 1", n)
	}
	e.waitFor("the alert in Slack", 10*time.Second, func() bool {
		return e.scalar(`SELECT count(*) FROM connector_alerts WHERE action_id = ? AND status = 'done'`, ids[0]) == 1
	})
	// The later action waits: it must not run after a failed refund.
	if st := e.text(`SELECT status FROM actions WHERE id = ?`, ids[1]); st != "queued" {
		t.Errorf("later action status %q, want queued (held)", st)
	}
	if n := e.scalar(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = ? AND attempt > 1`, ids[0]); n != 0 {
		t.Errorf("permanent error was retried")
	}
	key := e.text(`SELECT idempotency_key FROM actions WHERE id = ?`, ids[0])
	if err := e.svc.RetryAction(e.ctx, nil, ids[0]); err != nil {
		t.Fatal(err)
	}
	if k := e.text(`SELECT idempotency_key FROM actions WHERE id = ?`, ids[0]); k != key {
		t.Errorf("retry changed the key: %s → %s", key, k)
	}
	if n := e.scalar(`SELECT count(*) FROM audit_log WHERE action = 'action.retried'`); n != 1 {
		t.Errorf("retry audit entries = %d, want 1", n)
	}
	e.waitFor("the retried job", 10*time.Second, func() bool {
		return e.scalar(`SELECT attempts FROM actions WHERE id = ?`, ids[0]) == 2
	})
	e.waitStatus(ids[0], "needs_attention", 10*time.Second) // still refunded: a person must cancel it
	if err := e.svc.RetryAction(e.ctx, nil, ids[1]); !errors.Is(err, apperr.ErrConflict) {
		t.Errorf("retry of a queued action: %v, want ErrConflict", err)
	}
}

func TestFingerprintMismatchRefusesToAct(t *testing.T) {
	e := newEnv(t, jobs.Options{})
	caseID, ids := e.newCase("payment_blocker", plan{"slack", "alert", jobs.AlertParams{Text: "one"}})
	if err := e.approve(caseID, false); err != nil {
		t.Fatal(err)
	}
	// The plan changes after approval (a bug or a race in decisions).
	e.db.Gorm.Exec(`UPDATE actions SET params = '{"text":"two"}' WHERE id = ?`, ids[0])
	e.start()
	e.waitStatus(ids[0], "needs_attention", 10*time.Second)
	if n := e.sb.Slack.CountByActionID(fmt.Sprintf("action-%d", ids[0])); n != 0 {
		t.Errorf("messages = %d, want 0", n)
	}
}
