package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/countersign/countersign/internal/demo"
	"github.com/countersign/countersign/internal/dialnexa"
)

func init() {
	extraCommands = append(extraCommands,
		command{"bench-webhooks", "[--url URL] [--rate N] [--duration D] [--secret S]",
			"Load test: post signed deliveries at a constant arrival rate and report latency percentiles.", runBenchWebhooks},
	)
}

// webhookLoad is the result of one constant-rate run.
type webhookLoad struct {
	Rate       int
	Duration   time.Duration
	Sent       int64
	OK         int64
	Refused    int64 // answered 503: not stored, retry later (admission control, deadline)
	Errors     int64 // anything else but 200, connection errors and Dropped included
	Dropped    int64 // not sent because too many requests were already in flight
	Throughput float64
	// Latencies are of acknowledged (200) deliveries, from their scheduled send time.
	P50, P95   time.Duration
	P99, Max   time.Duration
	StatusSeen map[int]int64
	// PeakRSS is the largest VmRSS of the watched process seen during the run (bytes).
	PeakRSS int64
	// RefusedIDs are the DialNexa call ids answered 503 (only with keepIDs).
	RefusedIDs []string
}

func runBenchWebhooks(ctx context.Context, args []string) error {
	fs := newFlags("bench-webhooks", "[--url URL] [--rate N] [--duration D] [--secret S]",
		"Post signed, distinct DialNexa deliveries at a constant arrival rate (open model: a slow answer\n"+
			"does not slow the sender, and latency is measured from the scheduled send time) and print\n"+
			"throughput, p50/p95/p99/max latency and errors. Only loopback targets make sense here.")
	target := fs.String("url", "http://127.0.0.1:8080", "base URL of the running console")
	rate := fs.Int("rate", 1000, "deliveries per second (1 to 50000)")
	dur := fs.Duration("duration", 20*time.Second, "how long to send (1s to 10m)")
	secret := fs.String("secret", envOr("COUNTERSIGN_DEMO_SECRET", TestDialNexaSecret), "webhook secret to sign with")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed for distinct call ids")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkLoad(*rate, *dur); err != nil {
		return err
	}
	res, err := loadWebhooks(ctx, loadSpec{Endpoint: strings.TrimRight(*target, "/") + "/webhooks/dialnexa",
		Secret: *secret, Seed: *seed, Rate: *rate, Duration: *dur})
	if err != nil {
		return err
	}
	printLoad(os.Stdout, res)
	if res.Errors > 0 {
		return fmt.Errorf("%d of %d deliveries failed", res.Errors, res.Sent)
	}
	return nil
}

func checkLoad(rate int, dur time.Duration) error {
	if rate < 1 || rate > 50000 {
		return usageError{fmt.Sprintf("--rate %d is out of range: use 1 to 50000", rate)}
	}
	if dur < time.Second || dur > 10*time.Minute {
		return usageError{fmt.Sprintf("--duration %s is out of range: use 1s to 10m", dur)}
	}
	return nil
}

// loadSpec is one open-model run.
type loadSpec struct {
	Endpoint, Secret string
	Seed             uint64
	Rate             int
	Duration         time.Duration
	WatchPID         int  // sample this process's VmRSS during the run (0: none)
	KeepIDs          bool // record the call ids answered 503
}

// loadClient is shared by every run of a process, so that runs against different
// servers use the same client.
var loadClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
	MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second}}

// maxInflight bounds the client's own requests in flight (and so its connections).
const maxInflight = 2000

func loadWebhooks(ctx context.Context, spec loadSpec) (webhookLoad, error) {
	total := int(float64(spec.Rate) * spec.Duration.Seconds())
	// Bodies are made before the run when they fit in about 200 MB; beyond that (10x
	// overload runs) each sender makes its own.
	pre := total <= 60000
	type delivery struct {
		body    []byte
		sig, id string
	}
	now := time.Now().UTC()
	make1 := func(i int) delivery {
		b, id := demo.Call(spec.Seed, i, now)
		return delivery{b, dialnexa.Sign(b, spec.Secret), id}
	}
	var ds []delivery
	if pre {
		ds = make([]delivery, total)
		for i := range ds {
			ds[i] = make1(i)
		}
	}
	lat := make([]time.Duration, total)
	res := webhookLoad{Rate: spec.Rate, Duration: spec.Duration, StatusSeen: map[int]int64{}}
	stopRSS := watchRSS(spec.WatchPID, &res.PeakRSS)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var inflight atomic.Int64
	interval := time.Second / time.Duration(spec.Rate)
	start := time.Now()
	for i := range total {
		lat[i] = -1
		scheduled := start.Add(time.Duration(i) * interval)
		if d := time.Until(scheduled); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				stopRSS()
				return res, ctx.Err()
			}
		}
		if inflight.Load() >= maxInflight {
			atomic.AddInt64(&res.Dropped, 1)
			continue
		}
		inflight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inflight.Add(-1)
			var d delivery
			if pre {
				d = ds[i]
			} else {
				d = make1(i)
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", spec.Endpoint, bytes.NewReader(d.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-DialNexa-Signature", d.sig)
			resp, err := loadClient.Do(req)
			code := 0
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			took := time.Since(scheduled)
			mu.Lock()
			defer mu.Unlock()
			res.StatusSeen[code]++
			switch code {
			case http.StatusOK:
				res.OK++
				lat[i] = took
			case http.StatusServiceUnavailable:
				res.Refused++
				if spec.KeepIDs {
					res.RefusedIDs = append(res.RefusedIDs, d.id)
				}
			default:
				res.Errors++
			}
		}()
	}
	wg.Wait()
	stopRSS()
	elapsed := time.Since(start)
	res.Sent = int64(total) - res.Dropped
	res.Errors += res.Dropped
	res.Throughput = float64(res.OK) / elapsed.Seconds()
	ok := lat[:0:0]
	for _, l := range lat {
		if l >= 0 {
			ok = append(ok, l)
		}
	}
	slices.Sort(ok)
	pct := func(p float64) time.Duration {
		if len(ok) == 0 {
			return 0
		}
		return ok[min(len(ok)-1, int(p*float64(len(ok))))]
	}
	res.P50, res.P95, res.P99 = pct(.50), pct(.95), pct(.99)
	if len(ok) > 0 {
		res.Max = ok[len(ok)-1]
	}
	return res, nil
}

// watchRSS samples pid's resident memory every 50 ms into *peak until stopped.
func watchRSS(pid int, peak *int64) (stop func()) {
	if pid == 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if rss := procRSS(pid, "VmRSS"); rss > *peak {
				*peak = rss
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// procRSS reads a memory line (VmRSS, VmHWM) of /proc/pid/status, in bytes; 0 when
// it cannot.
func procRSS(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

func printLoad(w io.Writer, r webhookLoad) {
	fmt.Fprintf(w, "webhook ingest at %d/s for %s (open model)\n", r.Rate, r.Duration)
	fmt.Fprintf(w, "  sent %d  ok %d  refused %d  errors %d (dropped %d)  throughput %.0f/s\n", r.Sent, r.OK, r.Refused, r.Errors, r.Dropped, r.Throughput)
	fmt.Fprintf(w, "  latency p50 %s  p95 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
	if len(r.StatusSeen) > 1 || r.StatusSeen[200] != r.Sent {
		fmt.Fprintf(w, "  statuses %v (0 = connection error)\n", r.StatusSeen)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
