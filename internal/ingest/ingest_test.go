package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/load"
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

func newService(t *testing.T) (*ingest.Service, *database.DB) {
	db := testdb.New(t)
	return &ingest.Service{Pool: db.Pool, Mapping: triage.DefaultMapping(), BaseURL: "http://console.test"}, db
}

func count(t *testing.T, db *database.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestSamplesBecomeCases(t *testing.T) {
	cases := []struct {
		file  string
		kinds []string
	}{
		{"refund-request.json", []string{"refund"}},
		{"charge-dispute.json", []string{"dispute"}},
		{"receipt-resend.json", []string{"document_resend"}},
		{"collections-promise-to-pay.json", []string{"collections"}},
		{"no-answer.json", nil},
	}
	svc, db := newService(t)
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res, err := svc.Ingest(ctx, sample(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != ingest.Stored || res.CallID == 0 {
				t.Fatalf("outcome %s call %d", res.Outcome, res.CallID)
			}
			var kinds []string
			db.Gorm.Raw(`SELECT kind FROM cases WHERE call_id = ? ORDER BY kind`, res.CallID).Scan(&kinds)
			if strings.Join(kinds, ",") != strings.Join(c.kinds, ",") {
				t.Errorf("kinds = %v, want %v", kinds, c.kinds)
			}
		})
	}
	if n := count(t, db, `SELECT count(*) FROM calls WHERE status = 'hangup'`); n != 1 {
		t.Errorf("hangup calls kept = %d, want 1 (a collections attempt is a fact)", n)
	}
	var amount int64
	var cur, rec string
	db.Gorm.Raw(`SELECT amount_minor, currency, record_url FROM cases WHERE kind = 'refund'`).Row().Scan(&amount, &cur, &rec)
	if amount != 24900 || cur != "USD" || !strings.HasPrefix(rec, "http://console.test/cases/") {
		t.Errorf("refund case amount %d %s url %q, want 24900 USD and a record URL", amount, cur, rec)
	}
	var from string
	db.Gorm.Raw(`SELECT from_number FROM calls WHERE dialnexa_id = 'call_rf7k2m9q4xbt'`).Scan(&from)
	if from != "+14155550142" {
		t.Errorf("from_number = %q, want E.164", from)
	}
	if _, err := audit.Seal(ctx, db.Gorm); err != nil {
		t.Errorf("seal the audit chain: %v", err)
	}
	if r, err := audit.Verify(ctx, db.Gorm, nil); err != nil || len(r.Problems) > 0 || r.Entries == 0 {
		t.Errorf("audit chain after ingest: %+v %v", r, err)
	}
}

func TestDuplicatesAreIdempotent(t *testing.T) {
	svc, db := newService(t)
	// Every delivery counts towards "busy", duplicates too (a stopped clock: however
	// long the deliveries take, they stay in the gauge's last second).
	at := time.Now()
	svc.Load = load.NewGaugeWithClock(func() time.Time { return at })
	body := sample(t, "refund-request.json")
	ctx := context.Background()
	var wg sync.WaitGroup
	outcomes := make([]ingest.Outcome, 10)
	errs := make([]error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := svc.Ingest(ctx, body)
			outcomes[i], errs[i] = r.Outcome, err
		}()
	}
	wg.Wait()
	if n := svc.Load.PerSecond(); n != 10 {
		t.Errorf("load gauge counted %d deliveries in the last second, want 10", n)
	}
	stored := 0
	for i, o := range outcomes {
		if errs[i] != nil {
			t.Fatalf("attempt %d: %v", i, errs[i])
		}
		if o == ingest.Stored {
			stored++
		} else if o != ingest.Duplicate {
			t.Errorf("attempt %d: outcome %s", i, o)
		}
	}
	for range 10 {
		if r, err := svc.Ingest(ctx, body); err != nil || r.Outcome != ingest.Duplicate {
			t.Fatalf("sequential repeat: %s %v", r.Outcome, err)
		}
	}
	if stored != 1 {
		t.Errorf("stored %d times, want exactly once", stored)
	}
	for q, want := range map[string]int64{
		`SELECT count(*) FROM calls`:                                   1,
		`SELECT count(*) FROM cases`:                                   1,
		`SELECT count(*) FROM webhook_deliveries`:                      1,
		`SELECT count(*) FROM audit_log WHERE action = 'case.created'`: 1,
	} {
		if n := count(t, db, q); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
}

