package database_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/testdb"
)

// TestCallsMigrateToMonthlyPartitions takes a database back to before calls were
// partitioned, stores calls from three months and a case, migrates up again and
// checks every row moved into its month, the DialNexa ids are still unique (through
// call_keys) and the case still finds its call.
func TestCallsMigrateToMonthlyPartitions(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	p, err := database.Provider(db.SQL, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 11); err != nil {
		t.Fatalf("down to 11: %v", err)
	}
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	months := []time.Time{month.AddDate(0, -2, 3), month.AddDate(0, -1, 0), now}
	for i, at := range months {
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO calls (dialnexa_id, status, summary, received_at) VALUES ($1, 'completed', 'refund please', $2)`,
			"call_m"+string(rune('a'+i)), at); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO cases (call_id, kind) SELECT id, 'refund' FROM calls WHERE dialnexa_id = 'call_ma'`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}

	var parts []string
	rows, err := db.SQL.QueryContext(ctx, `SELECT tableoid::regclass::text FROM calls ORDER BY received_at`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for i, at := range months {
		want := "calls_" + at.Format("y2006m01")
		if i >= len(parts) || parts[i] != want {
			t.Fatalf("partitions = %v, want row %d in %s", parts, i, want)
		}
	}
	var keys, joined int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM call_keys k JOIN calls c ON c.id = k.call_id AND c.dialnexa_id = k.dialnexa_id AND c.received_at = k.received_at`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys != 3 {
		t.Errorf("call_keys matching calls = %d, want 3", keys)
	}
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM cases k JOIN calls c ON c.id = k.call_id WHERE c.dialnexa_id = 'call_ma'`).Scan(&joined); err != nil {
		t.Fatal(err)
	}
	if joined != 1 {
		t.Errorf("case no longer finds its call")
	}
	// A new call gets an id past the old ones and lands in this month's partition.
	var id int64
	var part string
	if err := db.SQL.QueryRowContext(ctx, `INSERT INTO calls (dialnexa_id) VALUES ('call_new') RETURNING id, tableoid::regclass::text`).Scan(&id, &part); err != nil {
		t.Fatal(err)
	}
	if part != "calls_"+now.Format("y2006m01") || id <= 3 {
		t.Errorf("new call: id %d in %s", id, part)
	}
	// Partition upkeep is idempotent and makes months ahead.
	var created int
	if err := db.SQL.QueryRowContext(ctx, `SELECT cs_ensure_month_partitions('calls', $1::date, $2::date)`, month.AddDate(0, -2, 0), month.AddDate(0, 6, 0)).Scan(&created); err != nil {
		t.Fatal(err)
	}
	if created != 3 { // months +4, +5, +6; the migration made up to +3
		t.Errorf("created %d partitions, want 3", created)
	}
}
