package seed_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/seed"
	"github.com/countersign/countersign/internal/testdb"
)

var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func run(t *testing.T, db *database.DB, opt seed.Options) seed.Result {
	t.Helper()
	res, err := seed.Run(context.Background(), db, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRunShape(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	var progress int
	res := run(t, db, seed.Options{Calls: 3000, Batch: 700, Now: now, Progress: func(done, total int) {
		if done < progress || total != 3000 {
			t.Errorf("progress went from %d to %d of %d", progress, done, total)
		}
		progress = done
	}})
	if res.Calls != 3000 || progress != 3000 {
		t.Fatalf("wrote %d calls, progress %d", res.Calls, progress)
	}
	q := func(sql string, args ...any) float64 {
		t.Helper()
		var v float64
		if err := db.Pool.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return v
	}
	if n := q(`SELECT count(*) FROM cases`); int(n) != res.Cases {
		t.Errorf("cases in db %v, reported %d", n, res.Cases)
	}
	checks := []struct {
		name     string
		sql      string
		min, max float64
	}{
		{"hangup share", `SELECT avg((status = 'hangup')::int) FROM calls`, 0.11, 0.19},
		{"VIP share", `SELECT avg(vip::int) FROM calls`, 0.01, 0.06},
		{"completed calls with a case", `SELECT avg((EXISTS (SELECT 1 FROM cases WHERE call_id = calls.id))::int) FROM calls WHERE status = 'completed'`, 0.80, 0.90},
		{"calls with two cases", `SELECT count(*) FROM (SELECT call_id FROM cases GROUP BY 1 HAVING count(*) = 2) x`, 50, 400},
		{"open cases", `SELECT avg((status NOT IN ('done', 'rejected'))::int) FROM cases`, 0.22, 0.38},
		{"repeat callers", `SELECT count(*) FROM (SELECT customer_number FROM calls GROUP BY 1 HAVING count(*) > 2) x`, 50, 3000},
		{"spread over 90 days", `SELECT extract(epoch FROM max(received_at) - min(received_at)) / 86400 FROM calls`, 85, 90.01},
		{"nothing in the future", `SELECT count(*) FROM calls WHERE received_at > $1`, 0, 0},
		{"cases before their call", `SELECT count(*) FROM cases c JOIN calls k ON k.id = c.call_id WHERE c.created_at < k.received_at OR c.updated_at < c.created_at`, 0, 0},
		{"currencies", `SELECT count(DISTINCT currency) FROM cases WHERE amount_minor IS NOT NULL`, 4, 4},
		{"open cases past deadline", `SELECT count(*) FROM cases WHERE status NOT IN ('done', 'rejected') AND follow_up_deadline < $1`, 10, 3000},
	}
	for _, c := range checks {
		var v float64
		if c.name == "nothing in the future" || c.name == "open cases past deadline" {
			v = q(c.sql, now)
		} else {
			v = q(c.sql)
		}
		if v < c.min || v > c.max {
			t.Errorf("%s = %v, want %v..%v", c.name, v, c.min, c.max)
		}
	}
	rows, err := db.Pool.Query(ctx, `SELECT customer_number, coalesce(amount_minor, 0), currency FROM calls LIMIT 500`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	e164 := regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	for rows.Next() {
		var num, cur string
		var minor int64
		if err := rows.Scan(&num, &minor, &cur); err != nil {
			t.Fatal(err)
		}
		if !e164.MatchString(num) {
			t.Errorf("customer number %q is not E.164", num)
		}
		if cur != "" {
			if _, ok := money.Exponent(cur); !ok || minor <= 0 {
				t.Errorf("amount %d %q", minor, cur)
			}
		}
	}
}

// fingerprint hashes everything but times (relative to Now) and serial ids.
const fingerprint = `SELECT md5(string_agg(concat_ws('|', k.status, k.customer_number, k.summary, k.transcript::text,
	k.fields::text, k.amount_minor, k.currency, c.kind, c.status, c.urgency, c.confidence, c.amount_minor), ',' ORDER BY k.id, c.kind))
	FROM calls k LEFT JOIN cases c ON c.call_id = k.id`

func TestRunDeterministic(t *testing.T) {
	ctx := context.Background()
	var sums [3]string
	for i, s := range []uint64{7, 7, 8} {
		db := testdb.New(t)
		run(t, db, seed.Options{Calls: 500, Batch: 100, Workers: 3, Seed: s, Now: now, SkipAnalyze: true})
		if err := db.Pool.QueryRow(ctx, fingerprint).Scan(&sums[i]); err != nil {
			t.Fatal(err)
		}
	}
	if sums[0] != sums[1] {
		t.Error("the same seed gave different data")
	}
	if sums[0] == sums[2] {
		t.Error("different seeds gave the same data")
	}
}

func TestRunTwiceAppends(t *testing.T) {
	db := testdb.New(t)
	a := run(t, db, seed.Options{Calls: 200, Now: now, SkipAnalyze: true})
	b := run(t, db, seed.Options{Calls: 200, Now: now, SkipAnalyze: true})
	if b.FirstCallID != a.FirstCallID+200 {
		t.Errorf("second run starts at id %d, want %d", b.FirstCallID, a.FirstCallID+200)
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM calls`).Scan(&n); err != nil || n != 400 {
		t.Fatalf("calls %d, %v", n, err)
	}
}

func TestRunRejectsZero(t *testing.T) {
	if _, err := seed.Run(context.Background(), nil, seed.Options{}); err == nil {
		t.Fatal("Calls: 0 accepted")
	}
}
