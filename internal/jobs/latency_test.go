package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/config"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/testdb"
)

// BenchmarkApprovalToFirstAttempt measures, with production fetch settings (1 s
// poll fallback, 50 ms cooldown, LISTEN/NOTIFY), the time from an approval's commit
// to the first attempt of its action, for approvals arriving one at a time.
//
//	go test -run '^$' -bench ApprovalToFirstAttempt -benchtime 40x ./internal/jobs
func BenchmarkApprovalToFirstAttempt(b *testing.B) {
	db := testdb.New(b)
	sb, err := sandbox.Start(config.Connectors{}, sandbox.Options{All: true})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	conns, err := jobs.NewConnectors(sb.Connectors, sb.Sandboxed, sb.Recorder)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := jobs.New(db, conns, jobs.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), NoPeriodic: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = svc.Stop(ctx) }()
	e := &env{t: nil, db: db, sb: sb, svc: svc, ctx: ctx}
	var delays []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		caseID, ids := e.newCaseB(b, "payment_blocker", plan{"slack", "alert", jobs.AlertParams{Text: "VIP blocked"}})
		if err := e.approve(caseID, false); err != nil {
			b.Fatal(err)
		}
		committed := time.Now()
		for {
			var n int64
			db.Gorm.Raw(`SELECT attempts FROM actions WHERE id = ?`, ids[0]).Scan(&n)
			if n > 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		delays = append(delays, time.Since(committed))
		time.Sleep(100 * time.Millisecond) // approvals arrive one at a time
	}
	b.StopTimer()
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	p := func(q float64) float64 { return float64(delays[int(q*float64(len(delays)-1))].Milliseconds()) }
	b.ReportMetric(p(0.5), "p50_ms")
	b.ReportMetric(p(0.95), "p95_ms")
	b.ReportMetric(p(1), "max_ms")
}
