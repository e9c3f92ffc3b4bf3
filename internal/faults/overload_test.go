//go:build faults

package faults

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign/internal/testdb"
)

// TestOverloadTruthfulAndBounded offers a `countersign serve` process 3,000
// deliveries a second for 8 s on loopback (6,000 and then 12,000 while it still keeps
// up: the point is more than this machine can store),
// and then compares every answer with the database: each acknowledged delivery is
// stored exactly once, no refused one (503) is stored at all, and the server's peak
// resident memory stays under 250 MB.
func TestOverloadTruthfulAndBounded(t *testing.T) {
	dbURL := testdb.NewURL(t)
	srv := startServe(t, dbURL, sessionKey())
	pid := srv.cmd.Process.Pid
	// 3,000/s overloads a busy 2-core machine; a quiet one can keep up with it, so
	// the offered rate doubles (at most twice, 8 s each) until the server refuses.
	const seconds = 8
	rec := &recorder{}
	rate := 3000
	for round := range 3 {
		rate = 3000 << round
		began := time.Now()
		load(rec, func(int) string { return srv.URL }, deliveries(0x0e710ad+uint64(round), rate*seconds), rate, nil)
		t.Logf("overload: round %d offered %d/s for %d s; all answered after %s; %d refused so far",
			round+1, rate, seconds, time.Since(began).Round(100*time.Millisecond), refusals(rec))
		if refusals(rec) > 0 {
			break
		}
	}

	var acked, refusedIDs []string
	transport, other := 0, map[int]int{}
	for _, o := range rec.out {
		switch {
		case o.Status == 0:
			transport++
		case is2xx(o.Status):
			acked = append(acked, o.CallID)
		case o.Status == 503:
			refusedIDs = append(refusedIDs, o.CallID)
		default:
			other[o.Status]++
		}
	}
	peak := peakRSS(t, pid)
	t.Logf("overload: offered %d (last round at %d/s): %d acknowledged, %d refused (503), %d transport errors, other %v; server peak RSS %d MB",
		len(rec.out), rate, len(acked), len(refusedIDs), transport, other, peak>>20)
	if len(acked) == 0 || len(refusedIDs) == 0 {
		t.Fatalf("%d acknowledged and %d refused: the test needs both to say anything", len(acked), len(refusedIDs))
	}
	if len(other) > 0 {
		t.Errorf("answers other than 200 and 503: %v", other)
	}
	db := connect(t, dbURL)
	// During the burst deliveries were acknowledged from the webhook inbox; the
	// processor files them once the burst is over.
	waitInboxFiled(t, db, 3*time.Minute)
	if bad := notStoredOnce(t, db, acked); len(bad) > 0 {
		t.Errorf("%d acknowledged deliveries are not stored exactly once, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
	if stored := storedAmong(t, db, refusedIDs); len(stored) > 0 {
		t.Errorf("BUG %d deliveries were answered 503 (not stored) but are stored, e.g. %v", len(stored), stored[:min(5, len(stored))])
	}
	if n := scalar(t, db, integrityQuery); n != 0 {
		t.Errorf("%d half-written deliveries", n)
	}
	if peak > 250<<20 {
		t.Errorf("server peak resident memory %d MB, want under 250 MB at any offered load", peak>>20)
	}
	if !strings.Contains(metrics(t, srv.URL), `outcome="overloaded"`) {
		t.Errorf("refusals are not counted on /metrics")
	}
}

// waitInboxFiled waits until the webhook inbox is empty (what a burst acknowledged
// is filed into calls and cases), failing after limit.
func waitInboxFiled(t *testing.T, c *pgx.Conn, limit time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		n := scalar(t, c, `SELECT count(*) FROM webhook_inbox`)
		if n == 0 {
			t.Logf("inbox filed %s after the load", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > limit {
			t.Fatalf("%d acknowledged deliveries still unfiled in the webhook inbox after %s", n, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storedAmong returns the call ids of ids that have a delivery row or a call. Hash
// joins, not a lookup per id: calls has no index on dialnexa_id (call_keys holds it).
func storedAmong(t *testing.T, c *pgx.Conn, ids []string) []string {
	t.Helper()
	return refs(t, c, `SELECT v.ref FROM unnest($1::text[]) AS v(ref)
		WHERE v.ref IN (SELECT call_ref FROM webhook_deliveries WHERE source = 'dialnexa')
		   OR v.ref IN (SELECT dialnexa_id FROM call_keys)
		   OR v.ref IN (SELECT dialnexa_id FROM calls)`, ids)
}

// notStoredOnce returns the call ids of ids without exactly one delivery row and one call.
func notStoredOnce(t *testing.T, c *pgx.Conn, ids []string) []string {
	t.Helper()
	return refs(t, c, `SELECT v.ref FROM unnest($1::text[]) AS v(ref)
		LEFT JOIN (SELECT call_ref, count(*) AS n FROM webhook_deliveries WHERE source = 'dialnexa' GROUP BY call_ref) d
			ON d.call_ref = v.ref
		LEFT JOIN (SELECT dialnexa_id, count(*) AS n FROM calls GROUP BY dialnexa_id) c ON c.dialnexa_id = v.ref
		WHERE coalesce(d.n, 0) <> 1 OR coalesce(c.n, 0) <> 1`, ids)
}

func refs(t *testing.T, c *pgx.Conn, q string, ids []string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rows, err := c.Query(ctx, q, ids)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// peakRSS is a process's peak resident memory (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &kb); err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

func metrics(t *testing.T, base string) string {
	t.Helper()
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// refusals counts the 503 answers rec holds so far.
func refusals(rec *recorder) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	n := 0
	for _, o := range rec.out {
		if o.Status == 503 {
			n++
		}
	}
	return n
}
