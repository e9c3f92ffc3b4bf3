package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/ingest"
)

// TestGroupCommitStoresEachEventOnce sends 120 distinct refund calls, each twice,
// plus, for the first 40, a transfer event of the same call (a new delivery that
// asks for the same case), all at once, so that batches hold several events and
// some hold two events of one call. Every event gets the answer it would get alone,
// and the database holds each delivery, call, case, outbox row and audit entry once.
func TestGroupCommitStoresEachEventOnce(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	base := sample(t, "refund-request.json")
	const calls = 120
	body := func(i int) []byte {
		return bytes.ReplaceAll(base, []byte("call_rf7k2m9q4xbt"), fmt.Appendf(nil, "call_gc%05d", i))
	}
	analysed := func(i int) []byte { // same call, another event: a new delivery, the same case
		return bytes.Replace(body(i), []byte(`"event_type": "call_ended"`), []byte(`"event_type": "transfer_completed"`), 1)
	}
	type sent struct {
		call int
		res  ingest.Result
		err  error
	}
	var mu sync.Mutex
	var got []sent
	var wg sync.WaitGroup
	post := func(call int, b []byte) {
		defer wg.Done()
		res, err := svc.Ingest(ctx, b)
		mu.Lock()
		got = append(got, sent{call, res, err})
		mu.Unlock()
	}
	for i := range calls {
		wg.Add(2)
		go post(i, body(i))
		go post(i, body(i))
		if i < 40 {
			wg.Add(1)
			go post(i, analysed(i))
		}
	}
	wg.Wait()

	stored, dup := map[int]int{}, map[int]int{}
	cases := map[int][]int64{}
	for _, s := range got {
		if s.err != nil {
			t.Fatalf("call %d: %v", s.call, s.err)
		}
		switch s.res.Outcome {
		case ingest.Stored:
			stored[s.call]++
			cases[s.call] = append(cases[s.call], s.res.CaseIDs...)
		case ingest.Duplicate:
			dup[s.call]++
		default:
			t.Fatalf("call %d: outcome %s", s.call, s.res.Outcome)
		}
	}
	for i := range calls {
		wantStored := 1
		if i < 40 {
			wantStored = 2
		}
		if stored[i] != wantStored || dup[i] != 1 {
			t.Errorf("call %d: %d stored, %d duplicate; want %d and 1", i, stored[i], dup[i], wantStored)
		}
		if len(cases[i]) != 1 {
			t.Errorf("call %d: results name cases %v, want exactly one", i, cases[i])
		}
	}
	for q, want := range map[string]int64{
		`SELECT count(*) FROM calls`:                                                    calls,
		`SELECT count(*) FROM call_keys`:                                                calls,
		`SELECT count(*) FROM cases`:                                                    calls,
		`SELECT count(*) FROM job_outbox WHERE kind = 'enrich'`:                         calls,
		`SELECT count(*) FROM audit_log WHERE action = 'case.created'`:                  calls,
		`SELECT count(DISTINCT object_id) FROM audit_log WHERE action = 'case.created'`: calls,
		`SELECT count(*) FROM webhook_deliveries WHERE outcome = 'stored'`:              int64(len(got) - len(dup)),
		`SELECT count(*) FROM audit_log WHERE action = 'webhook.stored'`:                int64(len(got) - len(dup)),
	} {
		if n := count(t, db, q); n != want {
			t.Errorf("%s = %d, want %d", q, n, want)
		}
	}
}

