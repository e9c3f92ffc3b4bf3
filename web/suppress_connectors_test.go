package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/auth/authtest"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/vault"
	"github.com/countersign/countersign/models"
)

// corpusCall is a billing call whose transcript, summary and extracted fields
// carry a batch of corpus sentences: a refund request on a paid invoice (even
// n) or a VIP whose payment is blocked (odd n, alerted in Slack at ingest).
func corpusCall(n int, batch []corpusValue, invoice string) []byte {
	var lines []string
	for _, v := range batch {
		lines = append(lines, v.text)
	}
	transcript := "Agent: Thanks for calling Acme billing.\n" + strings.Join(lines, "\n")
	analysis := map[string]any{"customer_name": "Jordan Lee", "customer_email": "jordan.lee@example.com",
		"refund_reason": batch[0].text, "promised_next_step": batch[len(batch)-1].text}
	summary := batch[len(batch)/2].text
	if n%2 == 0 {
		transcript += "\nUser: I want a refund of 120 dollars for invoice " + invoice + "."
		summary = "Caller requested a refund of USD 120 for invoice " + invoice + ". " + summary
		analysis["call_intent"], analysis["invoice_number"], analysis["amount"], analysis["currency"] = "refund_request", invoice, 120.0, "USD"
	} else {
		transcript += "\nUser: Our renewal failed and now our payment is blocked."
		summary = "VIP customer's renewal payment of 5400.00 USD failed; payment blocked. " + summary
		analysis["call_intent"], analysis["vip"], analysis["amount"], analysis["currency"] = "payment_blocked", true, 5400.0, "USD"
		analysis["subscription_id"] = "sub_DemoVIP01"
	}
	b, _ := json.Marshal(map[string]any{"event_type": "call_ended", "payload": map[string]any{"call": map[string]any{
		"id": fmt.Sprintf("call_t13_conn_%03d", n), "direction": "inbound", "status": "completed",
		"from_number": "14155550142", "to_number": "18005550199", "transcript": transcript, "summary": summary,
		"post_call_analysis": analysis}}})
	return b
}

// TestConnectorPayloadsCarryNoCorpusValue ingests every positive of the
// redactor's corpus through the real webhook, ten sentences a call, lets the
// at-ingest Slack alerts go out, approves every case so its connector jobs run
// against the sandbox fakes (Stripe, Slack, Zendesk, Gmail, Drive, Sheets),
// sweeps the exception queue into Sheets, and then requires that no request
// any fake received (URL or body, recorded unscrubbed) holds a corpus value or
// a card number's digits beyond the last four.
func TestConnectorPayloadsCarryNoCorpusValue(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every corpus value through the connector jobs")
	}
	w := newWorkflow(t, map[string]string{"COUNTERSIGN_VAULT_KEY": vault.NewKey()}, func(sb *sandbox.Sandbox) {
		sb.Recorder = connector.NewRecorder(1 << 20) // every request, not the page's last 500
		sb.Recorder.Unscrubbed = true
	})
	w.sb.Stripe.AddSubscription(stripefake.Subscription{ID: "sub_DemoVIP01", Customer: "cus_SandboxJordan", Status: "past_due", Currency: "usd"})
	values := readCorpusValues(t)
	const per = 10
	calls := 0
	for n := 0; n*per < len(values); n++ {
		invoice := fmt.Sprintf("INV-7%04d", n)
		w.sb.AddPaidInvoice(invoice, "jordan.lee@example.com", 12000, "USD")
		w.post(corpusCall(n, values[n*per:min(len(values), (n+1)*per)], invoice))
		calls++
	}
	w.await("every call a case", `SELECT count(DISTINCT l.id) = ? FROM cases k JOIN calls l ON l.id = k.call_id
		WHERE l.dialnexa_id LIKE 'call_t13_conn_%'`, calls)
	w.await("enrichment done", `SELECT NOT EXISTS (SELECT 1 FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded'))
		AND NOT EXISTS (SELECT 1 FROM job_outbox)`)
	w.approveAll()
	if err := w.g.Jobs.SweepExceptions(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Done when nothing runs or waits to run now; jobs a fake's rate limit or a
	// retry put in the future are left (their payloads were built and sent once).
	w.awaitLong("connector jobs done", `SELECT NOT EXISTS (SELECT 1 FROM actions WHERE status = 'running')
		AND NOT EXISTS (SELECT 1 FROM river_job WHERE state IN ('available', 'running', 'pending', 'retryable')
			OR (state = 'scheduled' AND scheduled_at < now() + interval '2 seconds'))
		AND NOT EXISTS (SELECT 1 FROM job_outbox)`)
	var left int64
	w.db.Gorm.Raw(`SELECT count(*) FROM river_job WHERE state = 'scheduled'`).Scan(&left)

	reqs := w.sb.Recorder.Requests()
	seen := map[string]int{}
	card := regexp.MustCompile(`\b\d(?:[ \-.]?\d){12,18}\b`) // a multipart boundary's hex is no card
	leaks, masked := 0, map[string]int{}
	mask := regexp.MustCompile(`\[(card|iban|vat|ssn|ein|itin|bank|tax)[^\]]*\]`)
	for _, r := range reqs {
		seen[r.Connector]++
		if mask.MatchString(r.Body) {
			masked[r.Connector]++
		}
		text := r.URL + "\n" + r.Body
		for _, v := range values {
			for _, form := range leakForms(v.value) {
				if strings.Contains(text, form) {
					leaks++
					t.Errorf("%s %s %s carries %s %q (as %q)", r.Connector, r.Method, r.URL, v.kind, v.value, form)
				}
			}
		}
		for _, m := range card.FindAllString(text, -1) {
			if !luhn(m) {
				continue
			}
			leaks++
			i := strings.Index(text, m)
			t.Errorf("%s %s %s carries card-like digits %q in …%s…", r.Connector, r.Method, r.URL, m, text[max(0, i-120):min(len(text), i+60)])
		}
	}
	for _, c := range []string{"stripe", "slack", "zendesk", "email", "drive", "sheets"} {
		if seen[c] == 0 {
			t.Errorf("no request reached the %s fake; the payload check proves nothing for it", c)
		}
	}
	// The corpus sentences did reach the payloads, as masks: otherwise no leak
	// would mean nothing.
	if len(masked) == 0 {
		t.Error("no request body carries a mask: the corpus text never reached a connector")
	}
	t.Logf("%d calls, %d corpus values, %d requests to the fakes %v (%d jobs scheduled later), bodies with masks %v, %d leaks",
		calls, len(values), len(reqs), seen, left, masked, leaks)
}

