package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/demo"
	"github.com/countersign/countersign/internal/dialnexa"
	"github.com/countersign/countersign/internal/progress"
)

func init() {
	extraCommands = append(extraCommands,
		command{"demo", "--calls N [--url URL] [--secret S] [--seed N]", "Post N realistic signed demo calls to a running Countersign.", runDemo},
	)
}

func runDemo(ctx context.Context, args []string) error {
	fs := newFlags("demo", "--calls N [--url URL] [--secret S] [--seed N]",
		"Post N realistic, varied, signed DialNexa calls (every case kind, several currencies, some with card\n"+
			"numbers read aloud) to a running instance's webhook.")
	n := fs.Int("calls", 20, "how many calls to post (1 to 100000)")
	target := fs.String("url", "http://127.0.0.1:8080", "base URL of the running console")
	secret := fs.String("secret", envOr("COUNTERSIGN_DEMO_SECRET", TestDialNexaSecret), "webhook secret to sign with (dev accepts the test secret)")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed; the same seed posts the same calls (duplicates are then ignored)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 || *n > 100000 {
		return usageError{fmt.Sprintf("--calls %d is out of range: use 1 to 100000", *n)}
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError{fmt.Sprintf("--url %q is not an http(s) URL such as http://127.0.0.1:8080", *target)}
	}
	sum, err := postDemoCalls(ctx, strings.TrimRight(*target, "/")+"/webhooks/dialnexa", *secret, *seed, *n, os.Stderr)
	fmt.Printf("posted %d calls: %d stored, %d duplicate, %d other\n", *n, sum["stored"], sum["duplicate"], *n-sum["stored"]-sum["duplicate"])
	return err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// postDemoCalls posts n demo calls spread over the last 30 days and counts outcomes.
func postDemoCalls(ctx context.Context, endpoint, secret string, seed uint64, n int, progressOut io.Writer) (map[string]int, error) {
	client := &http.Client{Timeout: 15 * time.Second}
	bar := progress.New(progressOut, "demo calls", int64(n))
	defer bar.Done()
	sum := map[string]int{}
	now := time.Now().UTC()
	for i := range n {
		if ctx.Err() != nil {
			return sum, ctx.Err()
		}
		at := now.Add(-time.Duration(n-i) * 30 * 24 * time.Hour / time.Duration(n))
		body, _ := demo.Call(seed, i, at)
		req, _ := http.NewRequestWithContext(ctx, "POST", endpoint, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "DialNexa-External-Webhook/1.0 (countersign demo)")
		req.Header.Set("X-DialNexa-Signature", dialnexa.Sign(body, secret))
		resp, err := client.Do(req)
		if err != nil {
			return sum, fmt.Errorf("post call %d: %w", i, err)
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		switch {
		case resp.StatusCode == 200 && bytes.Contains(msg, []byte(`"stored"`)):
			sum["stored"]++
		case resp.StatusCode == 200 && bytes.Contains(msg, []byte(`"duplicate"`)):
			sum["duplicate"]++
		case resp.StatusCode == 401:
			return sum, fmt.Errorf("the server refused the signature: pass the webhook secret it printed at start-up with --secret")
		default:
			sum[fmt.Sprint(resp.StatusCode)]++
		}
		bar.Add(1)
	}
	return sum, nil
}
