package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

func init() {
	extraCommands = append(extraCommands,
		command{"bench-compare", "--countersign URL --bare URL [--countersign-pid N --bare-pid N] [--rate N] [--runs N]",
			"Load test: Countersign beside a bare receiver (bench-bare): p99 ratio, knee, RSS, 1x/3x/10x overload.", runBenchCompare},
	)
}

// compareSpec is one bench-compare session.
type compareSpec struct {
	cs, bare          string // webhook endpoints
	csPID, barePID    int
	secret            string
	rate, runs        int
	dur, kneeDur      time.Duration
	overloadDur       time.Duration
	kneeStep, kneeMax int
	seed              uint64
	ratioOnly         bool
	settleCPU         float64       // cores: the server's tree counts as idle below this
	settleMax         time.Duration // longest wait for it before a run
	settled           string        // how long the last run waited, for the table
	warmup            time.Duration // each server's unmeasured first run
}

func runBenchCompare(ctx context.Context, args []string) error {
	fs := newFlags("bench-compare", "--countersign URL --bare URL [--countersign-pid N --bare-pid N] [--rate N] [--runs N]",
		"With the same open-model client and the same Postgres, measure Countersign and a bare receiver\n"+
			"(countersign bench-bare: HMAC + one durable insert): the p99 at --rate in alternating runs and\n"+
			"its ratio, the knee (the highest rate, in steps of --knee-step, at which 99% are acknowledged\n"+
			"with a p99 under 1 s), resident memory, and Countersign offered 1x, 3x and 10x its knee:\n"+
			"acknowledged rate, refusals (503) and peak RSS. Medians of --runs runs. Loopback only.")
	var c compareSpec
	cs := fs.String("countersign", "http://127.0.0.1:8080", "Countersign's base URL")
	bare := fs.String("bare", "http://127.0.0.1:18091", "bench-bare's base URL")
	fs.IntVar(&c.csPID, "countersign-pid", 0, "Countersign's process id, for its resident memory")
	fs.IntVar(&c.barePID, "bare-pid", 0, "bench-bare's process id, for its resident memory")
	fs.StringVar(&c.secret, "secret", envOr("COUNTERSIGN_DEMO_SECRET", TestDialNexaSecret), "webhook secret to sign with")
	fs.IntVar(&c.rate, "rate", 1000, "rate of the side-by-side runs, per second")
	fs.IntVar(&c.runs, "runs", 3, "runs of each measurement (medians are reported)")
	fs.DurationVar(&c.dur, "duration", 10*time.Second, "length of each side-by-side run")
	fs.DurationVar(&c.kneeDur, "knee-duration", 4*time.Second, "length of each knee step")
	fs.DurationVar(&c.overloadDur, "overload-duration", 8*time.Second, "length of each overload run")
	fs.IntVar(&c.kneeStep, "knee-step", 500, "rate step of the knee search")
	fs.IntVar(&c.kneeMax, "knee-max", 6000, "highest rate the knee search tries")
	fs.BoolVar(&c.ratioOnly, "ratio-only", false, "only the side-by-side runs at --rate: no knee search, no overload")
	fs.Float64Var(&c.settleCPU, "settle-cpu", 0.05, "before each run, wait until Countersign's process tree (its private\n"+
		"Postgres included) uses less than this many cores for 2 s, so no run starts on the last one's backlog")
	fs.DurationVar(&c.settleMax, "settle-max", 5*time.Minute, "longest wait for --settle-cpu before a run")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "before the measured runs, offer each server a quarter of --rate for\n"+
		"this long, unmeasured, so that no run pays for opening connections and loading catalogs (0: none)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkLoad(c.rate, c.dur); err != nil {
		return err
	}
	if c.runs < 1 || c.runs > 9 || c.kneeStep < 50 || c.kneeMax < c.kneeStep {
		return usageError{"--runs must be 1 to 9, --knee-step at least 50 and --knee-max at least --knee-step"}
	}
	c.cs = strings.TrimRight(*cs, "/") + "/webhooks/dialnexa"
	c.bare = strings.TrimRight(*bare, "/") + "/webhooks/dialnexa"
	c.seed = uint64(time.Now().UnixNano())
	return c.run(ctx, os.Stdout)
}

func (c *compareSpec) load(ctx context.Context, endpoint string, pid, rate int, dur time.Duration) (webhookLoad, error) {
	c.seed++
	// Both servers share the machine and the Postgres, and Countersign's background
	// work (claim checks, search indexing, audit sealing) outlives a run by minutes.
	limit := c.settleMax
	if dur < c.dur || rate != c.rate {
		// Knee steps and overload runs: their 50-odd runs would take an hour waiting
		// out each other's claim checks; they wait at most 30 s.
		limit = min(limit, 30*time.Second)
	}
	waited, quiet := settle(ctx, c.csPID, c.settleCPU, limit)
	c.settled = settleNote(waited, quiet)
	return loadWebhooks(ctx, loadSpec{Endpoint: endpoint, Secret: c.secret, Seed: c.seed, Rate: rate,
		Duration: dur, WatchPID: pid})
}

