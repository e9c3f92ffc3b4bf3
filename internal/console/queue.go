package console

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/triage"
)

// Row is one case in a queue listing or export.
type Row struct {
	ID             int64      `gorm:"column:id"`
	Kind           string     `gorm:"column:kind"`
	Status         string     `gorm:"column:status"`
	Urgency        int        `gorm:"column:urgency"`
	VIP            bool       `gorm:"column:vip"`
	Confidence     float64    `gorm:"column:confidence"`
	AmountMinor    *int64     `gorm:"column:amount_minor"`
	Currency       string     `gorm:"column:currency"`
	CustomerLabel  string     `gorm:"column:customer_label"`
	DestinationRef string     `gorm:"column:destination_ref"`
	NextStep       string     `gorm:"column:next_step"`
	AssigneeID     *int64     `gorm:"column:assignee_id"`
	AssigneeName   string     `gorm:"column:assignee_name"`
	Deadline       *time.Time `gorm:"column:follow_up_deadline"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	TagList        string     `gorm:"column:tag_list"`
	Reviewed       bool       `gorm:"column:reviewed"`
	SortKey        string     `gorm:"column:sort_key"`
	// Snippet is why a searched row matched: ts_headline over the redacted text the
	// search indexes, with each matching term between SnippetStart and SnippetStop
	// (control characters removed from the text first, so they mark nothing else).
	// Empty unless the filter has a search.
	Snippet string `gorm:"column:snippet"`
}

// SnippetStart and SnippetStop surround each matching term in Row.Snippet.
const (
	SnippetStart = "\x01"
	SnippetStop  = "\x02"
)

// snippetSQL is the headline of a searched case; its arguments are whether the
// viewer may read restricted calls (Scope.Reveal) and the query. A case under
// restricted handling shows a viewer outside auth.Revealers no call text here,
// as its case page withholds it.
const snippetSQL = `ts_headline('english',
	translate(CASE WHEN c.restricted AND NOT ?::boolean THEN concat_ws(' ', c.customer_label, c.destination_ref)
		ELSE concat_ws(' ', c.customer_label, c.destination_ref, sc.summary, left(sc.transcript_text, 200000)) END, chr(1) || chr(2), ''),
	websearch_to_tsquery('english', ?),
	'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … "') AS snippet`

// Tags splits the tag list.
func (r Row) Tags() []string {
	if r.TagList == "" {
		return nil
	}
	return strings.Split(r.TagList, ",")
}

// Page is one queue page.
type Page struct {
	Rows []Row
	Next *Cursor // nil on the last page
}

// openSQL is the partial-index predicate of every queue index, written literally so
// the planner can match it.
const openSQL = "c.status NOT IN ('done', 'rejected')"

const utcText = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`

// sortSpec ties a sort to its expression (identical to the index expression in
// 00006_console.sql), its cursor text and the cast that reads a cursor back.
type sortSpec struct{ expr, key, cast string }

var sorts = map[string]sortSpec{
	"urgency":  {"c.urgency", "c.urgency::text", "smallint"},
	"deadline": {"coalesce(c.follow_up_deadline, 'infinity'::timestamptz)", "CASE WHEN c.follow_up_deadline IS NULL THEN 'infinity' ELSE to_char(c.follow_up_deadline AT TIME ZONE 'UTC', " + utcText + ") END", "timestamptz"},
	"amount":   {"coalesce(c.amount_minor, -1)", "coalesce(c.amount_minor, -1)::text", "bigint"},
	"received": {"c.created_at", "to_char(c.created_at AT TIME ZONE 'UTC', " + utcText + ")", "timestamptz"},
}

const rowColumns = `c.id, c.kind, c.status, c.urgency, c.vip, c.confidence, c.amount_minor, c.currency,
	c.customer_label, c.destination_ref, c.next_step, c.assignee_id,
	coalesce(nullif(u.name, ''), u.email, '') AS assignee_name, c.follow_up_deadline, c.created_at,
	array_to_string(c.tags, ',') AS tag_list, c.reviewed`

// Scope says whose queue it is: "mine" and "assignee=me" need the viewer.
type Scope struct {
	Queue  string
	Viewer int64
	Now    time.Time
	// Reveal says the viewer may read the calls of cases under restricted
	// handling (auth.Revealers); search snippets withhold them otherwise.
	Reveal bool
}

// base selects the cases of queue sc matching f, unordered.
func base(ctx context.Context, db *gorm.DB, sc Scope, f Filter) *gorm.DB {
	q := db.WithContext(ctx).Table("cases c")
	switch {
	case sc.Queue == QueueMine:
		q = q.Where("c.assignee_id = ?", sc.Viewer)
	case sc.Queue == QueueMentions:
		q = q.Where(`c.id IN (SELECT n.case_id FROM mentions m JOIN notes n ON n.id = m.note_id
			WHERE m.user_id = ? AND m.read_at IS NULL)`, sc.Viewer)
	case triage.Kind(sc.Queue).Valid():
		q = q.Where("c.kind = ?", sc.Queue)
	}
	q = statusScope(q, sc, f)
	if len(f.Urgencies) > 0 {
		q = q.Where("c.urgency IN ?", f.Urgencies)
	}
	if f.VIP {
		q = q.Where("c.vip")
	}
	if f.Captured != "" {
		q = q.Where("jsonb_exists(c.capture, ?)", f.Captured)
	}
	if f.Currency != "" {
		q = q.Where("c.currency = ?", f.Currency)
	}
	if f.AmountMin != nil {
		q = q.Where("c.amount_minor >= ?", *f.AmountMin)
	}
	if f.AmountMax != nil {
		q = q.Where("c.amount_minor <= ?", *f.AmountMax)
	}
	if f.LowConf {
		q = q.Where("c.confidence < ?", LowConfidence)
	}
	q = deadlineScope(q, f.Deadline, sc.Now)
	q = assigneeScope(q, f.Assignee, sc.Viewer)
	if f.From != "" {
		q = q.Where("c.created_at >= ?::date", f.From)
	}
	if f.To != "" {
		q = q.Where("c.created_at < ?::date + 1", f.To)
	}
	if f.Q != "" {
		q = q.Where("c.id IN (SELECT case_id FROM case_search WHERE search @@ websearch_to_tsquery('english', ?))", f.Q)
	}
	return q
}

// statusScope keeps the literal open predicate whenever every wanted status is open,
// so the partial indexes still apply.
func statusScope(q *gorm.DB, sc Scope, f Filter) *gorm.DB {
	if len(f.Statuses) == 0 {
		if sc.Queue == QueueMentions {
			return q // an unread mention on a closed case still needs reading
		}
		return q.Where(openSQL)
	}
	allOpen := true
	for _, s := range f.Statuses {
		if s == closedStatuses[0] || s == closedStatuses[1] {
			allOpen = false
		}
	}
	if allOpen {
		q = q.Where(openSQL)
	}
	return q.Where("c.status IN ?", f.Statuses)
}

func deadlineScope(q *gorm.DB, d string, now time.Time) *gorm.DB {
	now = now.UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch d {
	case "overdue":
		return q.Where("c.follow_up_deadline < ?", now)
	case "today":
		return q.Where("c.follow_up_deadline >= ? AND c.follow_up_deadline < ?", day, day.AddDate(0, 0, 1))
	case "week":
		return q.Where("c.follow_up_deadline >= ? AND c.follow_up_deadline < ?", now, now.AddDate(0, 0, 7))
	}
	return q
}

func assigneeScope(q *gorm.DB, a string, viewer int64) *gorm.DB {
	switch a {
	case "":
		return q
	case "me":
		return q.Where("c.assignee_id = ?", viewer)
	case "none":
		return q.Where("c.assignee_id IS NULL")
	}
	id, _ := strconv.ParseInt(a, 10, 64)
	return q.Where("c.assignee_id = ?", id)
}

// ordered adds the sort, and the keyset condition when f has a cursor.
func ordered(q *gorm.DB, f Filter) *gorm.DB {
	s := sorts[f.Sort]
	if s.expr == "" {
		s = sorts[Sorts[0]]
	}
	dir, cmp := "ASC", ">"
	if f.Desc {
		dir, cmp = "DESC", "<"
	}
	if f.After != nil && validKey(s.cast, f.After.Key) {
		q = q.Where("("+s.expr+", c.id) "+cmp+" (CAST(? AS "+s.cast+"), ?)", f.After.Key, f.After.ID)
	}
	return q.Order(s.expr + " " + dir + ", c.id " + dir)
}

func validKey(cast, key string) bool {
	switch cast {
	case "timestamptz":
		if key == "infinity" {
			return true
		}
		_, err := time.Parse(time.RFC3339Nano, key)
		return err == nil
	default:
		_, err := strconv.ParseInt(key, 10, 64)
		return err == nil
	}
}

// List returns one page of queue sc. Pages are keyset-paginated: Next continues
// exactly after the last row, with no duplicates or gaps even as rows are added.
func List(ctx context.Context, db *gorm.DB, sc Scope, f Filter) (Page, error) {
	if f.Size <= 0 {
		f.Size = 50
	}
	var rows []Row
	q := ordered(base(ctx, db, sc, f), f).
		Joins("LEFT JOIN users u ON u.id = c.assignee_id").
		Limit(f.Size + 1)
	if f.Q != "" {
		q = q.Select(rowColumns+", "+sorts[sortName(f)].key+" AS sort_key, "+snippetSQL, sc.Reveal, f.Q).
			Joins("LEFT JOIN calls sc ON sc.id = c.call_id")
	} else {
		q = q.Select(rowColumns + ", " + sorts[sortName(f)].key + " AS sort_key")
	}
	if err := q.Scan(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("console: list queue %s: %w", sc.Queue, err)
	}
	var p Page
	if len(rows) > f.Size {
		rows = rows[:f.Size]
		last := rows[len(rows)-1]
		p.Next = &Cursor{Key: last.SortKey, ID: last.ID}
	}
	p.Rows = rows
	return p, nil
}

func sortName(f Filter) string {
	if _, ok := sorts[f.Sort]; ok {
		return f.Sort
	}
	return Sorts[0]
}

// CountNewer counts cases of queue sc matching f with an id above afterID (capped at
// 100): the "3 new cases" banner.
func CountNewer(ctx context.Context, db *gorm.DB, sc Scope, f Filter, afterID int64) (int, error) {
	var n int
	sub := base(ctx, db, sc, f).Select("c.id").Where("c.id > ?", afterID).Limit(100)
	err := db.WithContext(ctx).Raw("SELECT count(*) FROM (?) s", sub).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("console: count new cases: %w", err)
	}
	return n, nil
}

