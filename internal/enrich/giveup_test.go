package enrich_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/countersign/countersign/internal/connector/tokenmetrics"
	"github.com/countersign/countersign/internal/connector/tokenmetrics/tmfake"
	"github.com/countersign/countersign/internal/enrich"
	"github.com/countersign/countersign/internal/ingest"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/testdb"
	"github.com/countersign/countersign/internal/triage"
)

type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(20 * time.Millisecond) }

// A crypto claim whose Token Metrics look-up fails on every attempt goes through the
// real path: ingest writes the outbox row, the dispatcher makes the claim-check job,
// the worker retries it until its last attempt and then gives up, and the case lands
// in review with the reason instead of staying unchecked in its queue.
func TestTokenMetricsFailingOnEveryAttemptSendsTheCaseToReview(t *testing.T) {
	ctx := context.Background()
	db := testdb.New(t)
	tm := tmfake.New()
	t.Cleanup(tm.Close)
	tm.AddToken(tmfake.Token{ID: 5426, Symbol: "SOL", Name: "Solana", Price: "150.00"})
	tm.FailNext(1_000_000, 503, 0)
	in := &ingest.Service{Pool: db.Pool, Mapping: triage.DefaultMapping()}
	svc := &enrich.Service{DB: db.Gorm, Ingest: in,
		TokenMetrics: tokenmetrics.New(tokenmetrics.Config{BaseURL: tm.URL, APIKey: tmfake.TestKey})}
	res, err := in.Ingest(ctx, cryptoCall(t, "call_sol_down", "2", "SOL", "300"))
	if err != nil || len(res.CaseIDs) != 1 {
		t.Fatalf("ingest: %v %+v", err, res)
	}
	caseID := res.CaseIDs[0]
	var before string
	db.Gorm.Raw(`SELECT kind FROM cases WHERE id = ?`, caseID).Scan(&before)
	if before == "review" {
		t.Fatal("the case is in review before any check: the test proves nothing")
	}

	js, err := jobs.New(db, nil, jobs.Options{Enricher: svc, NoPeriodic: true, RetryPolicy: fastRetry{},
		FetchPollInterval: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := js.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.Stop(stop)
	})

	var state string
	var attempt, maxAttempts int
	deadline := time.Now().Add(30 * time.Second)
	for state != "cancelled" && state != "completed" && state != "discarded" {
		if time.Now().After(deadline) {
			t.Fatalf("claim-check job still %q after attempt %d of %d", state, attempt, maxAttempts)
		}
		time.Sleep(50 * time.Millisecond)
		db.Gorm.Raw(`SELECT state, attempt, max_attempts FROM river_job WHERE kind = 'enrich_case'
			AND (args->>'case_id')::bigint = ?`, caseID).Row().Scan(&state, &attempt, &maxAttempts)
	}
	if state != "cancelled" || attempt != maxAttempts || maxAttempts < 2 {
		t.Fatalf("job %s after attempt %d of %d; want cancelled on its last attempt", state, attempt, maxAttempts)
	}
	if n := tm.RequestCount(); n < maxAttempts {
		t.Errorf("Token Metrics was asked %d times over %d attempts", n, maxAttempts)
	}
	var kind, reasons string
	db.Gorm.Raw(`SELECT kind, reasons::text FROM cases WHERE id = ?`, caseID).Row().Scan(&kind, &reasons)
	if kind != "review" || !strings.Contains(reasons, "could not price SOL after repeated attempts") {
		t.Errorf("case kind %q reasons %s; want review with the Token Metrics reason", kind, reasons)
	}
}
