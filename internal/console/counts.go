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

// NavCounts is every sidebar count for viewer: KindCounts plus ViewerCounts.
func NavCounts(ctx context.Context, db *gorm.DB, viewer int64) (Counts, error) {
	c, err := KindCounts(ctx, db)
	if err != nil {
		return Counts{}, err
	}
	return ViewerCounts(ctx, db, viewer, c)
}

// KindCounts counts open cases per kind (each capped at CountCap+1) and in all. It
// is the same for every viewer, so the console may cache it (see CountCache).
func KindCounts(ctx context.Context, db *gorm.DB) (Counts, error) {
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
		FROM unnest(string_to_array(@kinds, ',')) AS k(kind)`,
		map[string]any{"cap": CountCap + 1, "kinds": strings.Join(kinds, ",")}).
		Scan(&rows).Error
	if err != nil {
		return Counts{}, fmt.Errorf("console: queue counts: %w", err)
	}
	c := Counts{Kinds: map[string]int{}}
	for _, r := range rows {
		c.Kinds[r.Name] = r.N
		c.Open += r.N
	}
	if c.Open > CountCap {
		c.Open = CountCap + 1
	}
	return c, nil
}

// ViewerCounts adds the viewer's own counts (assigned to me, unread mentions) to the
// kind counts in base. Both use small per-user indexes, so they stay live.
func ViewerCounts(ctx context.Context, db *gorm.DB, viewer int64, base Counts) (Counts, error) {
	var mine, mentions int
	err := db.WithContext(ctx).Raw(`
		SELECT (SELECT count(*) FROM (SELECT 1 FROM cases c
			WHERE c.assignee_id = @viewer AND `+openSQL+` LIMIT @cap) s),
		(SELECT count(DISTINCT n.case_id) FROM mentions m
			JOIN notes n ON n.id = m.note_id WHERE m.user_id = @viewer AND m.read_at IS NULL)`,
		map[string]any{"cap": CountCap + 1, "viewer": viewer}).Row().Scan(&mine, &mentions)
	if err != nil {
		return Counts{}, fmt.Errorf("console: my counts: %w", err)
	}
	out := base
	out.Kinds = make(map[string]int, len(base.Kinds))
	for k, v := range base.Kinds {
		out.Kinds[k] = v
	}
	out.Mine, out.Mentions = mine, mentions
	return out, nil
}
