package faults

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/connector/slack/slackfake"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/testdb"
)

// Storm settings: a connector call gives up after stormTimeout, a failed attempt is
// retried after stormRetryDelay (instead of River's attempt^4 s) and workers look for
// due jobs every stormPoll, so Stripe's cap of 12 attempts is reached in seconds.
const (
	stormTimeout    = time.Second
	stormRetryDelay = 200 * time.Millisecond
	stormPoll       = 200 * time.Millisecond
	stormSlackToken = "xoxb-storm-test-token"
	stormChannel    = "C0FINANCE" // slackfake's channel
)

// stormGroup is a set of actions whose connector behaves alike.
type stormGroup struct {
	name      string
	connector string // jobs.Stripe or jobs.Slack
	n         int
	script    script
	// The documented end state.
	status   string // done | failed | queued (still waiting as the provider asked)
	attempt  int    // River's attempt count: every failed try uses one, a 429 snooze none
	failures int    // errors River recorded on the job
	snoozes  int    // 429 answers met (minimum, for the endless group)
	effects  int    // refunds (Stripe) or messages (Slack) per action
}

// TestConnectorStormUnderLoad runs one `countersign serve` (web and workers) whose
// Stripe and Slack point at loopback fakes that answer 500/503 storms, 429 with
// Retry-After, hang past the HTTP timeout, or take the refund and then hang, with 126
// approved actions queued, while signed-in people keep opening console pages and
// DialNexa keeps delivering webhooks. Every page answers 200 and every webhook 2xx
// throughout; each action ends as documented: retried with its attempts recorded on
// the job; 429s snooze without using attempts; after Stripe's 12 attempts the action
// is failed, its case needs attention and an alert is recorded and posted once; and
// no refund or message happens twice.
func TestConnectorStormUnderLoad(t *testing.T) {
	dbURL := testdb.NewURL(t)
	ctx := context.Background()
	db := openDB(t, dbURL)

	stripeFake := stripefake.NewUnstarted()
	stripeProxy := newFaultProxy(stripeFake.Handler(), stripeRefundCharge,
		func(status int, ra time.Duration) { stripeFake.FailNext(1, status, "", ra) })
	slackFake := slackfake.New(stormSlackToken)
	slackProxy := newFaultProxy(slackFake.Handler(), slackPostRef,
		func(status int, ra time.Duration) { slackFake.FailNext(1, status, ra) })
	stripeURL, slackURL := stripeProxy.start(t), slackProxy.start(t)

	cfg := authtest.Config(t) // its session key is the server's
	srv := startServeWith(t, dbURL, base64.StdEncoding.EncodeToString(cfg.SessionKeys[0]), serveOpts{Env: []string{
		"COUNTERSIGN_STRIPE_URL=" + stripeURL, "COUNTERSIGN_STRIPE_KEY=" + stripefake.TestKey,
		"COUNTERSIGN_SLACK_URL=" + slackURL + "/api", "COUNTERSIGN_SLACK_TOKEN=" + stormSlackToken,
		"COUNTERSIGN_SLACK_CHANNELS=default=" + stormChannel,
		"COUNTERSIGN_CONNECTOR_TIMEOUT=" + stormTimeout.String(),
		"COUNTERSIGN_JOB_RETRY_DELAY=" + stormRetryDelay.String(),
		"COUNTERSIGN_JOB_POLL_INTERVAL=" + stormPoll.String(),
	}})

	// Calls to hang the cases on, delivered through the webhook like any other.
	seedRec := &recorder{}
	load(seedRec, func(int) string { return srv.URL }, deliveries(0x5707a, 160), 200, nil)
	var ackedIDs []string
	for _, o := range seedRec.out {
		if !is2xx(o.Status) {
			t.Fatalf("seed delivery %s: status %d %s", o.CallID, o.Status, o.Err)
		}
		ackedIDs = append(ackedIDs, o.CallID)
	}

	stripeCap := jobs.MaxAttempts(jobs.Stripe)
	groups := []stormGroup{
		{name: "Stripe 5xx storm, then ok", connector: jobs.Stripe, n: 36, script: script{steps: []step{fail503, fail500, fail503, fail500}},
			status: "done", attempt: 5, failures: 4, effects: 1},
		{name: "Stripe 429 Retry-After, then ok", connector: jobs.Stripe, n: 30, script: script{steps: []step{rate429, rate429, rate429}},
			status: "done", attempt: 1, snoozes: 3, effects: 1},
		{name: "Stripe hangs past the timeout, then ok", connector: jobs.Stripe, n: 10, script: script{steps: []step{hang, hang}},
			status: "done", attempt: 3, failures: 2, effects: 1},
		{name: "Stripe refunds but the answer times out, then replays", connector: jobs.Stripe, n: 10, script: script{steps: []step{hangAfter}},
			status: "done", attempt: 2, failures: 1, effects: 1},
		{name: "Stripe 5xx for ever", connector: jobs.Stripe, n: 4, script: script{then: fail503},
			status: "failed", attempt: stripeCap, failures: stripeCap},
		{name: "Stripe hangs for ever", connector: jobs.Stripe, n: 3, script: script{then: hang},
			status: "failed", attempt: stripeCap, failures: stripeCap},
		{name: "Stripe 429 for ever", connector: jobs.Stripe, n: 3, script: script{then: rate429},
			status: "queued", snoozes: stripeCap + 1}, // more 429s than the attempt cap
		{name: "Slack 429 Retry-After, then ok", connector: jobs.Slack, n: 15, script: script{steps: []step{rate429, rate429}},
			status: "done", attempt: 1, snoozes: 2, effects: 1},
		{name: "Slack 503 storm, then ok", connector: jobs.Slack, n: 15, script: script{steps: []step{fail503, fail503, fail503}},
			status: "done", attempt: 4, failures: 3, effects: 1},
	}
	type member struct {
		g      *stormGroup
		a      approvedAction
		charge string // Stripe
	}
	var plans []plannedAction
	var members []member
	for gi := range groups {
		g := &groups[gi]
		for range g.n {
			m := member{g: g}
			if g.connector == jobs.Stripe {
				m.charge = stripeFake.AddCharge(stripefake.Charge{Amount: 12500, Currency: "usd", Email: "jordan@example.com"})
				stripeProxy.script(m.charge, g.script)
				plans = append(plans, plannedAction{Kind: "refund", Connector: jobs.Stripe, Operation: "refund",
					Params: jobs.RefundParams{Charge: m.charge, Amount: 12500, Currency: "USD", Reason: "requested_by_customer"}})
			} else {
				plans = append(plans, plannedAction{Kind: "payment_blocker", Connector: jobs.Slack, Operation: "alert",
					Params: jobs.AlertParams{Text: "VIP payment blocked (fault test)"}})
			}
			members = append(members, m)
		}
	}

	// The load: webhooks at 50/s, and four signed-in people on the console.
	stop := make(chan struct{})
	loadDone, browseDone := make(chan struct{}), make(chan struct{})
	hooks := &recorder{}
	go func() {
		defer close(loadDone)
		load(hooks, func(int) string { return srv.URL }, deliveries(0x5707b, 5000), 50, stop)
	}()
	admin := authtest.Login(t, db, cfg, auth.Admin, auth.SupportLead)
	pages := &pageRecorder{}
	var paths []string
	stopped := false
	stopLoad := func() {
		if !stopped {
			stopped = true
			close(stop)
			<-loadDone
			if paths != nil {
				<-browseDone
			}
		}
	}
	defer stopLoad()

	// The first approval is an action that will fail for good: its case page is the
	// one people keep opening while it is retried and given up.
	stormStart := time.Now()
	scriptSlack := func(m member, a approvedAction) {
		if m.g.connector == jobs.Slack {
			slackProxy.script("action-"+strconv.FormatInt(a.ActionID, 10), m.g.script)
		}
	}
	first := slices.IndexFunc(members, func(m member) bool { return m.g.status == "failed" })
	members[first].a = approveActions(t, db, plans[first:first+1], nil)[0]
	paths = []string{"/queues/open", fmt.Sprintf("/cases/%d", members[first].a.CaseID), "/admin/jobs", "/admin/connectors"}
	go func() { defer close(browseDone); browse(pages, srv.URL, admin, paths, 4, 50*time.Millisecond, stop) }()
	others := slices.Concat(members[:first], members[first+1:])
	approved := approveActions(t, db, slices.Concat(plans[:first], plans[first+1:]), func(i int, a approvedAction) {
		scriptSlack(others[i], a) // before the job can run
	})
	for i := range members {
		if i != first {
			members[i].a, approved = approved[0], approved[1:]
		}
	}
	approvedIn := time.Since(stormStart)

	conn := connect(t, dbURL)
	q := func(sql string, args ...any) int64 { return scalar(t, conn, sql, args...) }
	var wantDone, wantFailed int
	for _, g := range groups {
		switch g.status {
		case "done":
			wantDone += g.n
		case "failed":
			wantFailed += g.n
		}
	}
	ids := func(status string) []int64 {
		var out []int64
		for _, m := range members {
			if m.g.status == status {
				out = append(out, m.a.ActionID)
			}
		}
		return out
	}
	forever429 := ids("queued")
	waitUntil(t, "every action in its end state", 60*time.Second, func() bool {
		select {
		case <-srv.exited:
			t.Fatalf("serve exited during the storm: %v", srv.err)
		default:
		}
		return q(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND state = 'completed'`) == int64(wantDone) &&
			q(`SELECT count(*) FROM actions WHERE status = 'done'`) == int64(wantDone) &&
			q(`SELECT count(*) FROM actions WHERE status = 'failed'`) == int64(wantFailed) &&
			q(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND state = 'discarded'`) == int64(wantFailed) &&
			q(`SELECT count(*) FROM connector_alerts WHERE status = 'done'`) == int64(wantFailed) &&
			q(`SELECT count(*) FROM river_job WHERE kind = 'connector_action' AND (args->>'action_id')::bigint = ANY($1)
				AND coalesce((metadata->>'snoozes')::int, 0) > $2`, forever429, stripeCap) == int64(len(forever429))
	})
	storm := time.Since(stormStart)
	stopLoad()

	// The console stayed responsive: every page 200, every webhook 2xx.
	t.Logf("pages during the storm: %s (%d signed-in users, %v)", latencies(pages.took), 4, pages.byPath)
	for i, b := range pages.bad {
		if i == 10 {
			t.Errorf("... %d page failures in all", len(pages.bad))
			break
		}
		t.Errorf("page failed during the storm: %s", b)
	}
	if len(pages.took) < 40 {
		t.Errorf("only %d page requests during the storm; the console was not exercised", len(pages.took))
	}
	var hookTook []time.Duration
	for _, o := range hooks.out {
		hookTook = append(hookTook, o.Done.Sub(o.Sent))
		if !is2xx(o.Status) {
			t.Errorf("webhook %s during the storm: status %d %s", o.CallID, o.Status, o.Err)
		}
		ackedIDs = append(ackedIDs, o.CallID)
	}
	t.Logf("webhooks during the storm: %s", latencies(hookTook))
	if bad := storedOnce(t, conn, ackedIDs); len(bad) > 0 {
		t.Errorf("%d acknowledged deliveries not stored exactly once, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
	if n := q(integrityQuery); n != 0 {
		t.Errorf("%d half-written deliveries", n)
	}

	// Every action in its documented end state, with no effect twice.
	refunds := map[string][]stripefake.Refund{}
	for _, r := range stripeFake.Refunds() {
		refunds[r.Charge] = append(refunds[r.Charge], r)
	}
	// The refund requests that reached the fake (not the hung ones), by charge.
	keysByCharge, postsByCharge := map[string]map[string]bool{}, map[string][]stripefake.Request{}
	for _, r := range stripeFake.Requests() {
		if r.Method == http.MethodPost && r.Path == "/v1/refunds" {
			ch := r.Form.Get("charge")
			if keysByCharge[ch] == nil {
				keysByCharge[ch] = map[string]bool{}
			}
			keysByCharge[ch][r.IdempotencyKey] = true
			postsByCharge[ch] = append(postsByCharge[ch], r)
		}
	}
	replayed, wantRefunds := 0, 0
	type jobRow struct {
		state                    string
		attempt, errors, snoozes int
	}
	job := func(actionID int64) jobRow {
		var j jobRow
		err := conn.QueryRow(ctx, `SELECT state, attempt, coalesce(array_length(errors, 1), 0),
			coalesce((metadata->>'snoozes')::int, 0) FROM river_job WHERE kind = 'connector_action'
			AND (args->>'action_id')::bigint = $1`, actionID).Scan(&j.state, &j.attempt, &j.errors, &j.snoozes)
		if err != nil {
			t.Fatalf("job of action %d: %v", actionID, err)
		}
		return j
	}
	for _, m := range members {
		g, id := m.g, m.a.ActionID
		var status, lastError, receiptID, caseStatus string
		var attempts int
		if err := conn.QueryRow(ctx, `SELECT a.status, a.last_error, a.receipt_id, a.attempts, c.status
			FROM actions a JOIN cases c ON c.id = a.case_id WHERE a.id = $1`, id).
			Scan(&status, &lastError, &receiptID, &attempts, &caseStatus); err != nil {
			t.Fatal(err)
		}
		j := job(id)
		what := fmt.Sprintf("%s: action %d", g.name, id)
		if g.status == "queued" && status == "running" {
			status = "queued" // caught between two snoozes
		}
		if status != g.status {
			t.Errorf("%s: status %q, want %q (last error %q)", what, status, g.status, lastError)
			continue
		}
		switch g.status {
		case "done":
			if j.state != "completed" || j.attempt != g.attempt || j.errors != g.failures || j.snoozes != g.snoozes {
				t.Errorf("%s: job %+v, want completed at attempt %d with %d errors and %d snoozes", what, j, g.attempt, g.failures, g.snoozes)
			}
			// Every run counts on the action row, the snoozed ones too.
			if want := g.failures + g.snoozes + 1; attempts != want {
				t.Errorf("%s: %d runs recorded on the action, want %d", what, attempts, want)
			}
			if caseStatus != "done" || lastError != "" || receiptID == "" {
				t.Errorf("%s: case %q, last error %q, receipt %q", what, caseStatus, lastError, receiptID)
			}
			if n := q(`SELECT count(*) FROM audit_log WHERE action = 'action.executed' AND object_id = $1`, strconv.FormatInt(id, 10)); n != 1 {
				t.Errorf("%s: %d action.executed entries, want 1", what, n)
			}
		case "failed":
			if j.state != "discarded" || j.attempt != g.attempt || j.errors != g.failures || j.snoozes != 0 {
				t.Errorf("%s: job %+v, want discarded after %d attempts", what, j, g.attempt)
			}
			if want := fmt.Sprintf("Gave up after %d attempts: stripe: refund: temporary failure", stripeCap); !strings.HasPrefix(lastError, want) {
				t.Errorf("%s: last error %q, want it to start %q", what, lastError, want)
			}
			if caseStatus != "needs_attention" {
				t.Errorf("%s: case %q, want needs_attention", what, caseStatus)
			}
			if n := q(`SELECT count(*) FROM audit_log WHERE action = 'action.failed' AND object_id = $1`, strconv.FormatInt(id, 10)); n != 1 {
				t.Errorf("%s: %d action.failed entries, want 1", what, n)
			}
			var alertID int64
			var reason, alertStatus string
			if err := conn.QueryRow(ctx, `SELECT id, reason, status FROM connector_alerts WHERE action_id = $1`, id).
				Scan(&alertID, &reason, &alertStatus); err != nil {
				t.Errorf("%s: alert: %v", what, err)
			} else if reason != "failed" || alertStatus != "done" {
				t.Errorf("%s: alert %d reason %q status %q", what, alertID, reason, alertStatus)
			} else if n := slackFake.CountByActionID("alert-" + strconv.FormatInt(alertID, 10)); n != 1 {
				t.Errorf("%s: alert %d posted %d times to Slack, want once", what, alertID, n)
			}
		case "queued":
			// Still waiting as the provider asks: snoozes used no attempt, so it is
			// neither failed nor alerted, however many 429s it met.
			if j.attempt > 1 || j.errors != 0 || j.snoozes < g.snoozes || (j.state != "available" && j.state != "running" && j.state != "scheduled") {
				t.Errorf("%s: job %+v, want live at attempt ≤ 1, no errors, ≥ %d snoozes", what, j, g.snoozes)
			}
			if !strings.HasPrefix(lastError, "Waiting 1s as the provider asked") && lastError != "" {
				t.Errorf("%s: last error %q", what, lastError)
			}
			if n := q(`SELECT count(*) FROM connector_alerts WHERE action_id = $1`, id); n != 0 {
				t.Errorf("%s: %d alerts for an action that is only waiting", what, n)
			}
		}
		switch g.connector {
		case jobs.Stripe:
			if n := len(refunds[m.charge]); n != g.effects {
				t.Errorf("%s: %d refunds of charge %s, want %d", what, n, m.charge, g.effects)
			} else if n == 1 && receiptID != refunds[m.charge][0].ID {
				t.Errorf("%s: receipt %q, want the refund %s", what, receiptID, refunds[m.charge][0].ID)
			}
			wantRefunds += g.effects
			if len(keysByCharge[m.charge]) > 1 {
				t.Errorf("%s: idempotency keys %v, want one for every attempt", what, keysByCharge[m.charge])
			}
			if g.script.at(0) == hangAfter {
				// The refund was made on the first request, whose answer never arrived;
				// the retry with the same key got Stripe's replayed answer.
				if posts := postsByCharge[m.charge]; len(posts) != 2 || posts[1].Status != http.StatusOK {
					t.Errorf("%s: %d refund requests reached Stripe, want 2 (the lost answer and its replay)", what, len(posts))
				} else {
					replayed++
				}
			}
		case jobs.Slack:
			if n := slackFake.CountByActionID("action-" + strconv.FormatInt(id, 10)); n != g.effects {
				t.Errorf("%s: %d Slack messages, want %d", what, n, g.effects)
			}
		}
	}
	if n := stripeFake.RefundCount(); n != wantRefunds {
		t.Errorf("refunds at the fake = %d, want %d (one per Stripe action that ended done)", n, wantRefunds)
	}

	// The person sees why: the failed action's case page names the cap.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+paths[1], nil)
	req.AddCookie(admin)
	if resp, err := client.Do(req); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), fmt.Sprintf("Gave up after %d attempts", stripeCap)) {
			t.Errorf("GET %s after the storm: %d, want 200 naming the %d attempts", paths[1], resp.StatusCode, stripeCap)
		}
	}

	var total int
	var ends []string
	for gi := range groups {
		g := &groups[gi]
		total += g.n
		var last time.Time
		for _, m := range members {
			if m.g == g && g.status != "queued" {
				var at time.Time
				_ = conn.QueryRow(ctx, `SELECT updated_at FROM actions WHERE id = $1`, m.a.ActionID).Scan(&at)
				if at.After(last) {
					last = at
				}
			}
		}
		if !last.IsZero() {
			ends = append(ends, fmt.Sprintf("%s %s", g.name, last.Sub(stormStart).Round(100*time.Millisecond)))
		}
	}
	t.Logf("connector storm: last action of each group settled after: %s", strings.Join(ends, "; "))
	t.Logf("connector storm: %d actions approved in %s, all in their end state %s after the first approval (%d done, %d failed after %d attempts with an alert each, %d still waiting after more 429s than the cap)",
		total, approvedIn.Round(time.Millisecond), storm.Round(100*time.Millisecond), wantDone, wantFailed, stripeCap, len(forever429))
	t.Logf("connector storm: Stripe refund requests %s; Slack posts %s; %d refunds, %d of them answered only on the replay",
		stripeProxy.summary(), slackProxy.summary(), stripeFake.RefundCount(), replayed)
	t.Logf("connector storm: %d webhooks delivered during the storm, all acknowledged and stored once", len(hooks.out))
}
