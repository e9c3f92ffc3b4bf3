package audit_test

import (
	"flag"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign/internal/audit"
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
		r := audit.Record{Seq: int64(i), At: at, PrevHash: prev, Entry: audit.Entry{
			Actor: "user:7 fiona@example.com", Action: "case.assigned", ObjectType: "case",
			ObjectID: strconv.Itoa(i), Outcome: "ok", Summary: map[string]any{}, UserAgent: "Mozilla/5.0"}}
		h, err := audit.ComputeHash(&r)
		if err != nil {
			b.Fatal(err)
		}
		rows = append(rows, []any{r.Seq, r.At, r.Actor, r.Action, r.ObjectType, r.ObjectID, r.UserAgent, r.PrevHash, h})
		prev = h
	}
	_, err := db.Pool.CopyFrom(b.Context(), pgx.Identifier{"audit_log"},
		[]string{"seq", "at", "actor", "action", "object_type", "object_id", "user_agent", "prev_hash", "hash"},
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
