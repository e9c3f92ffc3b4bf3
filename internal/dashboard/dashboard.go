package dashboard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Window is how far back the windowed figures look.
const Window = 30 * 24 * time.Hour

// Days is the number of daily buckets of the windowed charts (today included).
const Days = 30

// Age buckets of open cases, youngest first.
const (
	AgeUnder1d = iota // < 1 day
	Age1to3d          // 1-3 days
	Age3to7d          // 3-7 days
	AgeOver7d         // > 7 days
	ageBuckets
)

// AgeLabels names the age buckets in order.
var AgeLabels = [ageBuckets]string{"< 1 d", "1–3 d", "3–7 d", "> 7 d"}

// Stats is one snapshot of every dashboard figure.
type Stats struct {
	Now time.Time
	// Day0 is the first (UTC) day of the daily charts; day i is Day0 + i days.
	Day0 time.Time
	// PerDay counts cases created per UTC day and kind over the last Days days.
	PerDay []DayKindCount
	// Open counts open cases by kind and age bucket, with how many are overdue.
	Open []OpenCount
	// Money sums amounts waiting for approval (all open cases) and approved (cases
	// opened in the window) per currency.
	Money []CurrencyMoney
	// Missed counts, per UTC day of the window, the follow-up deadlines that passed
	// while the case was still open.
	Missed []DayCount
	// Decisions holds the median time from call to decision per kind.
	Decisions []KindDuration
	// Attention counts open cases whose actions failed and wait for a person.
	Attention int64
}

// DayKindCount is one cell of the cases-per-day chart.
type DayKindCount struct {
	Day  time.Time
	Kind string
	N    int64
}

// OpenCount is one (kind, age bucket) cell of the open backlog.
type OpenCount struct {
	Kind    string
	Bucket  int
	N       int64
	Overdue int64
}

// CurrencyMoney is what waits for approval and what was approved in one currency.
// Amounts are minor units of Currency.
type CurrencyMoney struct {
	Currency      string
	AwaitingN     int64
	AwaitingMinor int64
	ApprovedN     int64
	ApprovedMinor int64
}

// DayCount is a count for one UTC day.
type DayCount struct {
	Day time.Time
	N   int64
}

// KindDuration is the median time from call to decision of one kind.
type KindDuration struct {
	Kind   string
	Median time.Duration
	N      int64
}

// Load computes every figure as of now, running the queries concurrently on the pool;
// each is bounded by ctx.
func Load(ctx context.Context, db *gorm.DB, now time.Time) (*Stats, error) {
	now = now.UTC()
	today := now.Truncate(24 * time.Hour)
	s := &Stats{Now: now, Day0: today.AddDate(0, 0, -(Days - 1))}
	db = db.WithContext(ctx)
	var win []windowRow
	var open []openRow
	// The queries are independent: run them side by side on the pool.
	steps := []struct {
		name string
		run  func() error
	}{
		{"cases in the window", func() (err error) { win, err = windowCases(db, s.Day0); return }},
		{"open cases", func() (err error) { open, err = openCases(db, now); return }},
		{"missed deadlines", func() (err error) { s.Missed, err = missedDeadlines(db, s.Day0, now); return }},
		{"decision times", func() (err error) { s.Decisions, err = DecisionTimes(db, s.Day0); return }},
	}
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, st := range steps {
		wg.Go(func() {
			if err := st.run(); err != nil {
				errs[i] = fmt.Errorf("dashboard: %s: %w", st.name, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.fold(win, open)
	return s, nil
}

// fold turns the per-currency rows into the figures: counts add up over currencies,
// amounts only ever within one currency.
func (s *Stats) fold(win []windowRow, open []openRow) {
	for _, r := range open {
		s.Attention += r.Attention
	}
	type dk struct {
		day  time.Time
		kind string
	}
	type kb struct {
		kind   string
		bucket int
	}
	perDay := map[dk]int64{}
	openN := map[kb]*OpenCount{}
	money := map[string]*CurrencyMoney{}
	cur := func(c string) *CurrencyMoney {
		if money[c] == nil {
			money[c] = &CurrencyMoney{Currency: c}
		}
		return money[c]
	}
	for _, r := range win {
		perDay[dk{r.Day, r.Kind}] += r.N
		if r.Currency != "" && r.ApprovedN > 0 {
			m := cur(r.Currency)
			m.ApprovedN += r.ApprovedN
			m.ApprovedMinor += r.ApprovedMinor
		}
	}
	for _, r := range open {
		k := kb{r.Kind, r.Bucket}
		if openN[k] == nil {
			openN[k] = &OpenCount{Kind: r.Kind, Bucket: r.Bucket}
		}
		openN[k].N += r.N
		openN[k].Overdue += r.Overdue
		if r.Currency != "" && r.AwaitingN > 0 {
			m := cur(r.Currency)
			m.AwaitingN += r.AwaitingN
			m.AwaitingMinor += r.AwaitingMinor
		}
	}
	for k, n := range perDay {
		s.PerDay = append(s.PerDay, DayKindCount{Day: k.day, Kind: k.kind, N: n})
	}
	slices.SortFunc(s.PerDay, func(a, b DayKindCount) int {
		return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Kind, b.Kind))
	})
	for _, o := range openN {
		s.Open = append(s.Open, *o)
	}
	slices.SortFunc(s.Open, func(a, b OpenCount) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Bucket, b.Bucket))
	})
	for _, m := range money {
		s.Money = append(s.Money, *m)
	}
	slices.SortFunc(s.Money, func(a, b CurrencyMoney) int { return cmp.Compare(a.Currency, b.Currency) })
}

// DayIndex returns the index of t's UTC day in the daily charts, or -1 outside.
func (s *Stats) DayIndex(t time.Time) int {
	d := int(t.UTC().Sub(s.Day0) / (24 * time.Hour))
	if t.Before(s.Day0) || d >= Days {
		return -1
	}
	return d
}
