package dashboard

import (
	"time"

	"gorm.io/gorm"
)

// windowRow is one (day, kind, currency) cell of the cases opened in the window.
type windowRow struct {
	Day           time.Time
	Kind          string
	Currency      string
	N             int64
	ApprovedN     int64
	ApprovedMinor int64
}

// windowCases scans the cases opened since day0 once (index cases_created) for the
// cases-per-day chart and the approved amounts. Approved means the decision went
// through (approved, executing, done); until the approvals table is used here the
// case status is the record of it.
func windowCases(db *gorm.DB, day0 time.Time) ([]windowRow, error) {
	var rows []windowRow
	err := db.Raw(`
		SELECT (created_at AT TIME ZONE 'UTC')::date AS day, kind, currency, count(*) AS n,
		       count(*) FILTER (WHERE status IN ('approved', 'executing', 'done') AND amount_minor IS NOT NULL) AS approved_n,
		       coalesce(sum(amount_minor) FILTER (WHERE status IN ('approved', 'executing', 'done')), 0) AS approved_minor
		FROM cases
		WHERE created_at >= ?
		GROUP BY 1, 2, 3`, day0).Scan(&rows).Error
	return rows, err
}

// openRow is one (kind, age bucket, currency) cell of the open cases.
type openRow struct {
	Kind          string
	Bucket        int
	Currency      string
	N             int64
	Overdue       int64
	AwaitingN     int64
	AwaitingMinor int64
	Attention     int64 // cases waiting for a person after a failed action
}

// openCases scans the open cases once (partial indexes on open cases) for the age
// buckets, the overdue counts and the amounts awaiting approval.
func openCases(db *gorm.DB, now time.Time) ([]openRow, error) {
	var rows []openRow
	day := 24 * time.Hour
	err := db.Raw(`
		SELECT kind,
		       CASE WHEN created_at > ? THEN 0
		            WHEN created_at > ? THEN 1
		            WHEN created_at > ? THEN 2
		            ELSE 3 END AS bucket,
		       currency,
		       count(*) AS n,
		       count(*) FILTER (WHERE follow_up_deadline < ?) AS overdue,
		       count(*) FILTER (WHERE status = 'awaiting_approval' AND amount_minor IS NOT NULL) AS awaiting_n,
		       coalesce(sum(amount_minor) FILTER (WHERE status = 'awaiting_approval'), 0) AS awaiting_minor,
		       count(*) FILTER (WHERE status = 'needs_attention') AS attention
		FROM cases
		WHERE status NOT IN ('done', 'rejected')
		GROUP BY 1, 2, 3`, now.Add(-day), now.Add(-3*day), now.Add(-7*day), now).Scan(&rows).Error
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