func (c *compareSpec) run(ctx context.Context, w io.Writer) error {
	fmt.Fprintf(w, "Same client (open model), same Postgres; bare = HMAC + one durable INSERT (countersign bench-bare).\n\n")
	if c.warmup > 0 {
		rate := max(c.rate/4, 1)
		fmt.Fprintf(w, "  warm-up (not measured): %d/s for %s to each server\n\n", rate, c.warmup)
		for _, ep := range []string{c.bare, c.cs} {
			if _, err := c.load(ctx, ep, 0, rate, max(c.warmup, time.Second)); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(w, "%d/s for %s, %d runs each, alternating:\n\n", c.rate, c.dur, c.runs)
	fmt.Fprintf(w, "  %-3s %-11s %7s %7s %7s %6s %8s %8s %8s %8s %7s %8s\n", "run", "server", "sent", "ok", "refused", "errors",
		"p50", "p95", "p99", "max", "RSS MB", "settled")
	var bareP99, csP99 []time.Duration
	var bareRSS, csRSS []int64
	for i := range c.runs {
		for _, side := range []struct {
			name     string
			endpoint string
			pid      int
		}{{"bare", c.bare, c.barePID}, {"countersign", c.cs, c.csPID}} {
			r, err := c.load(ctx, side.endpoint, side.pid, c.rate, c.dur)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "  %-3d %-11s %7d %7d %7d %6d %8s %8s %8s %8s %7s %8s\n", i+1, side.name, r.Sent, r.OK, r.Refused,
				r.Errors, ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max), mb(r.PeakRSS), c.settled)
			if side.name == "bare" {
				bareP99, bareRSS = append(bareP99, r.P99), append(bareRSS, r.PeakRSS)
			} else {
				csP99, csRSS = append(csP99, r.P99), append(csRSS, r.PeakRSS)
			}
		}
	}
	bp, cp := median(bareP99), median(csP99)
	ratio := 0.0
	if bp > 0 {
		ratio = float64(cp) / float64(bp)
	}
	fmt.Fprintf(w, "\n  median p99 at %d/s: bare %s, countersign %s, ratio %.1fx; median peak RSS: bare %s MB, countersign %s MB\n\n",
		c.rate, ms(bp), ms(cp), ratio, mb(median(bareRSS)), mb(median(csRSS)))
	if c.ratioOnly {
		return nil
	}

	bareKnee, err := c.knee(ctx, w, "bare", c.bare, c.barePID)
	if err != nil {
		return err
	}
	csKnee, err := c.knee(ctx, w, "countersign", c.cs, c.csPID)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n  median knee: bare %d/s, countersign %d/s\n\n", bareKnee, csKnee)
	return c.overload(ctx, w, csKnee)
}

// knee steps the rate up from --knee-step until fewer than 99% are acknowledged or
// the p99 reaches 1 s, --runs times; the median of the last good rates is the knee.
func (c *compareSpec) knee(ctx context.Context, w io.Writer, name, endpoint string, pid int) (int, error) {
	var knees []int
	for range c.runs {
		good := 0
		var steps []string
		for rate := c.kneeStep; rate <= c.kneeMax; rate += c.kneeStep {
			r, err := c.load(ctx, endpoint, pid, rate, c.kneeDur)
			if err != nil {
				return 0, err
			}
			ok := float64(r.OK) >= 0.99*float64(int64(rate)*int64(c.kneeDur/time.Second)) && r.P99 < time.Second
			steps = append(steps, fmt.Sprintf("%d/s:%s", rate, map[bool]string{true: "ok", false: "over (ok " +
				fmt.Sprint(r.OK) + ", p99 " + ms(r.P99) + ")"}[ok]))
			if !ok {
				break
			}
			good = rate
		}
		fmt.Fprintf(w, "  knee search %-11s %s\n", name, strings.Join(steps, "  "))
		knees = append(knees, good)
	}
	return median(knees), nil
}

// overload offers Countersign 1x, 3x and 10x its knee.
func (c *compareSpec) overload(ctx context.Context, w io.Writer, knee int) error {
	if knee == 0 {
		knee = c.kneeStep
	}
	fmt.Fprintf(w, "Countersign offered 1x, 3x and 10x its knee (%d/s) for %s each:\n\n", knee, c.overloadDur)
	fmt.Fprintf(w, "  %-5s %8s %10s %9s %9s %8s %8s %8s %9s\n", "load", "offered", "sent/s", "acked/s", "refused", "errors",
		"dropped", "p99 ok", "peak RSS")
	for _, x := range []int{1, 3, 10} {
		rate := min(knee*x, 50000)
		r, err := c.load(ctx, c.cs, c.csPID, rate, c.overloadDur)
		if err != nil {
			return err
		}
		secs := c.overloadDur.Seconds()
		fmt.Fprintf(w, "  %-5s %7d/s %8.0f/s %7.0f/s %9d %8d %8d %8s %6s MB\n", fmt.Sprintf("%dx", x), rate,
			float64(r.Sent)/secs, r.Throughput, r.Refused, r.Errors-r.Dropped, r.Dropped, ms(r.P99), mb(r.PeakRSS))
	}
	if c.csPID != 0 {
		fmt.Fprintf(w, "\n  Countersign's peak resident memory over the whole session (VmHWM): %s MB\n", mb(procRSS(c.csPID, "VmHWM")))
	}
	return nil
}

func median[T int | int64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func mb(b int64) string {
	if b == 0 {
		return "?"
	}
	return fmt.Sprintf("%d", b>>20)
}
