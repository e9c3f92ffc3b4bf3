package ingest_test

import (
	"context"
	"sync"
	"testing"

	"github.com/countersign/countersign/internal/ingest"
)

// TestOutboxRowsCommitWithTheDelivery: every new case gets exactly one claim-check
// outbox row, a completed call that came bare gets one backfill row, and a repeat
// delivery adds nothing. Queued is called once per delivery that wrote rows.
func TestOutboxRowsCommitWithTheDelivery(t *testing.T) {
	svc, db := newService(t)
	var mu sync.Mutex
	wakes := 0
	svc.Queued = func() { mu.Lock(); wakes++; mu.Unlock() }
	ctx := context.Background()

	res, err := svc.Ingest(ctx, sample(t, "refund-request.json"))
	if err != nil || len(res.CaseIDs) != 1 || res.Queued != 1 {
		t.Fatalf("refund sample: %+v, %v; want one case and one queued job", res, err)
	}
	if n := count(t, db, `SELECT count(*) FROM job_outbox WHERE kind = 'enrich' AND case_id = ?`, res.CaseIDs[0]); n != 1 {
		t.Errorf("claim-check rows for the case = %d, want 1", n)
	}
	if again, err := svc.Ingest(ctx, sample(t, "refund-request.json")); err != nil || again.Outcome != ingest.Duplicate {
		t.Fatalf("repeat: %+v, %v", again, err)
	}

	bare := []byte(`{"event_type":"call_ended","payload":{"call":{"id":"call_bare01","direction":"inbound",
		"status":"completed","from_number":"14155550100","to_number":"18005550123"}}}`)
	res, err = svc.Ingest(ctx, bare)
	if err != nil || res.Outcome != ingest.Stored || len(res.CaseIDs) != 0 || res.Queued != 1 {
		t.Fatalf("bare call: %+v, %v; want stored with one queued backfill", res, err)
	}
	if n := count(t, db, `SELECT count(*) FROM job_outbox WHERE kind = 'backfill' AND call_id = ?`, res.CallID); n != 1 {
		t.Errorf("backfill rows = %d, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM job_outbox`); n != 2 {
		t.Errorf("outbox rows = %d, want 2 (nothing for the duplicate)", n)
	}
	if wakes != 2 {
		t.Errorf("Queued called %d times, want 2", wakes)
	}
}

// TestFailedDeliveryLeavesNothing: a delivery whose last round trip fails (here the
// audit insert, refused by a trigger the test installs) leaves no delivery, call,
// key, case or outbox row, and its connection does not go back to the pool
// mid-transaction.
func TestFailedDeliveryLeavesNothing(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	if err := db.Gorm.Exec(`CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
		CREATE TRIGGER test_refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse()`).Error; err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := svc.Ingest(ctx, sample(t, "refund-request.json")); err == nil {
			t.Fatal("ingest succeeded although its audit entry was refused")
		}
	}
	for _, q := range []string{`SELECT count(*) FROM webhook_deliveries`, `SELECT count(*) FROM calls`,
		`SELECT count(*) FROM call_keys`, `SELECT count(*) FROM cases`, `SELECT count(*) FROM job_outbox`,
		`SELECT count(*) FROM audit_log`} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%s = %d after failed deliveries, want 0", q, n)
		}
	}
	if err := db.Gorm.Exec(`DROP TRIGGER test_refuse ON audit_log`).Error; err != nil {
		t.Fatal(err)
	}
	for range 20 { // more than the pool's connections: none was left mid-transaction
		if res, err := svc.Ingest(ctx, sample(t, "refund-request.json")); err != nil {
			t.Fatalf("ingest after the failures: %v", err)
		} else if res.Outcome != ingest.Stored && res.Outcome != ingest.Duplicate {
			t.Fatalf("outcome %s", res.Outcome)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM cases`); n != 1 {
		t.Errorf("cases = %d after the retries, want 1", n)
	}
}