func TestLateInitiatedNeverRegresses(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	if _, err := svc.Ingest(ctx, sample(t, "refund-request.json")); err != nil {
		t.Fatal(err)
	}
	late := `{"event_type":"call_initiated","payload":{"call":{"id":"call_rf7k2m9q4xbt","status":"initiated","direction":"inbound","from_number":"14155550142"}}}`
	if r, err := svc.Ingest(ctx, []byte(late)); err != nil || r.Outcome != ingest.Stored {
		t.Fatalf("late initiated: %v %v", r.Outcome, err)
	}
	transfer := `{"event_type":"transfer_completed","payload":{"call":{"id":"call_rf7k2m9q4xbt","status":"completed"},"call_transfer":{"destination":"+14155550000","status":"completed"}}}`
	if _, err := svc.Ingest(ctx, []byte(transfer)); err != nil {
		t.Fatal(err)
	}
	var status, summary string
	var hasTransfer bool
	db.Gorm.Raw(`SELECT status, summary, transfer IS NOT NULL FROM calls WHERE dialnexa_id = 'call_rf7k2m9q4xbt'`).Row().Scan(&status, &summary, &hasTransfer)
	if status != "completed" || summary == "" || !hasTransfer {
		t.Errorf("after late events: status %q, summary kept %v, transfer %v", status, summary != "", hasTransfer)
	}
	if n := count(t, db, `SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("cases = %d, want 1", n)
	}
}

func TestCardNumbersNeverStored(t *testing.T) {
	svc, db := newService(t)
	body := `{"event_type":"call_ended","payload":{"call":{"id":"call_pan1","status":"completed","direction":"inbound",
	"from_number":"+14155550100","transcript":"Agent: How can I help?\nUser: Refund my card 4242 4242 4242 4242, cvv 123, I was double charged.",
	"summary":"Caller read card 4242424242424242 aloud and wants a refund.",
	"post_call_analysis":{"call_intent":"refund_request","amount":49.5,"currency":"EUR","refund_reason":"card four two four two four two four two four two four two four two four two"}}}}`
	res, err := svc.Ingest(context.Background(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if res.Suppressed.Total() < 3 {
		t.Errorf("suppressed %v, want card numbers and the cvv counted", res.Suppressed)
	}
	dump := ""
	for _, q := range []string{`SELECT body::text FROM webhook_deliveries`, `SELECT transcript::text || summary || fields::text || transcript_text FROM calls`,
		`SELECT string_agg(summary::text, '') FROM audit_log`} {
		var s string
		db.Gorm.Raw(q).Scan(&s)
		dump += s
	}
	if strings.Contains(strings.ReplaceAll(dump, " ", ""), "4242424242424242") || strings.Contains(dump, "cvv 123") {
		t.Fatalf("a card number or security code reached the database: %s", dump)
	}
	if !strings.Contains(dump, "[card •••• 4242]") {
		t.Errorf("expected the masked form in storage")
	}
}

func TestMalformedIsStoredAsRejected(t *testing.T) {
	svc, db := newService(t)
	_, err := svc.Ingest(context.Background(), []byte(`{"event_type":"call_ended","payload":{"call":{"id":`))
	if !errors.Is(err, ingest.ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE outcome = 'rejected'`); n != 1 {
		t.Errorf("rejected deliveries = %d, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM calls`); n != 0 {
		t.Errorf("calls = %d, want 0", n)
	}
}

func TestVerificationAndIgnored(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	if r, err := svc.Ingest(ctx, []byte(`{"message":"verify","timestamp":"2026-11-25T10:00:00Z"}`)); err != nil || r.Outcome != ingest.Verification {
		t.Fatalf("verification: %v %v", r.Outcome, err)
	}
	if r, err := svc.Ingest(ctx, []byte(`{"event_type":"agent_updated","payload":{}}`)); err != nil || r.Outcome != ingest.Ignored {
		t.Fatalf("ignored: %v %v", r.Outcome, err)
	}
	if n := count(t, db, `SELECT count(*) FROM calls`); n != 0 {
		t.Errorf("calls = %d, want 0", n)
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries`); n != 2 {
		t.Errorf("deliveries = %d, want 2", n)
	}
}
