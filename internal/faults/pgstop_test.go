//go:build faults

package faults

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/pgembed"
)

// TestPostgresStoppedMidLoad stops the database under a webhook load of ~100/s: while
// it is down no delivery is acknowledged, after it is back the same process recovers,
// every acknowledged delivery is stored, and every refused one stores exactly once when
// retried (reliability properties 9 and 49).
func TestPostgresStoppedMidLoad(t *testing.T) {
	dir := t.TempDir()
	// As root, pgembed runs Postgres as an unprivileged user, which must be able to enter
	// the temp dir and its parent.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	opt := pgembed.Options{DataDir: dir, Port: freePort(t)}
	cluster, err := pgembed.Start(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	var clusterMu sync.Mutex
	t.Cleanup(func() { clusterMu.Lock(); cluster.Stop(); clusterMu.Unlock() })
	srv := startServe(t, cluster.URL, sessionKey())

	ds := deliveries(0xfa017, 2000)
	stop := make(chan struct{})
	done := make(chan struct{})
	rec := &recorder{}
	go func() { defer close(done); load(rec, func(int) string { return srv.URL }, ds, 100, stop) }()

	time.Sleep(2 * time.Second)
	downBegin := time.Now()
	clusterMu.Lock()
	cluster.Stop()
	clusterMu.Unlock()
	down := time.Now() // from here on nothing can commit
	time.Sleep(3 * time.Second)
	upBegin := time.Now()
	clusterMu.Lock()
	cluster, err = pgembed.Start(ctx, opt)
	clusterMu.Unlock()
	if err != nil {
		close(stop)
		<-done
		t.Fatalf("restart Postgres: %v", err)
	}
	up := time.Now()
	t.Logf("Postgres stop took %s, down %s, restart took %s", down.Sub(downBegin).Round(time.Millisecond),
		upBegin.Sub(down).Round(time.Millisecond), up.Sub(upBegin).Round(time.Millisecond))

	// Keep loading until a delivery sent after the restart is acknowledged (bounded),
	// then two more seconds.
	var recovered time.Time
	for deadline := up.Add(30 * time.Second); recovered.IsZero() && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		recovered = rec.firstAck(up)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	<-done
	outs := rec.out
	if recovered.IsZero() {
		t.Fatalf("no delivery acknowledged within 30 s of Postgres accepting connections again")
	}
	t.Logf("recovery: first acknowledged delivery %s after Postgres accepted connections again",
		recovered.Sub(up).Round(time.Millisecond))

	var acked, refused, duringOutage, transport int
	var slowestRefusal time.Duration
	var retry []delivery
	byID := map[string]delivery{}
	for _, d := range ds {
		byID[d.CallID] = d
	}
	var ackedIDs []string
	for _, o := range outs {
		switch {
		case o.Status == 0:
			transport++
			retry = append(retry, byID[o.CallID])
		case is2xx(o.Status):
			acked++
			ackedIDs = append(ackedIDs, o.CallID)
		default:
			refused++
			slowestRefusal = max(slowestRefusal, o.Done.Sub(o.Sent))
			retry = append(retry, byID[o.CallID])
			if o.Status < 500 {
				t.Errorf("%s: status %d, want 2xx or 5xx", o.CallID, o.Status)
			}
		}
		// Sent after the server stopped and answered before the restart began: the
		// database was down for the whole request.
		if o.Sent.After(down) && o.Done.Before(upBegin) {
			duringOutage++
			if is2xx(o.Status) {
				t.Errorf("%s: acknowledged (%d) while Postgres was down", o.CallID, o.Status)
			}
		}
	}
	t.Logf("sent %d: %d acknowledged, %d refused (5xx, slowest refusal %s), %d transport errors; %d answered entirely during the outage",
		len(outs), acked, refused, slowestRefusal.Round(time.Millisecond), transport, duringOutage)
	if duringOutage < 100 {
		t.Errorf("only %d deliveries were answered while Postgres was down; the outage was not exercised", duringOutage)
	}

	db := connect(t, cluster.URL)
	if bad := storedOnce(t, db, ackedIDs); len(bad) > 0 {
		t.Errorf("%d acknowledged deliveries are lost or duplicated, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
	// Retry every refused delivery once, as DialNexa would.
	var retryIDs []string
	for _, d := range retry {
		o := postDelivery(srv.URL, d)
		if !is2xx(o.Status) {
			t.Errorf("retry of %s after recovery: status %d %s", d.CallID, o.Status, o.Err)
		}
		retryIDs = append(retryIDs, d.CallID)
	}
	// Retried back to back they are a burst: acknowledged from the webhook inbox and
	// filed a moment later.
	waitInboxFiled(t, db, time.Minute)
	if bad := storedOnce(t, db, retryIDs); len(bad) > 0 {
		t.Errorf("%d retried deliveries are not stored exactly once, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
	if n := scalar(t, db, integrityQuery); n != 0 {
		t.Errorf("%d half-written deliveries", n)
	}
	if !t.Failed() {
		t.Logf("retried %d refused deliveries: all stored exactly once", len(retry))
	}
}

// firstAck returns when the first delivery sent after t was acknowledged (zero: none yet).
func (r *recorder) firstAck(t time.Time) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first time.Time
	for _, o := range r.out {
		if is2xx(o.Status) && o.Sent.After(t) && (first.IsZero() || o.Done.Before(first)) {
			first = o.Done
		}
	}
	return first
}
