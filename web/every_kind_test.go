package web_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/connector"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/demo"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/models"
)

// TestEveryDemoKindEndToEnd follows one case of each kind in the demo data from
// its signed webhook to its receipts: the demo calls are posted to the real
// route, enrichment checks them against the sandbox ledger, a support lead asks
// for approval (verifying the customer's address where a document goes out),
// finance approvers decide, and the approved actions run against the sandbox
// fakes. Every action of every case must end done, each with its receipt, and
// every connector must have been called on its real wire format.
func TestEveryDemoKindEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("posts the demo calls and runs every connector")
	}
	const seed, calls = 0xC0FFEE, 60 // as `countersign dev` posts them
	w := newWorkflow(t, nil, func(sb *sandbox.Sandbox) {
		sb.Recorder = connector.NewRecorder(1 << 16)
		sb.SeedAccount(seed, calls, time.Now().UTC())
	})
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range calls {
		body, _ := demo.Call(seed, i, now.Add(-time.Duration(calls-i)*30*24*time.Hour/calls))
		w.post(body)
	}
	w.awaitLong("enrichment done", `SELECT NOT EXISTS (SELECT 1 FROM job_outbox) AND NOT EXISTS (SELECT 1 FROM river_job
		WHERE kind IN ('enrich', 'backfill') AND state NOT IN ('completed', 'cancelled', 'discarded'))`)

	// Stripe tells of the sandbox account's open disputes, as `countersign dev` replays them.
	for _, ev := range w.sb.DisputeEvents(time.Now()) {
		req, _ := http.NewRequest("POST", w.ts.URL+"/webhooks/stripe", bytes.NewReader(ev))
		req.Header.Set("Stripe-Signature", stripe.SignWebhook(ev, w.sb.StripeWebhookSecret, time.Now()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sandbox dispute event: %d", resp.StatusCode)
		}
	}
	svc := w.g.App.Approvals
	lead := w.principal("lead", auth.SupportLead)
	// The billing correction the claim check sent to review: the lead confirms the
	// kind, as in the demo story; the plan corrects the customer the claim check
	// found by the caller's email.
	var review int64
	w.db.Gorm.Raw(`SELECT id FROM cases WHERE kind = 'review' AND suspected_kind = 'billing_correction' ORDER BY id LIMIT 1`).Scan(&review)
	if review == 0 {
		t.Fatal("the demo data has no billing correction")
	}
	if _, err := console.ChangeOne(ctx, w.db.Gorm, lead, review, console.Action{Name: console.ActReclassify, Kind: "billing_correction"}); err != nil {
		t.Fatal(err)
	}

	approvers := []*auth.Principal{w.principal("fin1", auth.FinanceApprover), w.principal("fin2", auth.FinanceApprover)}
	kinds := []string{"refund", "dispute", "collections", "document_resend", "billing_correction", "payment_blocker"}
	chosen := map[string]int64{}
	for _, kind := range kinds {
		var ids []int64
		w.db.Gorm.Raw(`SELECT id FROM cases WHERE kind = ? AND status IN ('new', 'triaged') ORDER BY id`, kind).Scan(&ids)
		if len(ids) == 0 {
			t.Errorf("the demo data has no open %s case", kind)
			continue
		}
		var last error
		for _, id := range ids {
			res, err := svc.RequestApproval(ctx, lead, id, "")
			if err != nil && strings.Contains(err.Error(), "verif") {
				// A document goes only to a verified address: the lead calls the customer back.
				var email string
				w.db.Gorm.Raw(`SELECT COALESCE(NULLIF(l.fields->>'customer_email', ''), '') FROM cases k JOIN calls l ON l.id = k.call_id
					WHERE k.id = ?`, id).Scan(&email)
				if email != "" {
					if verr := svc.VerifyRecipient(ctx, lead, id, email, "call_back", "Called the number on file; the customer confirmed the address."); verr != nil {
						t.Fatalf("verify recipient of case %d: %v", id, verr)
					}
					res, err = svc.RequestApproval(ctx, lead, id, "")
				}
			}
			if err != nil {
				last = err
				continue
			}
			for _, a := range approvers {
				if res.Status != models.StatusAwaitingApproval {
					break
				}
				if res, err = svc.Approve(ctx, a, id, res.Fingerprint); err != nil {
					t.Fatalf("approve %s case %d: %v", kind, id, err)
				}
			}
			if res.Status != models.StatusExecuting && res.Status != models.StatusDone {
				t.Fatalf("%s case %d is %s after approval", kind, id, res.Status)
			}
			chosen[kind] = id
			break
		}
		if chosen[kind] == 0 {
			t.Errorf("no %s case of the demo could be approved; last refusal: %v", kind, last)
		}
	}
	w.awaitLong("every chosen case settled", `SELECT NOT EXISTS (SELECT 1 FROM actions WHERE status IN ('queued', 'running')
		AND case_id IN (SELECT unnest(?::bigint[])))`, pgArray(chosen))

	for _, kind := range kinds {
		id := chosen[kind]
		if id == 0 {
			continue
		}
		var acts []struct {
			Connector string `gorm:"column:connector"`
			Operation string `gorm:"column:operation"`
			Status    string `gorm:"column:status"`
			ReceiptID string `gorm:"column:receipt_id"`
			LastError string `gorm:"column:last_error"`
		}
		w.db.Gorm.Raw(`SELECT connector, operation, status, COALESCE(receipt_id, '') AS receipt_id, COALESCE(last_error, '') AS last_error
			FROM actions WHERE case_id = ? AND status <> 'cancelled' ORDER BY position`, id).Scan(&acts)
		var status string
		w.db.Gorm.Raw(`SELECT status FROM cases WHERE id = ?`, id).Scan(&status)
		if len(acts) == 0 {
			t.Errorf("%s case %d: no actions", kind, id)
		}
		for _, a := range acts {
			t.Logf("%s case %d: %s %s → %s %s %s", kind, id, a.Connector, a.Operation, a.Status, a.ReceiptID, a.LastError)
			if a.Status != "done" || a.ReceiptID == "" {
				t.Errorf("%s case %d: %s %s is %s (receipt %q): %s", kind, id, a.Connector, a.Operation, a.Status, a.ReceiptID, a.LastError)
			}
		}
		if status != "done" {
			t.Errorf("%s case %d is %s, want done", kind, id, status)
		}
	}
	// One request per connector and operation, as the fake received it (the
	// recorder scrubs secrets), for whoever reads the test's verbose output.
	seen := map[string]bool{}
	for _, r := range w.sb.Recorder.Requests() {
		key := r.Connector + " " + r.Method + " " + strings.SplitN(r.URL, "?", 2)[0]
		if !seen[key] && r.Method != "GET" {
			t.Logf("example payload: %s\n%s", key, r.Body[:min(len(r.Body), 1500)])
		}
		seen[key], seen[r.Connector] = true, true
	}
	for _, c := range []string{"stripe", "slack", "zendesk", "email", "drive", "sheets"} {
		if !seen[c] {
			t.Errorf("no request reached the %s fake", c)
		}
	}
}

func pgArray(m map[string]int64) string {
	var parts []string
	for _, id := range m {
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
