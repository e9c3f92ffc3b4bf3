package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/jobs"
)

// step is what a scripted connector fake does with one request.
type step int

const (
	pass      step = iota // the fake handles it
	fail500               // 500 before any effect, in the fake's own error format
	fail503               // 503 likewise
	rate429               // 429 with Retry-After: 1 before any effect
	hang                  // no answer until the client gives up; nothing happens at the fake
	hangAfter             // the fake takes effect, the answer is withheld until the client gives up
)

var stepNames = map[step]string{pass: "passed", fail500: "500", fail503: "503", rate429: "429+Retry-After",
	hang: "hung", hangAfter: "effect then hung"}

// script is what the fake does with one object's requests: steps in order, then
// then for every later request.
type script struct {
	steps []step
	then  step
}

func (s script) at(n int) step {
	if n < len(s.steps) {
		return s.steps[n]
	}
	return s.then
}

// faultProxy sits in front of a connector fake (stripefake, slackfake) and scripts
// faults per object: key names the object a request is about (a Stripe charge, a
// Slack action id), "" for requests that are not scripted. Failures are answered by
// the fake itself, through its own fault injection (arm), so they carry the real
// wire format: Stripe's error JSON, Slack's 429 body or 5xx HTML page, Retry-After.
type faultProxy struct {
	next http.Handler
	key  func(r *http.Request, body []byte) string
	arm  func(status int, retryAfter time.Duration) // the fake fails its next request

	serial  sync.Mutex // one request at a time inside the fake, so an armed fault meets its own request
	stop    chan struct{}
	mu      sync.Mutex
	scripts map[string]script
	seen    map[string]int
	served  map[step]int
}

func newFaultProxy(next http.Handler, key func(*http.Request, []byte) string, arm func(int, time.Duration)) *faultProxy {
	return &faultProxy{next: next, key: key, arm: arm, stop: make(chan struct{}),
		scripts: map[string]script{}, seen: map[string]int{}, served: map[step]int{}}
}

// start serves p on loopback until the test ends.
func (p *faultProxy) start(t *testing.T) string {
	srv := httptest.NewServer(p)
	t.Cleanup(func() { close(p.stop); srv.Close() })
	return srv.URL
}

func (p *faultProxy) script(key string, s script) {
	p.mu.Lock()
	p.scripts[key] = s
	p.mu.Unlock()
}

// summary names how many scripted requests met each step.
func (p *faultProxy) summary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var parts []string
	for st := pass; st <= hangAfter; st++ {
		if n := p.served[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, stepNames[st]))
		}
	}
	return strings.Join(parts, ", ")
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	st := pass
	if k := p.key(r, body); k != "" {
		p.mu.Lock()
		if s, ok := p.scripts[k]; ok {
			st = s.at(p.seen[k])
			p.seen[k]++
			p.served[st]++
		}
		p.mu.Unlock()
	}
	switch st {
	case hang:
		p.holdUntilGone(r)
		return
	case hangAfter:
		p.serial.Lock()
		p.next.ServeHTTP(httptest.NewRecorder(), r)
		p.serial.Unlock()
		p.holdUntilGone(r)
		return
	}
	p.serial.Lock()
	defer p.serial.Unlock()
	switch st {
	case fail500:
		p.arm(http.StatusInternalServerError, 0)
	case fail503:
		p.arm(http.StatusServiceUnavailable, 0)
	case rate429:
		p.arm(http.StatusTooManyRequests, time.Second)
	}
	p.next.ServeHTTP(w, r)
}

// holdUntilGone answers nothing until the client hangs up (its timeout) or the test ends.
func (p *faultProxy) holdUntilGone(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.stop:
	}
}

// stripeRefundCharge keys Stripe refund requests by their charge.
func stripeRefundCharge(r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/refunds" {
		return ""
	}
	form, _ := url.ParseQuery(string(body))
	return form.Get("charge")
}

