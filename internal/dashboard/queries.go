package dashboard

import (
	"time"

	"gorm.io/gorm"
)

// casesPerDay counts cases created since day0 by UTC day and kind (index cases_created).
func casesPerDay(db *gorm.DB, day0 time.Time) ([]DayKindCount, error) {
	var rows []DayKindCount
	err := db.Raw(`
		SELECT (created_at AT TIME ZONE 'UTC')::date AS day, kind, count(*) AS n
		FROM cases
		WHERE created_at >= ?
		GROUP BY 1, 2
		ORDER BY 1, 2`, day0).Scan(&rows).Error
	return rows, err
}

// openBacklog scans open cases once (partial index cases_open) for the age buckets
// and the overdue counts.
func openBacklog(db *gorm.DB, now time.Time) ([]OpenCount, error) {
	var rows []OpenCount
	day := 24 * time.Hour
	err := db.Raw(`
		SELECT kind,
		       CASE WHEN created_at > ? THEN 0
		            WHEN created_at > ? THEN 1
		            WHEN created_at > ? THEN 2
		            ELSE 3 END AS bucket,
		       count(*) AS n,
		       count(*) FILTER (WHERE follow_up_deadline < ?) AS overdue
		FROM cases
		WHERE status NOT IN ('done', 'rejected')
		GROUP BY 1, 2
		ORDER BY 1, 2`, now.Add(-day), now.Add(-3*day), now.Add(-7*day), now).Scan(&rows).Error
	return rows, err
}

// money sums amount_minor per currency: everything now awaiting approval, and what
// was approved among the cases opened since day0. It never adds across currencies.
// Approved means the decision went through (approved, executing, done); until the
// approvals table exists the case status is the only record of it.
func money(db *gorm.DB, day0 time.Time) ([]CurrencyMoney, error) {
	var rows []CurrencyMoney
	err := db.Raw(`
		WITH awaiting AS (
			SELECT currency, count(*) AS n, sum(amount_minor) AS minor
			FROM cases
			WHERE status = 'awaiting_approval' AND status NOT IN ('done', 'rejected')
			  AND amount_minor IS NOT NULL AND currency <> ''
			GROUP BY currency
		), approved AS (
			SELECT currency, count(*) AS n, sum(amount_minor) AS minor
			FROM cases
			WHERE created_at >= ? AND status IN ('approved', 'executing', 'done')
			  AND amount_minor IS NOT NULL AND currency <> ''
			GROUP BY currency
		)
		SELECT currency,
		       coalesce(w.n, 0) AS awaiting_n, coalesce(w.minor, 0) AS awaiting_minor,
		       coalesce(a.n, 0) AS approved_n, coalesce(a.minor, 0) AS approved_minor
		FROM awaiting w FULL JOIN approved a USING (currency)
		ORDER BY currency`, day0).Scan(&rows).Error
	return rows, err
}

// missedDeadlines counts, per UTC day since day0, the deadlines that fell that day and
// were missed: the case is still open, or was last changed after the deadline
// (index cases_deadline).
func missedDeadlines(db *gorm.DB, day0, now time.Time) ([]DayCount, error) {
	var rows []DayCount
	err := db.Raw(`
		SELECT (follow_up_deadline AT TIME ZONE 'UTC')::date AS day, count(*) AS n
		FROM cases
		WHERE follow_up_deadline >= ? AND follow_up_deadline < ?
		  AND (status NOT IN ('done', 'rejected') OR updated_at > follow_up_deadline)
		GROUP BY 1
		ORDER BY 1`, day0, now).Scan(&rows).Error
	return rows, err
}

// decidedStatuses are the statuses a case only reaches through a decision.
var decidedStatuses = []string{"approved", "rejected", "executing", "done", "needs_attention"}

// DecisionTimes is the median time from call (calls.received_at) to decision per kind,
// over the cases opened since day0 that have been decided.
//
// Until the approvals table exists, the decision time is approximated by
// cases.updated_at of cases in a decided status; this is the one function to switch
// to approvals.decided_at when it lands.
func DecisionTimes(db *gorm.DB, day0 time.Time) ([]KindDuration, error) {
	var rows []struct {
		Kind    string
		Seconds float64
		N       int64
	}
	err := db.Raw(`
		SELECT c.kind,
		       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.updated_at - k.received_at)) AS seconds,
		       count(*) AS n
		FROM cases c JOIN calls k ON k.id = c.call_id
		WHERE c.created_at >= ? AND c.status IN ?
		GROUP BY c.kind
		ORDER BY c.kind`, day0, decidedStatuses).Scan(&rows).Error
	out := make([]KindDuration, 0, len(rows))
	for _, r := range rows {
		out = append(out, KindDuration{Kind: r.Kind, Median: time.Duration(max(r.Seconds, 0) * float64(time.Second)).Round(time.Second), N: r.N})
	}
	return out, err
}
