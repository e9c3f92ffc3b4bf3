package audit_test

import (
	"context"
	"flag"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/testdb"
)

var benchRows = flag.Int("audit.rows", 100_000, "chain length for BenchmarkVerify")

// BenchmarkVerify verifies a chain of -audit.rows entries (go test -bench Verify
// -audit.rows 1000000 for the 1M-row case); memory stays at one batch.
func BenchmarkVerify(b *testing.B) {
	db := testdb.New(b)
	n := *benchRows
	prev := make([]byte, 32)
	at := time.Now().UTC().Truncate(time.Microsecond)
	rows := make([][]any, 0, n)
	for i := 1; i <= n; i++ {
		r := audit.Record{ID: int64(i), Seq: int64(i), At: at, PrevHash: prev, Entry: audit.Entry{
			Actor: "user:7 fiona@example.com", Action: "case.assigned", ObjectType: "case",
			ObjectID: strconv.Itoa(i), Outcome: "ok", Summary: map[string]any{}, UserAgent: "Mozilla/5.0"}}
		h, err := audit.ComputeHash(&r)
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, []any{r.ID, r.Seq, r.At, r.Actor, r.Action, r.ObjectType, r.ObjectID, r.UserAgent, r.PrevHash, h, at})
		prev = h
	}
	_, err := db.Pool.CopyFrom(b.Context(), pgx.Identifier{"audit_log"},
		[]string{"id", "seq", "at", "actor", "action", "object_type", "object_id", "user_agent", "prev_hash", "hash", "sealed_at"},
		pgx.CopyFromRows(rows))
	if err != nil {
		b.Fatal(err)
	}
	rows = nil
	b.ResetTimer()
	for b.Loop() {
		rep, err := audit.Verify(b.Context(), db.Gorm, nil)
		if err != nil || !rep.OK() || rep.Entries != int64(n) {
			b.Fatalf("verify: %v %+v", err, rep)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkAppendConcurrent commits audited transactions from 10 goroutines per CPU
// over a pool of 21 connections (the web server's shape), each iteration one
// transaction with one Append, while RunSealer seals in the background as in
// production. Appends take no lock, so throughput grows with connections instead
// of queueing on one; tx/s and the latency percentiles are per transaction.
func BenchmarkAppendConcurrent(b *testing.B) {
	d, err := database.Open(b.Context(), testdb.NewURL(b), database.Options{MaxConns: 21})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	db := d.Gorm
	sealCtx, stopSealer := context.WithCancel(context.Background())
	sealerDone := make(chan struct{})
	go func() {
		defer close(sealerDone)
		audit.RunSealer(sealCtx, db, 0, slog.New(slog.DiscardHandler))
	}()
	var (
		mu  sync.Mutex
		lat []time.Duration
	)
	b.SetParallelism(10)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		e := entry(1)
		for pb.Next() {
			start := time.Now()
			err := db.Transaction(func(tx *gorm.DB) error {
				_, err := audit.Append(context.Background(), tx, e)
				return err
			})
			if err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	stopSealer()
	<-sealerDone
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
	if len(lat) > 0 {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
	rep, err := audit.Verify(context.Background(), db, nil)
	if err != nil || !rep.OK() || rep.Unsealed != 0 {
		b.Fatalf("chain after the benchmark: %v %+v", err, rep)
	}
}
