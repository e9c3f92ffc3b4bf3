package console

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/triage"
)

// CountCap bounds each navigation count: counting stops at CountCap+1 rows, so the
// sidebar costs a few short index-only scans even with millions of cases. A count
// above CountCap is shown as "10,000+".
const CountCap = 10000

// Counts are the navigation counts: open cases per kind, the open total, the
// viewer's open assigned cases and cases with unread mentions of the viewer.
type Counts struct {
	Kinds    map[string]int
	Open     int
	Mine     int
	Mentions int
}

// NavCounts runs one query for every count in the navigation.
func NavCounts(ctx context.Context, db *gorm.DB, viewer int64) (Counts, error) {
	kinds := make([]string, len(triage.Kinds))
	for i, k := range triage.Kinds {
		kinds[i] = string(k)
	}
	type kv struct {
		Name string `gorm:"column:name"`
		N    int    `gorm:"column:n"`
	}
	var rows []kv
	err := db.WithContext(ctx).Raw(`
		SELECT k.kind AS name, (SELECT count(*) FROM (SELECT 1 FROM cases c
			WHERE c.kind = k.kind AND `+openSQL+` LIMIT @cap) s) AS n
		FROM unnest(string_to_array(@kinds, ',')) AS k(kind)
		UNION ALL
		SELECT 'mine', (SELECT count(*) FROM (SELECT 1 FROM cases c
			WHERE c.assignee_id = @viewer AND `+openSQL+` LIMIT @cap) s)
		UNION ALL
		SELECT 'mentions', (SELECT count(DISTINCT n.case_id) FROM mentions m
			JOIN notes n ON n.id = m.note_id WHERE m.user_id = @viewer AND m.read_at IS NULL)`,
		map[string]any{"cap": CountCap + 1, "kinds": strings.Join(kinds, ","), "viewer": viewer}).
		Scan(&rows).Error
	if err != nil {
		return Counts{}, fmt.Errorf("console: nav counts: %w", err)
	}
	c := Counts{Kinds: map[string]int{}}
	for _, r := range rows {
		switch r.Name {
		case QueueMine:
			c.Mine = r.N
		case QueueMentions:
			c.Mentions = r.N
		default:
			c.Kinds[r.Name] = r.N
			c.Open += r.N
		}
	}
	if c.Open > CountCap {
		c.Open = CountCap + 1
	}
	return c, nil
}