// TestBadEventFailsAlone: an event the database refuses fails on its own; the events
// that shared its batch are stored (the batch is retried event by event).
func TestBadEventFailsAlone(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	if err := db.Gorm.Exec(`CREATE FUNCTION test_refuse_call() RETURNS trigger LANGUAGE plpgsql AS
		$$ BEGIN IF NEW.dialnexa_id = 'call_gc_bad' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER test_refuse_call BEFORE INSERT ON call_keys FOR EACH ROW EXECUTE FUNCTION test_refuse_call()`).Error; err != nil {
		t.Fatal(err)
	}
	base := sample(t, "refund-request.json")
	var wg sync.WaitGroup
	errs := make([]error, 61)
	for i := range errs {
		id := fmt.Sprintf("call_gc_ok%03d", i)
		if i == 30 {
			id = "call_gc_bad"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = svc.Ingest(ctx, bytes.ReplaceAll(base, []byte("call_rf7k2m9q4xbt"), []byte(id)))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 30) != (err != nil) {
			t.Errorf("event %d: err = %v", i, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM calls`); n != 60 {
		t.Errorf("calls = %d, want 60", n)
	}
}

// TestDeadlineNeverRefusedButStored: 300 deliveries at once, a third with a deadline
// already past, a third with a deadline of a few milliseconds, a third without one.
// Whatever each caller was told must match the database: a refusal (ErrWithdrawn) is
// never stored, and an answer of stored or duplicate always is.
func TestDeadlineNeverRefusedButStored(t *testing.T) {
	svc, db := newService(t)
	base := sample(t, "refund-request.json")
	const n = 300
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			switch i % 3 {
			case 0:
				cancel()
			case 1:
				ctx, cancel = context.WithTimeout(context.Background(), time.Duration(i%7)*time.Millisecond)
			}
			defer cancel()
			_, errs[i] = svc.Ingest(ctx, bytes.ReplaceAll(base, []byte("call_rf7k2m9q4xbt"), fmt.Appendf(nil, "call_dl%04d", i)))
		}()
	}
	wg.Wait()
	stored := map[string]bool{}
	rows, err := db.Pool.Query(context.Background(), `SELECT call_ref FROM webhook_deliveries WHERE outcome = 'stored'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			t.Fatal(err)
		}
		stored[ref] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i, err := range errs {
		id := fmt.Sprintf("call_dl%04d", i)
		switch {
		case err == nil && !stored[id]:
			t.Errorf("%s: answered stored, not in the database", id)
		case err != nil && !errors.Is(err, ingest.ErrWithdrawn):
			t.Errorf("%s: %v, want nil or ErrWithdrawn", id, err)
		case err != nil && stored[id]:
			t.Errorf("%s: refused (%v) but stored", id, err)
		case err != nil:
			refused++
		}
	}
	if refused == 0 || refused == n {
		t.Errorf("%d of %d refused; the test needs some of each", refused, n)
	}
	t.Logf("%d of %d withdrawn before a flush took them, %d stored", refused, n, len(stored))
}

// TestCaseEntriesNameTheirCases: the statement that inserts a batch's cases writes
// its audit entries, in order (webhook.stored, then case.created for each case its
// event opened, with the case's id); a later event of the same call that asks for a
// case the call already has writes webhook.stored only. After sealing, the chain
// verifies.
func TestCaseEntriesNameTheirCases(t *testing.T) {
	svc, db := newService(t)
	ctx := context.Background()
	first := sample(t, "refund-request.json")
	res, err := svc.Ingest(ctx, first)
	if err != nil || res.Outcome != ingest.Stored || len(res.CaseIDs) == 0 {
		t.Fatalf("first event: %+v, %v; want stored with a case", res, err)
	}
	again := bytes.Replace(first, []byte(`"event_type": "call_ended"`), []byte(`"event_type": "transfer_completed"`), 1)
	res2, err := svc.Ingest(ctx, again)
	if err != nil || res2.Outcome != ingest.Stored || len(res2.CaseIDs) != 0 {
		t.Fatalf("second event: %+v, %v; want stored, no new case", res2, err)
	}
	rows, err := db.Pool.Query(ctx, `SELECT action, object_type, object_id FROM audit_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var action, typ, id string
		if err := rows.Scan(&action, &typ, &id); err != nil {
			t.Fatal(err)
		}
		got = append(got, action+" "+typ+" "+id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{fmt.Sprintf("webhook.stored call %d", res.CallID)}
	for _, id := range res.CaseIDs {
		want = append(want, fmt.Sprintf("case.created case %d", id))
	}
	want = append(want, fmt.Sprintf("webhook.stored call %d", res.CallID))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("audit entries:\n got %q\nwant %q", got, want)
	}
	if _, err := audit.Seal(ctx, db.Gorm); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, db.Gorm, nil)
	if err != nil || !rep.OK() || rep.Entries != int64(len(want)) {
		t.Errorf("verify: %+v, %v; want %d entries, no problems", rep, err, len(want))
	}
}
