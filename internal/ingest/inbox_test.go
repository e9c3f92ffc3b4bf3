package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/load"
	"github.com/countersign/countersign/internal/triage"
	"github.com/countersign/countersign/internal/vault"
)

// inboxCall is a signed-and-verified-shaped call event with a VAT id and a card in
// its transcript.
func inboxCall(id string) []byte {
	b, _ := json.Marshal(map[string]any{"event_type": "call_ended", "payload": map[string]any{"call": map[string]any{
		"id": id, "status": "completed", "from_number": "14155550142",
		"transcript": []any{
			map[string]any{"role": "user", "text": "Please correct the invoice, our new VAT number is DE 978 401 563."},
			map[string]any{"role": "user", "text": "The card was 4242 4242 4242 4242."},
		},
		"summary":            "Caller wants the VAT number on invoice INV-20931 corrected.",
		"post_call_analysis": map[string]any{"call_intent": "billing_correction", "invoice_number": "INV-20931"},
	}}})
	return b
}

// During a burst a call event is acknowledged once it is durable in the inbox,
// redacted and with its restricted originals sealed; the processor steps aside
// while the burst lasts, then files every row exactly once, with its case, audit
// entry and vault entry, deleting the rows; a repeated delivery stays a duplicate.
func TestBurstAcknowledgedFromInboxThenFiledOnce(t *testing.T) {
	svc, db := newService(t)
	keys, err := vault.ParseKeys(vault.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	svc.Vault = keys
	svc.Load = &load.Gauge{}
	var busy atomic.Bool
	busy.Store(true)
	t.Cleanup(runInbox(svc, ingest.InboxOptions{Busy: busy.Load, MaxDefer: time.Minute}))
	waitFor(t, func() bool { return svc.InboxOn() })

	for i := range 20 {
		svc.Load.Add(ingest.InboxRate) // a burst is under way
		body := inboxCall(fmt.Sprintf("call_inbox_%02d", i))
		for range 1 + i%2 { // every other call delivered twice
			res, err := svc.Ingest(context.Background(), body)
			if err != nil || res.Outcome != ingest.Accepted {
				t.Fatalf("delivery %d during a burst: %+v, %v; want accepted", i, res, err)
			}
		}
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_inbox`); n != 30 {
		t.Fatalf("%d rows in the inbox, want 30", n)
	}
	var dump string
	db.Gorm.Raw(`SELECT string_agg(body::text || coalesce(encode(sealed_findings, 'escape'), ''), ' ') FROM webhook_inbox`).Scan(&dump)
	if strings.Contains(dump, "978 401") || strings.Contains(dump, "4242 4242") || !strings.Contains(dump, "[vat]") {
		t.Fatalf("the inbox holds unredacted values: %.300s", dump)
	}
	time.Sleep(300 * time.Millisecond)
	if n := count(t, db, `SELECT count(*) FROM calls`); n != 0 {
		t.Fatalf("%d calls filed while the burst lasts; the processor should step aside", n)
	}

	busy.Store(false)
	waitFor(t, func() bool { return count(t, db, `SELECT count(*) FROM webhook_inbox`) == 0 })
	if n := count(t, db, `SELECT count(*) FROM calls WHERE dialnexa_id LIKE 'call_inbox_%'`); n != 20 {
		t.Errorf("%d calls filed, want 20", n)
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE call_ref LIKE 'call_inbox_%'`); n != 20 {
		t.Errorf("%d deliveries recorded, want 20 (the repeats are duplicates)", n)
	}
	if n := count(t, db, `SELECT count(*) FROM cases c JOIN calls l ON l.id = c.call_id WHERE l.dialnexa_id LIKE 'call_inbox_%'`); n < 20 {
		t.Errorf("%d cases, want one at least per call", n)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'webhook.stored'`); n != 20 {
		t.Errorf("%d webhook.stored entries, want 20", n)
	}
	var callID int64
	db.Gorm.Raw(`SELECT id FROM calls WHERE dialnexa_id = 'call_inbox_07'`).Scan(&callID)
	got, err := keys.Open(context.Background(), db.Gorm, callID)
	if err != nil || len(got) != 1 || got[0].Value != "DE 978 401 563" {
		t.Errorf("vault entries of a filed call: %+v, %v (want the VAT id, never the card)", got, err)
	}
	if svc.InboxPending() != 0 {
		t.Errorf("pending %d after filing everything", svc.InboxPending())
	}
	// The burst over, a delivery is filed before it is answered, as always.
	time.Sleep(1100 * time.Millisecond)
	res, err := svc.Ingest(context.Background(), inboxCall("call_inbox_after"))
	if err != nil || res.Outcome != ingest.Stored || len(res.CaseIDs) == 0 {
		t.Errorf("after the burst: %+v, %v; want stored with its case", res, err)
	}
}

// The processor never lets a row wait longer than MaxDefer, burst or not, and what
// is left when it stops is filed on the way out.
func TestInboxDeferBoundedAndDrainedOnStop(t *testing.T) {
	svc, db := newService(t)
	svc.Load = &load.Gauge{}
	stop := runInbox(svc, ingest.InboxOptions{Busy: func() bool { return true }, MaxDefer: 500 * time.Millisecond})
	waitFor(t, func() bool { return svc.InboxOn() })
	svc.Load.Add(ingest.InboxRate)
	if res, err := svc.Ingest(context.Background(), inboxCall("call_inbox_deferred")); err != nil || res.Outcome != ingest.Accepted {
		t.Fatalf("%+v, %v", res, err)
	}
	waitFor(t, func() bool { return count(t, db, `SELECT count(*) FROM webhook_inbox`) == 0 })
	if n := count(t, db, `SELECT count(*) FROM calls WHERE dialnexa_id = 'call_inbox_deferred'`); n != 1 {
		t.Fatalf("%d calls after MaxDefer, want 1", n)
	}

	// Rows acknowledged just before the stop are filed by the stop.
	for i := range 5 {
		if res, err := svc.Ingest(context.Background(), inboxCall(fmt.Sprintf("call_inbox_stop_%d", i))); err != nil || res.Outcome != ingest.Accepted {
			t.Fatalf("%+v, %v", res, err)
		}
	}
	stop()
	if n := count(t, db, `SELECT count(*) FROM calls WHERE dialnexa_id LIKE 'call_inbox_stop_%'`); n != 5 {
		t.Errorf("%d of 5 acknowledged deliveries filed by the stop", n)
	}
	if svc.InboxOn() {
		t.Error("the inbox still takes deliveries after its processor stopped")
	}
}

// Rows a stopped (or killed) process left in the inbox are filed by the next start.
func TestInboxLeftoversFiledAtStart(t *testing.T) {
	svc, db := newService(t)
	svc.Load = &load.Gauge{}
	// Always busy, never waits out the burst, no time to drain: a crash, as far
	// as the inbox can tell.
	stop := runInbox(svc, ingest.InboxOptions{Busy: func() bool { return true }, MaxDefer: time.Hour, DrainOnStop: time.Nanosecond})
	waitFor(t, func() bool { return svc.InboxOn() })
	for i := range 3 {
		svc.Load.Add(ingest.InboxRate)
		if res, err := svc.Ingest(context.Background(), inboxCall(fmt.Sprintf("call_inbox_left_%d", i))); err != nil || res.Outcome != ingest.Accepted {
			t.Fatalf("%+v, %v", res, err)
		}
	}
	stop()
	if n := count(t, db, `SELECT count(*) FROM webhook_inbox`); n != 3 {
		t.Fatalf("%d rows left in the inbox, want 3", n)
	}

	next, _ := newServiceOn(db)
	t.Cleanup(runInbox(next, ingest.InboxOptions{}))
	waitFor(t, func() bool { return count(t, db, `SELECT count(*) FROM webhook_inbox`) == 0 })
	if n := count(t, db, `SELECT count(*) FROM calls WHERE dialnexa_id LIKE 'call_inbox_left_%'`); n != 3 {
		t.Errorf("%d of 3 left deliveries filed by the next start", n)
	}
}

func newServiceOn(db *database.DB) (*ingest.Service, *database.DB) {
	return &ingest.Service{Pool: db.Pool, Mapping: triage.DefaultMapping(), BaseURL: "http://console.test"}, db
}

// runInbox runs svc's inbox processor until the returned stop, which waits for it
// (its drain included).
func runInbox(svc *ingest.Service, o ingest.InboxOptions) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svc.RunInbox(ctx, o)
	}()
	return func() { cancel(); <-done }
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
