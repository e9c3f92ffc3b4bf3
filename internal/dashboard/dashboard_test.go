package dashboard

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/database"
	"github.com/countersign/countersign/internal/testdb"
)

var now = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

type fixture struct {
	kind, status     string
	created, updated time.Duration // before now
	amount           any
	currency         string
	deadline         any
}

func insert(t *testing.T, db *database.DB, fs []fixture) {
	t.Helper()
	ctx := context.Background()
	for i, f := range fs {
		var callID int64
		created := now.Add(-f.created)
		err := db.Pool.QueryRow(ctx, `INSERT INTO calls (dialnexa_id, status, received_at) VALUES ($1, 'completed', $2) RETURNING id`,
			"dash-"+string(rune('a'+i)), created).Scan(&callID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO cases (call_id, kind, status, amount_minor, currency, follow_up_deadline, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			callID, f.kind, f.status, f.amount, f.currency, f.deadline, created, now.Add(-f.updated)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoad(t *testing.T) {
	db := testdb.New(t)
	h, d := time.Hour, 24*time.Hour
	insert(t, db, []fixture{
		{"refund", "awaiting_approval", 2 * h, 2 * h, int64(1000), "USD", nil},
		{"refund", "awaiting_approval", 2 * d, 2 * d, int64(500), "JPY", nil},
		{"dispute", "approved", 5 * d, 5*d - 4*h, int64(2500), "USD", nil},
		{"dispute", "done", 10 * d, 10*d - 2*h, int64(700), "EUR", nil},
		{"collections", "triaged", 20 * d, 20 * d, nil, "", now.Add(-d)},
		{"collections", "done", 20 * d, 2 * d, nil, "", now.Add(-3 * d)},
		{"collections", "done", 20 * d, 5 * d, nil, "", now.Add(-4 * d)},
		{"review", "new", 40 * d, 40 * d, nil, "", nil},
	})
	st, err := Load(context.Background(), db.Gorm, now)
	if err != nil {
		t.Fatal(err)
	}

	var perDay int64
	for _, r := range st.PerDay {
		perDay += r.N
		if st.DayIndex(r.Day) < 0 {
			t.Errorf("per-day row outside the window: %+v", r)
		}
	}
	if perDay != 7 {
		t.Errorf("cases in 30 days = %d, want 7 (the 40-day-old case is outside)", perDay)
	}
	if i := st.DayIndex(now.Add(-2 * h)); i != Days-1 {
		t.Errorf("today is day %d, want %d", i, Days-1)
	}

	open := map[[2]any][2]int64{}
	for _, r := range st.Open {
		open[[2]any{r.Kind, r.Bucket}] = [2]int64{r.N, r.Overdue}
	}
	want := map[[2]any][2]int64{
		{"refund", AgeUnder1d}: {1, 0}, {"refund", Age1to3d}: {1, 0}, {"dispute", Age3to7d}: {1, 0},
		{"collections", AgeOver7d}: {1, 1}, {"review", AgeOver7d}: {1, 0},
	}
	if len(open) != len(want) {
		t.Errorf("open backlog %v, want %v", open, want)
	}
	for k, v := range want {
		if open[k] != v {
			t.Errorf("open %v = %v, want %v", k, open[k], v)
		}
	}

	money := map[string]CurrencyMoney{}
	for _, m := range st.Money {
		money[m.Currency] = m
	}
	if len(money) != 3 || money["USD"].AwaitingMinor != 1000 || money["USD"].ApprovedMinor != 2500 ||
		money["JPY"].AwaitingMinor != 500 || money["JPY"].ApprovedMinor != 0 ||
		money["EUR"].ApprovedMinor != 700 || money["EUR"].AwaitingN != 0 {
		t.Errorf("money per currency: %+v", st.Money)
	}

	missed := map[int]int64{}
	for _, r := range st.Missed {
		missed[st.DayIndex(r.Day)] += r.N
	}
	if len(missed) != 2 || missed[Days-2] != 1 || missed[Days-4] != 1 {
		t.Errorf("missed deadlines by day index: %v, want {%d:1 %d:1}", missed, Days-2, Days-4)
	}

	// Decided: the approved and done disputes (4 h, 2 h) and the two done collections
	// cases (18 d, 15 d); open and undecided cases do not count.
	if len(st.Decisions) != 2 || st.Decisions[0] != (KindDuration{"collections", 396 * time.Hour, 2}) ||
		st.Decisions[1] != (KindDuration{"dispute", 3 * time.Hour, 2}) {
		t.Errorf("decisions: %+v, want collections 16.5 d and dispute 3 h, 2 each", st.Decisions)
	}
}

func TestLoadEmpty(t *testing.T) {
	st, err := Load(context.Background(), testdb.New(t).Gorm, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.PerDay)+len(st.Open)+len(st.Money)+len(st.Missed)+len(st.Decisions) != 0 {
		t.Errorf("empty database gave figures: %+v", st)
	}
}

func TestServiceCaches(t *testing.T) {
	db := testdb.New(t)
	s := NewService(db.Gorm)
	var mu sync.Mutex
	clock := now
	set := func(d time.Duration) { mu.Lock(); clock = now.Add(d); mu.Unlock() }
	s.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	ctx := context.Background()
	a, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	insert(t, db, []fixture{{"refund", "new", time.Hour, time.Hour, nil, "", nil}})
	set(TTL - time.Second)
	if b, _ := s.Stats(ctx); b != a {
		t.Fatal("a snapshot younger than the TTL was recomputed")
	}
	// Stale: served at once while one background refresh runs.
	set(TTL)
	if b, _ := s.Stats(ctx); b != a {
		t.Fatal("a stale snapshot was not served while refreshing")
	}
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	<-done
	b, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b == a || len(b.Open) != 1 {
		t.Fatalf("the background refresh did not replace the snapshot: %+v", b.Open)
	}
	// Too old to serve: the caller waits for fresh figures.
	set(TTL + maxStale + time.Minute)
	c, err := s.Stats(ctx)
	if err != nil || c == b || !c.Now.Equal(now.Add(TTL+maxStale+time.Minute)) {
		t.Fatalf("a snapshot older than maxStale was served: %v %v", c.Now, err)
	}
}