// BulkCap is the most cases one "all matching this filter" bulk action may change.
const BulkCap = 5000

// MatchingIDs returns the ids of every case matching f in queue sc, in queue order.
// It fails with apperr.ErrValidation when more than BulkCap cases match.
func MatchingIDs(ctx context.Context, db *gorm.DB, sc Scope, f Filter) ([]int64, error) {
	f.After = nil
	var ids []int64
	if err := ordered(base(ctx, db, sc, f), f).Limit(BulkCap+1).Pluck("c.id", &ids).Error; err != nil {
		return nil, fmt.Errorf("console: matching ids: %w", err)
	}
	if len(ids) > BulkCap {
		return nil, apperr.Invalidf("This filter matches more than %d cases. Narrow it down (for example by status, urgency or date) and try again; nothing was changed.", BulkCap)
	}
	return ids, nil
}

// EachRow calls fn for every case matching f in queue sc, in queue order, reading
// rows from a database cursor as fn consumes them (CSV export).
func EachRow(ctx context.Context, db *gorm.DB, sc Scope, f Filter, fn func(Row) error) error {
	f.After = nil
	rows, err := ordered(base(ctx, db, sc, f), f).
		Select(rowColumns).Joins("LEFT JOIN users u ON u.id = c.assignee_id").Rows()
	if err != nil {
		return fmt.Errorf("console: export query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Row
		if err := db.ScanRows(rows, &r); err != nil {
			return fmt.Errorf("console: export scan: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
