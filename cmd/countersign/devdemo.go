package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"

	"github.com/countersign/countersign/internal/connector/stripe"
)

// demoSeed fixes the first start's demo calls, so a restart never posts new ones;
// the sandbox's Stripe account is built from the same calls (internal/sandbox).
const (
	demoSeed  = 0xC0FFEE
	demoCalls = 60
)

// seedDemo posts demo calls through the console's own webhook (the same path DialNexa
// uses) when the database has no calls yet, so a new user's queues are not empty;
// then the sandbox's open disputes arrive as signed Stripe webhooks, as Stripe
// would send them.
func seedDemo(ctx context.Context, c console, secrets devSecrets) {
	var n int64
	if err := c.db.Gorm.WithContext(ctx).Raw(`SELECT count(*) FROM calls`).Scan(&n).Error; err != nil || n > 0 {
		return
	}
	c.log.Info("empty database: posting demo calls through the webhook")
	base := c.cfg.BaseURL.String()
	sum, err := postDemoCalls(ctx, base+"/webhooks/dialnexa", secrets.DialNexaSecret, demoSeed, demoCalls, io.Discard)
	if err != nil {
		c.log.Warn("demo calls not all posted", "err", err)
		return
	}
	c.log.Info("demo calls ingested", "stored", sum["stored"], "duplicate", sum["duplicate"])
	postSandboxDisputes(ctx, c, base)
	demoStory(ctx, c)
	c.log.Info("demo ready: " + demoGuide)
}

// postSandboxDisputes delivers the sandbox account's open disputes as signed Stripe
// webhooks, as Stripe would send them, so dispute cases get their evidence deadline.
func postSandboxDisputes(ctx context.Context, c console, base string) {
	if c.sandbox == nil || c.sandbox.StripeWebhookSecret == "" {
		return
	}
	stored := 0
	for _, ev := range c.sandbox.DisputeEvents(time.Now()) {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/webhooks/stripe", bytes.NewReader(ev))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", stripe.SignWebhook(ev, c.sandbox.StripeWebhookSecret, time.Now()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.log.Warn("sandbox dispute event not posted", "err", err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			stored++
		}
	}
	c.log.Info("sandbox Stripe disputes delivered", "events", stored)
}

// demoGuide is the "try this" of the demo, printed at start and in the README.
const demoGuide = `try this —
  as Sam Support (support lead): open "All open", press j/k to move and a to assign, open a case, verify a recipient, request approval;
  as Fiona Finance (finance approver): you land on "Awaiting my approval"; open the case with 1 of 2 approvals, approve it with a comment and see the receipts; approve the invoice resend and see the invoice PDF in its receipts;
  as Felix Finance: open a failed refund from the dashboard's failures and retry it, cancel it, mark it resolved outside Countersign, or "Edit and ask again";
  as Audrey Auditor (auditor): you land on the audit log; press "Verify the audit chain", open a case and download its evidence bundle, then run: countersign audit verify --bundle FILE;
  as Ada Admin (admin): change the approval policy in the form and preview a sample case; on a case, follow "Sandbox requests" from an action to what it sent.
  Unanswered collection calls (no one picked up) are kept as calls, not cases, so there are fewer cases than calls.`