// slackPostRef keys Slack chat.postMessage requests by the action id in their
// message metadata ("action-12" for an action, "alert-3" for an alert).
func slackPostRef(r *http.Request, body []byte) string {
	if r.Method != http.MethodPost || r.URL.Path != "/api/chat.postMessage" {
		return ""
	}
	form, _ := url.ParseQuery(string(body))
	var meta struct {
		Payload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal([]byte(form.Get("metadata")), &meta) != nil {
		return ""
	}
	s, _ := meta.Payload["action_id"].(string)
	return s
}

// plannedAction is one connector action to approve, on a case of its own.
type plannedAction struct {
	Kind, Connector, Operation string
	Params                     any
}

// approvedAction is what approveActions made.
type approvedAction struct {
	CaseID, ActionID int64
}

// approveActions puts each planned action on a case of its own, on a call that came
// in through the webhook (so the calls stay consistent with their deliveries), and
// approves it as the decisions side does: in one transaction the action goes
// planned → queued, the case approved, and OnApproved inserts the job bound to the
// plan fingerprint. The jobs service here only inserts; the serve processes work.
// beforeCommit, when set, runs for each action before its job becomes visible.
func approveActions(t *testing.T, db *database.DB, plans []plannedAction, beforeCommit func(i int, a approvedAction)) []approvedAction {
	t.Helper()
	ctx := context.Background()
	svc, err := jobs.New(db, nil, jobs.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), NoPeriodic: true})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]approvedAction, 0, len(plans))
	for i, p := range plans {
		var a approvedAction
		params, _ := json.Marshal(p.Params)
		err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var call struct {
				ID         int64  `gorm:"column:id"`
				DialNexaID string `gorm:"column:dialnexa_id"`
			}
			res := tx.Raw(`SELECT c.id, c.dialnexa_id FROM calls c WHERE NOT EXISTS
				(SELECT 1 FROM cases k WHERE k.call_id = c.id AND k.kind = ?) ORDER BY c.id LIMIT 1`, p.Kind).Scan(&call)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return fmt.Errorf("no stored call without a %s case left; post more deliveries first", p.Kind)
			}
			if err := tx.Raw(`INSERT INTO cases (call_id, kind, status, customer_label) VALUES (?, ?, 'awaiting_approval', ?)
				RETURNING id`, call.ID, p.Kind, "Storm customer "+call.DialNexaID).Scan(&a.CaseID).Error; err != nil {
				return err
			}
			key := fmt.Sprintf("%s:%s:%d:0", call.DialNexaID, p.Operation, a.CaseID)
			if err := tx.Raw(`INSERT INTO actions (case_id, position, connector, operation, params, description, idempotency_key, status)
				VALUES (?, 0, ?, ?, ?::jsonb, ?, ?, 'queued') RETURNING id`, a.CaseID, p.Connector, p.Operation, string(params),
				p.Connector+" "+p.Operation+" (fault test)", key).Scan(&a.ActionID).Error; err != nil {
				return err
			}
			if err := tx.Exec(`UPDATE cases SET status = 'approved' WHERE id = ?`, a.CaseID).Error; err != nil {
				return err
			}
			fp, err := approval.CurrentFingerprint(ctx, tx, a.CaseID) // what serve's workers compare with
			if err != nil {
				return err
			}
			if err := svc.OnApproved(ctx, tx, a.CaseID, fp); err != nil {
				return err
			}
			if beforeCommit != nil {
				beforeCommit(i, a)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("approve %s %s: %v", p.Connector, p.Operation, err)
		}
		out = append(out, a)
	}
	return out
}

// pageRecorder collects console page requests made while a load runs.
type pageRecorder struct {
	mu     sync.Mutex
	took   []time.Duration
	byPath map[string]int
	bad    []string
}

// browse has users signed-in people request paths in turn (each starting at a
// different one, pausing think between requests) until stop is closed. A page must
// answer 200; the client's 10 s timeout only detects a hang.
func browse(rec *pageRecorder, base string, cookie *http.Cookie, paths []string, users int, think time.Duration, stop <-chan struct{}) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: users},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rec.mu.Lock()
	if rec.byPath == nil {
		rec.byPath = map[string]int{}
	}
	rec.mu.Unlock()
	var wg sync.WaitGroup
	for u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := u; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(think):
				}
				path := paths[i%len(paths)]
				req, _ := http.NewRequest(http.MethodGet, base+path, nil)
				req.AddCookie(cookie)
				start := time.Now()
				resp, err := c.Do(req)
				var status int
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					status = resp.StatusCode
				}
				took := time.Since(start)
				rec.mu.Lock()
				rec.took = append(rec.took, took)
				rec.byPath[path]++
				if err != nil || status != http.StatusOK {
					rec.bad = append(rec.bad, fmt.Sprintf("GET %s: status %d, error %v, after %s", path, status, err, took.Round(time.Millisecond)))
				}
				rec.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// latencies describes a sample: count, p50, p95, max.
func latencies(d []time.Duration) string {
	if len(d) == 0 {
		return "no requests"
	}
	s := slices.Clone(d)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) time.Duration {
		return s[min(len(s)-1, int(p*float64(len(s))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("%d requests, p50 %s, p95 %s, max %s", len(s), q(0.50), q(0.95), s[len(s)-1].Round(100*time.Microsecond))
}

// waitUntil polls ok every 100 ms until it holds or within passes.
func waitUntil(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
