package console

import (
	"fmt"
	"sort"
	"strconv"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/audit"
)

// timelineLimit bounds the audit entries shown on a case page.
const timelineLimit = 200

// loadTimeline merges the case's audit entries and notes, newest last.
func loadTimeline(db *gorm.DB, d *Detail) error {
	recs, err := audit.List(db.Statement.Context, db, audit.Filter{ObjectType: "case",
		ObjectID: strconv.FormatInt(d.Case.ID, 10), Limit: timelineLimit})
	if err != nil {
		return fmt.Errorf("console: timeline of case %d: %w", d.Case.ID, err)
	}
	for _, r := range recs {
		if r.Action == "case.note_added" {
			continue // the note itself is on the timeline
		}
		d.Timeline = append(d.Timeline, Event{At: r.At, Actor: r.Actor, Action: r.Action, Summary: r.Summary})
	}
	for _, n := range d.Notes {
		d.Timeline = append(d.Timeline, Event{At: n.CreatedAt, Actor: n.Author, Action: "note", NoteID: n.ID})
	}
	sort.SliceStable(d.Timeline, func(i, j int) bool { return d.Timeline[i].At.Before(d.Timeline[j].At) })
	return nil
}

// historyLimit bounds the customer's other calls shown.
const historyLimit = 20

// loadHistory finds the customer's other calls (unanswered collection attempts
// included) by number, email or billing customer id, newest first, with their cases.
func loadHistory(db *gorm.DB, d *Detail) error {
	c := d.Call
	err := db.Raw(`SELECT id, dialnexa_id, status, summary, coalesce(initiated_at, received_at) AS received_at FROM calls WHERE id <> @self AND id IN (
			(SELECT id FROM calls WHERE @num <> '' AND customer_number = @num ORDER BY received_at DESC LIMIT @lim)
			UNION (SELECT id FROM calls WHERE @email <> '' AND lower(customer_email) = lower(@email)
				AND customer_email <> '' ORDER BY received_at DESC LIMIT @lim)
			UNION (SELECT id FROM calls WHERE @ref <> '' AND customer_ref = @ref AND customer_ref <> ''
				ORDER BY received_at DESC LIMIT @lim))
		ORDER BY received_at DESC, id DESC LIMIT @lim`,
		map[string]any{"self": d.Case.CallID, "num": c.CustomerNumber, "email": c.CustomerEmail,
			"ref": c.CustomerRef, "lim": historyLimit}).Scan(&d.Customer).Error
	if err != nil {
		return fmt.Errorf("console: customer history of case %d: %w", d.Case.ID, err)
	}
	if len(d.Customer) == 0 {
		return nil
	}
	ids := make([]int64, len(d.Customer))
	for i, h := range d.Customer {
		ids[i] = h.ID
	}
	var cases []HistoryCase
	if err := db.Raw("SELECT id, call_id, kind, status FROM cases WHERE call_id IN ? ORDER BY id", ids).Scan(&cases).Error; err != nil {
		return fmt.Errorf("console: customer cases of case %d: %w", d.Case.ID, err)
	}
	byCall := map[int64][]HistoryCase{}
	for _, hc := range cases {
		byCall[hc.CallID] = append(byCall[hc.CallID], hc)
	}
	for i := range d.Customer {
		d.Customer[i].Cases = byCall[d.Customer[i].ID]
	}
	return nil
}