// approveAll requests approval of every case still new and approves it with
// as many finance approvers as the policy asks for; at least half must run.
func (w *workflow) approveAll() {
	w.t.Helper()
	ctx := context.Background()
	lead := w.principal("lead", auth.SupportLead)
	approvers := []*auth.Principal{w.principal("fin1", auth.FinanceApprover), w.principal("fin2", auth.FinanceApprover)}
	var ids []int64
	w.db.Gorm.Raw(`SELECT id FROM cases WHERE status IN ('new', 'triaged') ORDER BY id`).Scan(&ids)
	svc := w.g.App.Approvals
	approved, skipped := 0, map[string]int{}
	for _, id := range ids {
		res, err := svc.RequestApproval(ctx, lead, id, "")
		if err != nil { // a plan that cannot be approved as it stands (no charge to refund)
			skipped[err.Error()]++
			continue
		}
		for _, a := range approvers {
			if res.Status != models.StatusAwaitingApproval {
				break
			}
			if res, err = svc.Approve(ctx, a, id, res.Fingerprint); err != nil {
				w.t.Fatalf("approve case %d: %v", id, err)
			}
		}
		if res.Status == models.StatusExecuting {
			approved++
		}
	}
	w.t.Logf("%d of %d cases executing after approval; not approvable as they stand: %v", approved, len(ids), skipped)
	if approved < len(ids)/2 {
		w.t.Fatalf("only %d of %d cases could be approved", approved, len(ids))
	}
}

func (w *workflow) principal(name, role string) *auth.Principal {
	w.t.Helper()
	email := name + "@example.com"
	id := authtest.CreateUser(w.t, w.db, authtest.User{Subject: name, Email: email, Roles: []string{role}})
	return &auth.Principal{UserID: id, Email: email, Roles: []string{role}, AuthTime: time.Now()}
}

// awaitLong is await for work that takes longer than 15 s (a hundred cases'
// connector jobs on a shared machine): it polls for up to three minutes.
func (w *workflow) awaitLong(what, q string, args ...any) {
	w.t.Helper()
	for range 900 {
		var ok bool
		if err := w.db.Gorm.Raw(q, args...).Scan(&ok).Error; err != nil {
			w.t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	var states []string
	w.db.Gorm.Raw(`SELECT kind || ':' || state || ':' || coalesce(errors::text, '') FROM river_job WHERE state NOT IN ('completed') LIMIT 5`).Scan(&states)
	var acts []string
	w.db.Gorm.Raw(`SELECT connector || ':' || operation || ':' || status FROM actions WHERE status IN ('queued', 'running') LIMIT 5`).Scan(&acts)
	w.t.Fatalf("%s: not reached after 3 min; jobs %q, actions %q", what, states, acts)
}

// luhn reports whether the digits of s pass the Luhn check, as every card number does.
func luhn(s string) bool {
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if d < 0 || d > 9 {
			continue
		}
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum, double = sum+d, !double
	}
	return sum%10 == 0
}
