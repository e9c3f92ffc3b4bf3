package faults

import (
	"syscall"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/testdb"
)

// TestSIGTERMUnderLoad sends SIGTERM to serve while deliveries are in flight: the
// process drains and exits 0 within 30 s, every acknowledged delivery is stored and no
// delivery is half-written (reliability property 49).
func TestSIGTERMUnderLoad(t *testing.T) {
	dbURL := testdb.NewURL(t)
	srv := startServe(t, dbURL, sessionKey())
	ds := deliveries(0x5157e, 1500)
	stop := make(chan struct{})
	done := make(chan struct{})
	rec := &recorder{}
	go func() { defer close(done); load(rec, func(int) string { return srv.URL }, ds, 300, stop) }()

	time.Sleep(2 * time.Second)
	term := time.Now()
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not exit within 30 s of SIGTERM")
	}
	drain := time.Since(term)
	if srv.err != nil {
		t.Errorf("serve exited with %v after SIGTERM, want exit status 0", srv.err)
	}
	time.Sleep(200 * time.Millisecond) // a few posts against the closed port
	close(stop)
	<-done

	var acked, refused, transport, inFlightAtTerm int
	var ackedIDs []string
	for _, o := range rec.out {
		if o.Sent.Before(term) && o.Done.After(term) {
			inFlightAtTerm++
		}
		switch {
		case o.Status == 0:
			transport++
		case is2xx(o.Status):
			acked++
			ackedIDs = append(ackedIDs, o.CallID)
		default:
			refused++
		}
	}
	t.Logf("SIGTERM drain: exited %s after the signal; %d in flight at SIGTERM; sent %d: %d acknowledged, %d refused, %d transport errors (after the listener closed)",
		drain.Round(time.Millisecond), inFlightAtTerm, len(rec.out), acked, refused, transport)
	if acked == 0 {
		t.Fatal("nothing was acknowledged; the load did not run")
	}
	db := connect(t, dbURL)
	if n := scalar(t, db, `SELECT count(*) FROM webhook_inbox`); n != 0 {
		t.Errorf("%d acknowledged deliveries left unfiled in the webhook inbox by a clean stop", n)
	}
	if bad := storedOnce(t, db, ackedIDs); len(bad) > 0 {
		t.Errorf("%d acknowledged deliveries are not stored exactly once, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
	if n := scalar(t, db, integrityQuery); n != 0 {
		t.Errorf("%d half-written deliveries (calls without delivery, deliveries without call, calls without audit entry)", n)
	}
	calls := scalar(t, db, "SELECT count(*) FROM calls")
	withCases := scalar(t, db, "SELECT count(DISTINCT call_id) FROM cases")
	t.Logf("stored %d calls for %d acknowledged deliveries; %d of the calls opened cases (the rest are unanswered attempts triage leaves alone)",
		calls, acked, withCases)
}
