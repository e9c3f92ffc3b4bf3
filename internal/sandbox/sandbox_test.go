package sandbox_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/demo"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/testdb"
)

const seed, calls = 0xC0FFEE, 60

func startSandbox(t *testing.T) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.Start(config.Connectors{}, sandbox.Options{Demo: true, DemoSeed: seed, DemoCalls: calls, Names: []string{"all"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)
	return sb
}

func client(sb *sandbox.Sandbox) *stripe.Client {
	return stripe.New(stripe.Config{BaseURL: sb.Connectors.StripeURL, FilesURL: sb.Connectors.StripeFilesURL, Key: sb.Connectors.StripeKey})
}

// The dev account survives a restart: a second sandbox on the same database finds
// the first one's objects and effects, so a refund on a demo charge works after
// Ctrl-C.
func TestDemoAccountSurvivesRestart(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	first := startSandbox(t)
	if err := first.Persist(ctx, db.Gorm); err != nil {
		t.Fatal(err)
	}
	c := client(first)
	if _, err := c.Refund(ctx, stripe.RefundParams{Charge: "ch_SandboxINV20931", AmountMinor: 1000, Currency: "USD", IdempotencyKey: "before-restart"}); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := startSandbox(t)
	if err := second.Persist(ctx, db.Gorm); err != nil {
		t.Fatal(err)
	}
	c = client(second)
	ch, err := c.GetCharge(ctx, "ch_SandboxINV20931")
	if err != nil || ch.AmountRefunded != 1000 {
		t.Fatalf("after restart the charge is %+v (%v), want 10.00 USD already refunded", ch, err)
	}
	if _, err := c.Refund(ctx, stripe.RefundParams{Charge: ch.ID, AmountMinor: 2000, Currency: "USD", IdempotencyKey: "after-restart"}); err != nil {
		t.Fatalf("refund after restart: %v", err)
	}
}

// The seeded account does not echo the callers: of the demo calls' invoices, most
// are found with the claimed amount, and some are unknown, some differ in amount,
// some charges are already refunded; some disputed charges have a Stripe dispute.
func TestDemoAccountHasARealisticSpread(t *testing.T) {
	sb := startSandbox(t)
	ctx := context.Background()
	c := client(sb)
	count := map[string]int{}
	seen := map[string]bool{}
	for i := range calls {
		body, _ := demo.Call(seed, i, time.Now())
		var ev struct {
			Payload struct {
				Call struct {
					A *struct {
						Invoice  string      `json:"invoice_number"`
						Currency string      `json:"currency"`
						Amount   json.Number `json:"amount"`
						Intent   string      `json:"call_intent"`
					} `json:"post_call_analysis"`
				} `json:"call"`
			} `json:"payload"`
		}
		if json.Unmarshal(body, &ev) != nil || ev.Payload.Call.A == nil || ev.Payload.Call.A.Amount == "" || seen[ev.Payload.Call.A.Invoice] {
			continue
		}
		a := ev.Payload.Call.A
		seen[a.Invoice] = true
		claimed, err := money.ParseMajor(a.Amount.String(), a.Currency)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := c.FindInvoiceByNumber(ctx, a.Invoice)
		switch {
		case err != nil:
			t.Fatal(err)
		case inv == nil:
			count["unknown"]++
		case inv.AmountMinor != claimed.Minor:
			count["other amount"]++
		default:
			count["matches"]++
		}
		if inv != nil && a.Intent == "refund_request" {
			if paid, err := c.InvoiceCharge(ctx, inv.ID); err == nil {
				if ch, err := c.GetCharge(ctx, paid.Charge); err == nil && ch.Refunded {
					count["refunded"]++
				}
			}
		}
	}
	for _, k := range []string{"unknown", "other amount", "matches"} {
		if count[k] == 0 {
			t.Errorf("no %q claims in the demo account: %v", k, count)
		}
	}
	if count["matches"] <= count["unknown"]+count["other amount"] {
		t.Errorf("most claims should match: %v", count)
	}
	if len(sb.DisputeEvents(time.Now())) == 0 {
		t.Errorf("no Stripe disputes in the demo account")
	}
	t.Logf("demo claims against the sandbox account: %v", count)
}

// The Slack sandbox has every configured channel, under the same id on every start
// (plans store ids), and keeps them in Postgres: a channel a stored plan names still
// exists after a restart that no longer configures it.
func TestSlackChannelsSurviveRestart(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	start := func(channels map[string]string) *sandbox.Sandbox {
		sb, err := sandbox.Start(config.Connectors{SlackChannels: channels}, sandbox.Options{Names: []string{"slack"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(sb.Close)
		if err := sb.Persist(ctx, db.Gorm); err != nil {
			t.Fatal(err)
		}
		return sb
	}
	idOf := func(sb *sandbox.Sandbox, name string) string {
		for id, n := range sb.Slack.Channels() {
			if n == name {
				return id
			}
		}
		return ""
	}
	first := start(map[string]string{"vip_blocker": "#finance-vip", "chargeback": "#disputes"})
	vip, disputes := idOf(first, "finance-vip"), idOf(first, "disputes")
	if vip == "" || disputes == "" || idOf(first, "finance-approvals") == "" {
		t.Fatalf("configured channels missing: %v", first.Slack.Channels())
	}
	first.Close()

	second := start(map[string]string{"vip_blocker": "#finance-vip"})
	if got := idOf(second, "finance-vip"); got != vip {
		t.Errorf("#finance-vip is %q after a restart, was %q", got, vip)
	}
	if got := idOf(second, "disputes"); got != disputes {
		t.Errorf("#disputes (no longer configured) is %q after a restart, was %q", got, disputes)
	}
	if second.Connectors.SlackChannels["default"] != "#finance-approvals" {
		t.Errorf("channels %v, want the default", second.Connectors.SlackChannels)
	}
}

// The dev account holds real documents: the demo invoice's PDF, its charge's
// numbered receipt, and a credit note for a refund of it.
func TestDemoAccountServesDocuments(t *testing.T) {
	sb := startSandbox(t)
	c := client(sb)
	ctx := context.Background()
	d, err := c.InvoiceDocument(ctx, "INV-20931")
	if err != nil || d.Customer != "cus_SandboxJordan" {
		t.Fatalf("invoice %+v %v", d, err)
	}
	pdf, err := c.FetchPDF(ctx, d.PDFURL)
	if err != nil || !strings.Contains(string(pdf), "Jordan Lee") {
		t.Fatalf("pdf %v", err)
	}
	ch, err := c.ChargeDocument(ctx, "ch_SandboxINV20931")
	if err != nil || ch.Number != "R-20931" {
		t.Fatalf("receipt %+v %v", ch, err)
	}
	rc, err := c.Refund(ctx, stripe.RefundParams{Charge: ch.ID, AmountMinor: 900, Currency: "USD", IdempotencyKey: "demo-refund"})
	if err != nil {
		t.Fatal(err)
	}
	cn, err := c.CreateCreditNote(ctx, stripe.CreditNoteParams{Invoice: d.ID, AmountMinor: 900, Refund: rc.ExternalID, IdempotencyKey: "demo-cn"})
	if err != nil || cn.PDFURL == "" {
		t.Fatalf("credit note %+v %v", cn, err)
	}
}
