package enrich_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector/stripe"
	"github.com/countersign/countersign/internal/connector/stripe/stripefake"
	"github.com/countersign/countersign/internal/enrich"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/triage"
)

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "dialnexa", "testdata", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClaimChecks(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	sb, err := sandbox.Start(config.Connectors{}, sandbox.Options{All: true, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	sc := stripe.New(stripe.Config{BaseURL: sb.Connectors.StripeURL, Key: sb.Connectors.StripeKey})
	in := &ingest.Service{Pool: db.Pool, Mapping: triage.DefaultMapping()}
	svc := &enrich.Service{DB: db.Gorm, Stripe: sc, Ingest: in}
	caseOf := func(body []byte) int64 {
		t.Helper()
		res, err := in.Ingest(ctx, body)
		if err != nil || len(res.CaseIDs) != 1 {
			t.Fatalf("ingest: %v %+v", err, res)
		}
		return res.CaseIDs[0]
	}
	row := func(id int64) (kind, status string, conf float64) {
		db.Gorm.Raw(`SELECT k.kind, k.status, c.confidence FROM cases k JOIN claim_checks c ON c.case_id = k.id WHERE k.id = ?`, id).
			Row().Scan(&kind, &status, &conf)
		return
	}

	t.Run("matching invoice", func(t *testing.T) {
		id := caseOf(sample(t, "refund-request.json"))
		if err := svc.Check(ctx, id); err != nil {
			t.Fatal(err)
		}
		kind, status, conf := row(id)
		if kind != "refund" || status != "new" || conf < 0.8 {
			t.Errorf("case %s/%s confidence %.2f, want refund/new ≥ 0.8", kind, status, conf)
		}
		var objects []string
		db.Gorm.Raw(`SELECT object FROM billing_facts WHERE case_id = ? ORDER BY object`, id).Scan(&objects)
		if strings.Join(objects, ",") != "charge,invoice" {
			t.Errorf("facts %v, want charge and invoice", objects)
		}
		// The charge came from the invoice's payments (basil invoices name none):
		// its detail links it to the invoice.
		var detail string
		db.Gorm.Raw(`SELECT detail::text FROM billing_facts WHERE case_id = ? AND object = 'charge' AND external_id = 'ch_SandboxINV20931'`, id).Scan(&detail)
		if !strings.Contains(detail, `"invoice": "in_SandboxINV20931"`) || !strings.Contains(detail, `"invoice_payment": "inpay_`) ||
			!strings.Contains(detail, `"payment_intent": "pi_SandboxINV20931"`) {
			t.Errorf("charge detail %s", detail)
		}
	})

	t.Run("an invoice paid in parts without a paid default gets a note, not a guessed charge", func(t *testing.T) {
		f := sb.Stripe
		in := f.AddInvoice(stripefake.Invoice{ID: "in_Parts", Number: "INV-50060", Customer: "cus_SandboxJordan", CustomerEmail: "jordan.lee@example.com",
			Currency: "usd", Status: "paid", AmountDue: 24900, AmountPaid: 24900})
		for _, amount := range []int64{10000, 14900} {
			ch := f.AddCharge(stripefake.Charge{Amount: amount, Currency: "usd", Customer: "cus_SandboxJordan"})
			f.AddInvoicePayment(in, stripefake.InvoicePayment{Charge: ch, AmountRequested: amount, AmountPaid: amount})
		}
		id := caseOf([]byte(strings.NewReplacer("call_rf7k2m9q4xbt", "call_rf_parts", "INV-20931", "INV-50060").Replace(string(sample(t, "refund-request.json")))))
		if err := svc.Check(ctx, id); err != nil {
			t.Fatal(err)
		}
		var objects []string
		var note string
		db.Gorm.Raw(`SELECT object FROM billing_facts WHERE case_id = ? ORDER BY object`, id).Scan(&objects)
		db.Gorm.Raw(`SELECT note FROM claim_checks WHERE case_id = ?`, id).Scan(&note)
		if strings.Join(objects, ",") != "invoice" || !strings.Contains(note, "charge of invoice in_Parts: invoice in_Parts was paid in 2 payments") {
			t.Errorf("facts %v note %q", objects, note)
		}
	})

	t.Run("already refunded goes to review needs_info", func(t *testing.T) {
		if _, err := sc.Refund(ctx, stripe.RefundParams{Charge: "ch_SandboxINV20931", AmountMinor: 24900, IdempotencyKey: "test-prior-refund"}); err != nil {
			t.Fatal(err)
		}
		body := strings.Replace(string(sample(t, "refund-request.json")), "call_rf7k2m9q4xbt", "call_rf_second", 1)
		id := caseOf([]byte(body))
		if err := svc.Check(ctx, id); err != nil {
			t.Fatal(err)
		}
		kind, status, _ := row(id)
		if kind != "review" || status != "needs_info" {
			t.Errorf("case %s/%s, want review/needs_info", kind, status)
		}
		var suspected, reasons string
		db.Gorm.Raw(`SELECT suspected_kind, reasons::text FROM cases WHERE id = ?`, id).Row().Scan(&suspected, &reasons)
		if suspected != "refund" || !strings.Contains(reasons, "already refunded") {
			t.Errorf("suspected %q reasons %s", suspected, reasons)
		}
	})

	t.Run("unknown invoice is low confidence", func(t *testing.T) {
		body := strings.NewReplacer("call_rf7k2m9q4xbt", "call_rf_third", "INV-20931", "INV-99999").Replace(string(sample(t, "refund-request.json")))
		id := caseOf([]byte(body))
		if err := svc.Check(ctx, id); err != nil {
			t.Fatal(err)
		}
		kind, _, conf := row(id)
		if kind != "review" || conf >= enrich.ReviewThreshold {
			t.Errorf("case %s confidence %.2f, want review < %.1f", kind, conf, enrich.ReviewThreshold)
		}
	})

	routed := func(t *testing.T, call, replace string, with ...string) (kind string, reasons, route, score string, conf float64) {
		t.Helper()
		pairs := append([]string{"call_rf7k2m9q4xbt", call, "INV-20931", replace}, with...)
		id := caseOf([]byte(strings.NewReplacer(pairs...).Replace(string(sample(t, "refund-request.json")))))
		if err := svc.Check(ctx, id); err != nil {
			t.Fatal(err)
		}
		db.Gorm.Raw(`SELECT k.kind, k.reasons::text, c.route::text, c.score::text, c.confidence FROM cases k
			JOIN claim_checks c ON c.case_id = k.id WHERE k.id = ?`, id).Row().Scan(&kind, &reasons, &route, &score, &conf)
		return
	}

	t.Run("500 USD claimed on a 50.00 USD charge goes to review", func(t *testing.T) {
		sb.AddPaidInvoice("INV-50050", "jordan.lee@example.com", 5000, "USD")
		kind, reasons, route, score, conf := routed(t, "call_rf_fifty", "INV-50050", `"amount": 249.0`, `"amount": 500.0`)
		if kind != "review" || !strings.Contains(reasons, "amount 500.00 USD claimed, the ledger has 50.00 USD (outside the 1% tolerance)") {
			t.Errorf("case %s reasons %s", kind, reasons)
		}
		if !strings.Contains(route, "amount 500.00 USD claimed") || conf >= enrich.ReviewThreshold {
			t.Errorf("route %s confidence %.2f", route, conf)
		}
		if !strings.Contains(score, `"why": "ledger record found: invoice in_SandboxINV50050", "points": 0.5`) ||
			!strings.Contains(score, `"points": -0.25`) {
			t.Errorf("score %s", score)
		}
	})

	t.Run("a smaller refund is partial and stays", func(t *testing.T) {
		sb.AddPaidInvoice("INV-50051", "jordan.lee@example.com", 50000, "USD")
		kind, _, route, score, _ := routed(t, "call_rf_partial", "INV-50051")
		if kind != "refund" || route != "[]" || !strings.Contains(score, "partial amount: 249.00 USD of 500.00 USD") {
			t.Errorf("case %s route %s score %s", kind, route, score)
		}
	})

	t.Run("within tolerance stays", func(t *testing.T) {
		sb.AddPaidInvoice("INV-50052", "jordan.lee@example.com", 24700, "USD")
		kind, _, route, score, _ := routed(t, "call_rf_tol", "INV-50052")
		if kind != "refund" || route != "[]" || !strings.Contains(score, "amount within tolerance") {
			t.Errorf("case %s route %s score %s", kind, route, score)
		}
	})

	t.Run("another customer's invoice goes to review", func(t *testing.T) {
		sb.AddPaidInvoice("INV-50053", "someone.else@example.com", 24900, "USD")
		kind, reasons, _, score, _ := routed(t, "call_rf_other", "INV-50053", `"currency": "USD",`, `"currency": "USD", "customer_email": "jordan.lee@example.com",`)
		if kind != "review" || !strings.Contains(reasons, "customer does not match") {
			t.Errorf("case %s reasons %s score %s", kind, reasons, score)
		}
	})

	t.Run("no ledger record goes to review with the reason", func(t *testing.T) {
		kind, reasons, _, _, _ := routed(t, "call_rf_none", "INV-77777")
		if kind != "review" || !strings.Contains(reasons, "no ledger record for invoice INV-77777") {
			t.Errorf("case %s reasons %s", kind, reasons)
		}
	})
}
