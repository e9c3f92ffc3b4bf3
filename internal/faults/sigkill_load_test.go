//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/testdb"
)

// TestSIGKILLWorkerUnderLoad is internal/jobs' TestExactlyOnceAfterSIGKILL under a
// webhook load: a `serve --web-only` process takes ~150 deliveries/s throughout while
// a `serve --workers-only` process is killed with SIGKILL after Stripe (a loopback
// stripefake) has made six refunds and before the worker could record them. A second
// worker rescues the jobs the dead one left running and repeats each call with the
// same Idempotency-Key, which Stripe answers with its replay. Exactly one refund per
// action, each receipt stored, one action.executed entry per action; every delivery
// acknowledged and stored exactly once, none half-written.
//
// River presumes a running job dead only after COUNTERSIGN_JOB_RESCUE_AFTER (10 min
// in production); the workers here run with 6 s.
func TestSIGKILLWorkerUnderLoad(t *testing.T) {
	dbURL := testdb.NewURL(t)
	ctx := context.Background()
	db := openDB(t, dbURL)
	conn := connect(t, dbURL)
	q := func(sql string, args ...any) int64 { return scalar(t, conn, sql, args...) }
	text := func(sql string, args ...any) string {
		var s string
		if err := conn.QueryRow(ctx, sql, args...).Scan(&s); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return s
	}

	fake := stripefake.New()
	t.Cleanup(fake.Close)
	key := sessionKey()
	env := []string{"COUNTERSIGN_STRIPE_URL=" + fake.URL, "COUNTERSIGN_STRIPE_KEY=" + stripefake.TestKey,
		"COUNTERSIGN_JOB_RESCUE_AFTER=6s"}
	web := startServeWith(t, dbURL, key, serveOpts{Args: []string{"--web-only"}, Env: env})

	// Calls to hang the refund cases on, delivered like any other.
	var acked []string
	seed := &recorder{}
	load(seed, func(int) string { return web.URL }, deliveries(0x51c0, 20), 100, nil)
	for _, o := range seed.out {
		if !is2xx(o.Status) {
			t.Fatalf("seed delivery %s: status %d %s", o.CallID, o.Status, o.Err)
		}
		acked = append(acked, o.CallID)
	}
	const n = 6
	charges := make([]string, n)
	plans := make([]plannedAction, n)
	for i := range charges {
		amount := int64(10000 + 100*i)
		charges[i] = fake.AddCharge(stripefake.Charge{Amount: amount, Currency: "usd", Email: "jordan@example.com"})
		plans[i] = plannedAction{Kind: "refund", Connector: jobs.Stripe, Operation: "refund",
			Params: jobs.RefundParams{Charge: charges[i], Amount: amount, Currency: "USD", Reason: "requested_by_customer"}}
	}
	// Every Stripe answer is held after its effect: the refunds exist at "Stripe"
	// while the worker still waits for the answers. A hold ends when the caller hangs up.
	fake.Delay(time.Minute)
	actions := approveActions(t, db, plans, nil)

	// The load runs from before the first worker starts until the second has finished.
	stop := make(chan struct{})
	loadDone := make(chan struct{})
	hooks := &recorder{}
	loadStart := time.Now()
	go func() {
		defer close(loadDone)
		load(hooks, func(int) string { return web.URL }, deliveries(0x51c1, 15000), 150, stop)
	}()
	stopped := false
	stopLoad := func() {
		if !stopped {
			stopped = true
			close(stop)
			<-loadDone
		}
	}
	defer stopLoad()

	workers := serveOpts{Args: []string{"--workers-only"}, Env: env}
	first := startServeWith(t, dbURL, key, workers)
	waitUntil(t, "the six refunds at the fake", 60*time.Second, func() bool {
		select {
		case <-first.exited:
			t.Fatalf("first worker exited: %v\n%s", first.err, first.Logs())
		default:
		}
		return fake.RefundCount() >= n
	})
	// The effects happened; the worker waits for the held answers.
	if err := syscall.Kill(first.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	killedAt := time.Now()
	if got := fake.RefundCount(); got != n {
		t.Fatalf("refunds at the fake before the crash = %d, want %d", got, n)
	}
	for _, a := range actions {
		if st := text(`SELECT status FROM actions WHERE id = $1`, a.ActionID); st != "running" {
			t.Fatalf("action %d status after SIGKILL = %q, want running (the worker died before recording the refund)", a.ActionID, st)
		}
	}
	if got := q(`SELECT count(*) FROM audit_log WHERE action = 'action.executed'`); got != 0 {
		t.Fatalf("action.executed entries before the rerun = %d, want 0", got)
	}
	fake.Delay(0)

	second := startServeWith(t, dbURL, key, workers)
	waitUntil(t, "the actions done by the second worker", 90*time.Second, func() bool {
		select {
		case <-second.exited:
			t.Fatalf("second worker exited: %v\n%s", second.err, second.Logs())
		default:
		}
		return q(`SELECT count(*) FROM actions WHERE status = 'done'`) == n
	})
	rescued := time.Since(killedAt)
	time.Sleep(time.Second) // a little more load after the rescue
	stopLoad()
	loadFor := time.Since(loadStart)

	// Exactly one effect per action, recorded once.
	refunds := map[string][]stripefake.Refund{}
	for _, r := range fake.Refunds() {
		refunds[r.Charge] = append(refunds[r.Charge], r)
	}
	posts, keys := map[string]int{}, map[string]map[string]bool{}
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost && r.Path == "/v1/refunds" {
			ch := r.Form.Get("charge")
			posts[ch]++
			if keys[ch] == nil {
				keys[ch] = map[string]bool{}
			}
			keys[ch][r.IdempotencyKey] = true
		}
	}
	if got := fake.RefundCount(); got != n {
		t.Errorf("refunds at the fake = %d, want exactly %d", got, n)
	}
	for i, a := range actions {
		ch, id := charges[i], a.ActionID
		what := fmt.Sprintf("action %d (charge %s)", id, ch)
		if len(refunds[ch]) != 1 {
			t.Errorf("%s: %d refunds, want exactly 1", what, len(refunds[ch]))
			continue
		}
		if posts[ch] != 2 || len(keys[ch]) != 1 {
			t.Errorf("%s: %d refund requests with keys %v, want 2 with one key (the killed attempt and the rescued one)", what, posts[ch], keys[ch])
		}
		refund := refunds[ch][0]
		if got := text(`SELECT receipt_id FROM actions WHERE id = $1`, id); got != refund.ID {
			t.Errorf("%s: receipt id %q, want the refund %s", what, got, refund.ID)
		}
		var receipt struct {
			Summary string
			Raw     map[string]any
		}
		if err := json.Unmarshal([]byte(text(`SELECT receipt::text FROM actions WHERE id = $1`, id)), &receipt); err != nil {
			t.Errorf("%s: receipt: %v", what, err)
		} else if !strings.HasPrefix(receipt.Summary, "refund "+refund.ID+" ") || receipt.Raw["id"] != refund.ID {
			t.Errorf("%s: receipt %+v", what, receipt)
		}
		if got := q(`SELECT attempts FROM actions WHERE id = $1`, id); got != 2 {
			t.Errorf("%s: attempts = %d, want 2", what, got)
		}
		if got := q(`SELECT count(*) FROM audit_log WHERE action = 'action.executed' AND object_id = $1`, strconv.FormatInt(id, 10)); got != 1 {
			t.Errorf("%s: action.executed entries = %d, want exactly 1", what, got)
		}
		if st := text(`SELECT status FROM cases WHERE id = $1`, a.CaseID); st != "done" {
			t.Errorf("%s: case status %q, want done", what, st)
		}
		if got := q(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = $1`, id); got != 1 {
			t.Errorf("%s: %d jobs, want 1 (rescued, not duplicated)", what, got)
		}
		if !strings.Contains(text(`SELECT errors::text FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = $1`, id), "Stuck job rescued") {
			t.Errorf("%s: the job was not rerun through River's rescuer", what)
		}
	}

	// The web process took the load throughout: every delivery acknowledged, stored once.
	var took []time.Duration
	for _, o := range hooks.out {
		took = append(took, o.Done.Sub(o.Sent))
		if !is2xx(o.Status) {
			t.Errorf("delivery %s: status %d %s", o.CallID, o.Status, o.Err)
			continue
		}
		acked = append(acked, o.CallID)
	}
	if bad := storedOnce(t, conn, acked); len(bad) > 0 {
		t.Errorf("%d acknowledged deliveries not stored exactly once, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
	if got := q(integrityQuery); got != 0 {
		t.Errorf("%d half-written deliveries", got)
	}
	t.Logf("SIGKILL under load: %d refunds made, worker killed before recording them; the second worker finished all %d actions %s after the SIGKILL, one refund and one action.executed each",
		n, n, rescued.Round(100*time.Millisecond))
	t.Logf("SIGKILL under load: %d webhooks over %s (%.0f/s) to the web process: %s; all acknowledged and stored once, integrity 0",
		len(hooks.out), loadFor.Round(100*time.Millisecond), float64(len(hooks.out))/loadFor.Seconds(), latencies(took))
}
