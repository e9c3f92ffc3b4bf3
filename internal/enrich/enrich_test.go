package enrich_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/connector/stripe"
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
	svc := &enrich.Service{DB: db.Gorm, Stripe: sc, InvoiceCharge: sb.InvoiceCharge, Ingest: in}
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
}
