package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/devidp"
)

// demoStory gives the demo calls' cases the history a team would have after a month:
// cases are dated when their call came in (spread over the last 30 days) and, through
// the console's own routes as the demo personas, some are awaiting approval (one with
// one of two approvals), one is approved and executed, one rejected, and one refund
// failed at Stripe (the sandbox refuses it as already refunded). Each step that finds
// no fitting case is skipped; the log says what was done.
func demoStory(ctx context.Context, c console) {
	base := c.cfg.BaseURL.String()
	users, err := demoSessions(ctx, c)
	if err != nil {
		c.log.Warn("demo story: personas", "err", err)
		return
	}
	if err := c.db.Gorm.WithContext(ctx).Exec(`UPDATE cases c SET created_at = k.initiated_at FROM calls k
		WHERE k.id = c.call_id AND k.initiated_at IS NOT NULL AND k.initiated_at < c.created_at`).Error; err != nil {
		c.log.Warn("demo story: date cases", "err", err)
	}
	waitForJobs(ctx, c, 45*time.Second)
	story := &storyTeller{c: c, base: base, users: users, client: &http.Client{Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	told := map[string]int64{}
	pick := func(what, where string, args ...any) int64 {
		var id int64
		_ = c.db.Gorm.WithContext(ctx).Raw(`SELECT c.id FROM cases c WHERE c.status = 'new' AND `+where+` ORDER BY c.id LIMIT 1`, args...).Scan(&id).Error
		if id > 0 {
			told[what] = id
		}
		return id
	}
	// Executed: a refund one approver may decide.
	if id := pick("executed", `c.kind = 'refund' AND c.currency = 'USD' AND c.amount_minor BETWEEN 10000 AND 99999`); id > 0 {
		story.request("sam", id)
		story.approve("felix", id, "Charge after cancellation confirmed in Stripe.")
	}
	// Rejected: a dispute finance turns down.
	if id := pick("rejected", `c.kind = 'dispute'`); id > 0 {
		story.request("sam", id)
		story.post("felix", id, "reject", url.Values{"reason": {"insufficient_evidence"}, "note": {"Only one charge on the statement; asked the customer for the bank statement."}})
	}
	// Failed: three refunds the sandbox's Stripe refuses as already refunded, one for
	// each way a person can handle them (retry, cancel, resolved outside).
	for i := range 3 {
		id := pick("failed_"+strconv.Itoa(i+1), `c.kind = 'refund' AND c.currency = 'USD' AND c.amount_minor < 100000`)
		if id == 0 || c.sandbox == nil || c.sandbox.Stripe == nil {
			break
		}
		waitForJobs(ctx, c, 15*time.Second)
		c.sandbox.Stripe.FailNext(1, http.StatusBadRequest, "charge_already_refunded", 0)
		story.request("sam", id) // a small verified refund is approved automatically
		var st string
		_ = c.db.Gorm.WithContext(ctx).Raw(`SELECT status FROM cases WHERE id = ?`, id).Scan(&st).Error
		if st == "awaiting_approval" {
			story.approve("felix", id, "")
		}
		waitForJobs(ctx, c, 15*time.Second)
	}
	// Awaiting with one of two approvals: a large refund Felix approved.
	if id := pick("one_of_two", `c.kind = 'refund' AND c.currency = 'USD' AND c.amount_minor BETWEEN 100000 AND 499999`); id > 0 {
		story.request("sam", id)
		story.approve("felix", id, "Invoice and cancellation date match; second approver please confirm.")
	}
	// A billing correction the claim check sent to review: Sam confirms the kind;
	// the plan corrects the customer the claim check found by the caller's email.
	if id := pick("billing_correction", `c.kind = 'review' AND c.suspected_kind = 'billing_correction'`); id > 0 {
		story.post("sam", id, "reclassify", url.Values{"kind": {"billing_correction"}})
		story.request("sam", id)
	}
	// Awaiting approval: one of each kind that is ready.
	for _, k := range []string{"refund", "collections", "dispute", "document_resend", "refund"} {
		if id := pick("awaiting_"+k, `c.kind = ?`, k); id > 0 {
			story.request("sam", id)
		}
	}
	b, _ := json.Marshal(told)
	c.log.Info("demo story told", "cases", string(b), "failed_steps", story.failed)
}

// storyTeller posts the console's forms as the demo personas.
type storyTeller struct {
	c      console
	base   string
	users  map[string]*http.Cookie
	client *http.Client
	failed int
}

func (s *storyTeller) request(who string, id int64) {
	s.post(who, id, "request-approval", url.Values{"note": {"Checked the call and the invoice."}})
}

func (s *storyTeller) approve(who string, id int64, comment string) {
	fp, err := approval.CurrentFingerprint(context.Background(), s.c.db.Gorm, id)
	if err != nil {
		s.failed++
		return
	}
	s.post(who, id, "approve", url.Values{"fingerprint": {fp}, "confirm": {"yes"}, "comment": {comment}})
}

func (s *storyTeller) post(who string, id int64, action string, form url.Values) {
	req, _ := http.NewRequest(http.MethodPost, s.base+"/cases/"+strconv.FormatInt(id, 10)+"/"+action, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", s.base)
	req.AddCookie(s.users[who])
	resp, err := s.client.Do(req)
	if err != nil {
		s.failed++
		return
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		s.failed++
		s.c.log.Info("demo story step refused", "case", id, "action", action, "as", who, "status", resp.StatusCode, "said", strings.TrimSpace(string(msg)))
	}
}

// demoSessions creates the demo personas' users (as their first sign-in would) and a
// session for each, returning their session cookies by persona subject.
func demoSessions(ctx context.Context, c console) (map[string]*http.Cookie, error) {
	out := map[string]*http.Cookie{}
	https := c.cfg.BaseURL.Scheme == "https"
	name := auth.SessionCookieName(https)
	codecs := auth.Codecs(c.cfg.SessionKeys, "session", c.cfg.SessionLifetime)
	for _, p := range devidp.DefaultPersonas() {
		roles, _ := json.Marshal(auth.MapRoles(p.Groups, c.cfg.RoleMap))
		var id int64
		err := c.db.Gorm.WithContext(ctx).Raw(`INSERT INTO users (issuer, subject, email, name, roles, last_login_at)
			VALUES (?, ?, ?, ?, ARRAY(SELECT jsonb_array_elements_text(CAST(? AS jsonb))), now())
			ON CONFLICT (issuer, subject) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
			c.cfg.OIDCIssuer, p.Subject, p.Email, p.Name, string(roles)).Row().Scan(&id)
		if err != nil {
			return nil, fmt.Errorf("user %s: %w", p.Subject, err)
		}
		token, _, err := auth.CreateSessionTx(ctx, c.db.Gorm, auth.NewSession{UserID: id, Lifetime: time.Hour, UserAgent: "countersign demo story"})
		if err != nil {
			return nil, err
		}
		v, err := auth.EncodeSessionToken(codecs, name, token)
		if err != nil {
			return nil, err
		}
		out[p.Subject] = &http.Cookie{Name: name, Value: v}
	}
	return out, nil
}

// waitForJobs waits until no connector or enrichment job is about to run (or max).
func waitForJobs(ctx context.Context, c console, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		var n int64
		// A job snoozed for a minute behind a failed action is not work in progress.
		_ = c.db.Gorm.WithContext(ctx).Raw(`SELECT (SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable', 'pending')
			OR (state = 'scheduled' AND scheduled_at < now() + interval '5 seconds')) + (SELECT count(*) FROM job_outbox)`).Scan(&n).Error
		if n == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}
