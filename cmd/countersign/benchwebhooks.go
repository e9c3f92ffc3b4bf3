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
	Errors     int64
	Dropped    int64 // not sent because too many requests were already in flight
	Throughput float64
	P50, P95   time.Duration
	P99, Max   time.Duration
	StatusSeen map[int]int64
}

func runBenchWebhooks(ctx context.Context, args []string) error {
	fs := newFlags("bench-webhooks", "[--url URL] [--rate N] [--duration D] [--secret S]",
		"Post signed, distinct DialNexa deliveries at a constant arrival rate (open model: a slow answer\n"+
			"does not slow the sender, and latency is measured from the scheduled send time) and print\n"+
			"throughput, p50/p95/p99/max latency and errors. Only loopback targets make sense here.")
	target := fs.String("url", "http://127.0.0.1:8080", "base URL of the running console")
	rate := fs.Int("rate", 1000, "deliveries per second (1 to 20000)")
	dur := fs.Duration("duration", 20*time.Second, "how long to send (1s to 10m)")
	secret := fs.String("secret", envOr("COUNTERSIGN_DEMO_SECRET", TestDialNexaSecret), "webhook secret to sign with")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "seed for distinct call ids")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *rate < 1 || *rate > 20000 {
		return usageError{fmt.Sprintf("--rate %d is out of range: use 1 to 20000", *rate)}
	}
	if *dur < time.Second || *dur > 10*time.Minute {
		return usageError{fmt.Sprintf("--duration %s is out of range: use 1s to 10m", *dur)}
	}
	res, err := loadWebhooks(ctx, strings.TrimRight(*target, "/")+"/webhooks/dialnexa", *secret, *seed, *rate, *dur)
	if err != nil {
		return err
	}
	printLoad(os.Stdout, res)
	if res.Errors > 0 {
		return fmt.Errorf("%d of %d deliveries failed", res.Errors, res.Sent)
	}
	return nil
}

func loadWebhooks(ctx context.Context, endpoint, secret string, seed uint64, rate int, dur time.Duration) (webhookLoad, error) {
	total := int(float64(rate) * dur.Seconds())
	bodies := make([][]byte, total)
	sigs := make([]string, total)
	now := time.Now().UTC()
	for i := range bodies {
		bodies[i], _ = demo.Call(seed, i, now)
		sigs[i] = dialnexa.Sign(bodies[i], secret)
	}
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: 30 * time.Second}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	lat := make([]time.Duration, total)
	res := webhookLoad{Rate: rate, Duration: dur, StatusSeen: map[int]int64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var inflight atomic.Int64
	const maxInflight = 2000
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range total {
		scheduled := start.Add(time.Duration(i) * interval)
		if d := time.Until(scheduled); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return res, ctx.Err()
			}
		}
		if inflight.Load() >= maxInflight {
			atomic.AddInt64(&res.Dropped, 1)
			lat[i] = -1
			continue
		}
		inflight.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer inflight.Add(-1)
			req, _ := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(bodies[i]))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-DialNexa-Signature", sigs[i])
			resp, err := client.Do(req)
			code := 0
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = resp.StatusCode
			}
			lat[i] = time.Since(scheduled)
			mu.Lock()
			res.StatusSeen[code]++
			mu.Unlock()
			if code == 200 {
				atomic.AddInt64(&res.OK, 1)
			} else {
				atomic.AddInt64(&res.Errors, 1)
			}
		}()
	}
	wg.Wait()
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

func printLoad(w io.Writer, r webhookLoad) {
	fmt.Fprintf(w, "webhook ingest at %d/s for %s (open model)\n", r.Rate, r.Duration)
	fmt.Fprintf(w, "  sent %d  ok %d  errors %d (dropped %d)  throughput %.0f/s\n", r.Sent, r.OK, r.Errors, r.Dropped, r.Throughput)
	fmt.Fprintf(w, "  latency p50 %s  p95 %s  p99 %s  max %s\n", ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max))
	if len(r.StatusSeen) > 1 || r.StatusSeen[200] != r.Sent {
		fmt.Fprintf(w, "  statuses %v (0 = connection error)\n", r.StatusSeen)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
