package console

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/internal/triage"
	"github.com/countersign/countersign/models"
)

// Action names of Change, as posted by the bulk form and the case page.
const (
	ActAssign     = "assign"     // to Action.AssigneeID
	ActUnassign   = "unassign"   // clear the assignee
	ActReclassify = "reclassify" // to Action.Kind
	ActTag        = "tag"        // add Action.Tag
	ActUntag      = "untag"      // remove Action.Tag
	ActReview     = "review"     // mark reviewed
)

// Action is one change to apply to one or many cases.
type Action struct {
	Name       string
	AssigneeID int64
	Kind       string
	Tag        string
}

// Result says what a change did: cases changed, and cases left alone with why.
type Result struct {
	Changed []int64
	Skipped map[int64]string // case id -> reason ("already assigned", "not found", ...)
}

var tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9 _-]{0,31}$`)

// validate normalises a and checks what does not depend on the cases.
func (a *Action) validate(ctx context.Context, db *gorm.DB) error {
	switch a.Name {
	case ActAssign:
		return checkAssignee(ctx, db, a.AssigneeID)
	case ActReclassify:
		if !triage.Kind(a.Kind).Valid() {
			return apperr.Invalidf("Choose the kind to move the case to.")
		}
	case ActTag, ActUntag:
		a.Tag = strings.ToLower(strings.TrimSpace(a.Tag))
		if !tagPattern.MatchString(a.Tag) {
			return apperr.Invalidf("A tag is 1 to 32 lower-case letters, digits, spaces, - or _, starting with a letter or digit.")
		}
	case ActUnassign, ActReview:
	default:
		return apperr.Invalidf("Unknown action %q.", a.Name)
	}
	return nil
}

// checkAssignee accepts active users who can triage.
func checkAssignee(ctx context.Context, db *gorm.DB, id int64) error {
	var ok bool
	err := db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM users WHERE id = ? AND NOT disabled
		AND roles && string_to_array(?, ','))`, id, auth.SQLList(auth.Triagers)).Scan(&ok).Error
	if err != nil {
		return fmt.Errorf("console: check assignee: %w", err)
	}
	if !ok {
		return apperr.Invalidf("That person cannot be assigned cases (unknown, disabled, or without a support or finance role).")
	}
	return nil
}

// Change applies a to the cases ids in one transaction and writes one audit entry per
// changed case (with "bulk": true when more than one case was asked for). Cases the
// action would not change are skipped with a reason, not an error.
func Change(ctx context.Context, db *gorm.DB, p *auth.Principal, ids []int64, a Action) (Result, error) {
	if err := a.validate(ctx, db); err != nil {
		return Result{}, err
	}
	res := Result{Skipped: map[int64]string{}}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var locked []models.Case
		err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("id IN ?", ids).Order("id").Find(&locked).Error
		if err != nil {
			return fmt.Errorf("console: lock cases: %w", err)
		}
		found := map[int64]bool{}
		for _, c := range locked {
			found[c.ID] = true
		}
		for _, id := range ids {
			if !found[id] {
				res.Skipped[id] = "not found"
			}
		}
		changes, err := plan(tx, locked, a, res.Skipped)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			if err := apply(tx, ch.id, a); err != nil {
				return err
			}
			res.Changed = append(res.Changed, ch.id)
		}
		for _, ch := range changes {
			ch.summary["bulk"] = len(ids) > 1
			if _, err := audit.Append(ctx, tx, Entry(ctx, p, ch.action, ch.id, ch.summary)); err != nil {
				return fmt.Errorf("console: audit case %d: %w", ch.id, err)
			}
		}
		return nil
	})
	return res, err
}

// Entry is the audit entry for a change to case id by p, with the request's facts.
func Entry(ctx context.Context, p *auth.Principal, action string, id int64, summary map[string]any) audit.Entry {
	info := reqlog.From(ctx)
	e := audit.Entry{Actor: p.Label(), Action: action, ObjectType: "case",
		ObjectID: strconv.FormatInt(id, 10), Summary: summary,
		RequestID: info.RequestID, IP: info.IP, UserAgent: info.UserAgent}
	if p != nil {
		uid := p.UserID
		e.ActorID = &uid
	}
	return e
}

type change struct {
	id      int64
	action  string
	summary map[string]any
}

// plan decides, per locked case, whether a changes it.
func plan(tx *gorm.DB, locked []models.Case, a Action, skipped map[int64]string) ([]change, error) {
	taken, err := takenKinds(tx, locked, a)
	if err != nil {
		return nil, err
	}
	var out []change
	for _, c := range locked {
		ch, why := planOne(c, a, taken)
		if why != "" {
			skipped[c.ID] = why
			continue
		}
		out = append(out, ch)
	}
	return out, nil
}

// takenKinds lists the calls that already have a case of the target kind.
func takenKinds(tx *gorm.DB, locked []models.Case, a Action) (map[int64]int64, error) {
	taken := map[int64]int64{}
	if a.Name != ActReclassify || len(locked) == 0 {
		return taken, nil
	}
	calls := make([]int64, len(locked))
	for i, c := range locked {
		calls[i] = c.CallID
	}
	var rows []struct {
		ID     int64 `gorm:"column:id"`
		CallID int64 `gorm:"column:call_id"`
	}
	if err := tx.Raw("SELECT id, call_id FROM cases WHERE kind = ? AND call_id IN ?", a.Kind, calls).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("console: reclassify conflicts: %w", err)
	}
	for _, r := range rows {
		taken[r.CallID] = r.ID
	}
	return taken, nil
}

func planOne(c models.Case, a Action, taken map[int64]int64) (change, string) {
	ch := change{id: c.ID, summary: map[string]any{}}
	tags := []string(c.Tags)
	switch a.Name {
	case ActAssign, ActUnassign:
		var to *int64
		if a.Name == ActAssign {
			to = &a.AssigneeID
		}
		if (c.AssigneeID == nil && to == nil) || (c.AssigneeID != nil && to != nil && *c.AssigneeID == *to) {
			return ch, "already assigned that way"
		}
		ch.action, ch.summary["from"], ch.summary["to"] = "case.assigned", c.AssigneeID, to
	case ActReclassify:
		if c.Kind == a.Kind {
			return ch, "already " + a.Kind
		}
		if other, ok := taken[c.CallID]; ok {
			return ch, fmt.Sprintf("the call already has a %s case (#%d)", a.Kind, other)
		}
		taken[c.CallID] = c.ID
		ch.action, ch.summary["from"], ch.summary["to"] = "case.reclassified", c.Kind, a.Kind
	case ActTag:
		if slices.Contains(tags, a.Tag) {
			return ch, "already tagged " + a.Tag
		}
		ch.action, ch.summary["added"] = "case.tagged", a.Tag
	case ActUntag:
		if !slices.Contains(tags, a.Tag) {
			return ch, "not tagged " + a.Tag
		}
		ch.action, ch.summary["removed"] = "case.untagged", a.Tag
	case ActReview:
		if c.Reviewed {
			return ch, "already reviewed"
		}
		ch.action = "case.reviewed"
	}
	return ch, ""
}

func apply(tx *gorm.DB, id int64, a Action) error {
	var q *gorm.DB
	switch a.Name {
	case ActAssign:
		q = tx.Exec("UPDATE cases SET assignee_id = ?, updated_at = now() WHERE id = ?", a.AssigneeID, id)
	case ActUnassign:
		q = tx.Exec("UPDATE cases SET assignee_id = NULL, updated_at = now() WHERE id = ?", id)
	case ActReclassify:
		q = tx.Exec("UPDATE cases SET kind = ?, updated_at = now() WHERE id = ?", a.Kind, id)
	case ActTag:
		q = tx.Exec("UPDATE cases SET tags = array_append(tags, ?::text), updated_at = now() WHERE id = ?", a.Tag, id)
	case ActUntag:
		q = tx.Exec("UPDATE cases SET tags = array_remove(tags, ?::text), updated_at = now() WHERE id = ?", a.Tag, id)
	case ActReview:
		q = tx.Exec("UPDATE cases SET reviewed = true, updated_at = now() WHERE id = ?", id)
	}
	if err := q.Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return apperr.Conflictf("Case %d: the call already has a %s case.", id, a.Kind)
		}
		return fmt.Errorf("console: %s case %d: %w", a.Name, id, err)
	}
	return nil
}

// ChangeOne applies a to one case; unlike Change, a case that does not exist is
// apperr.ErrNotFound and a reclassification onto a kind the call already has is apperr.ErrConflict.
func ChangeOne(ctx context.Context, db *gorm.DB, p *auth.Principal, id int64, a Action) (bool, error) {
	res, err := Change(ctx, db, p, []int64{id}, a)
	if err != nil {
		return false, err
	}
	why, skipped := res.Skipped[id]
	switch {
	case why == "not found":
		return false, apperr.NotFoundf("Case %d does not exist.", id)
	case skipped && a.Name == ActReclassify && strings.HasPrefix(why, "the call already has"):
		return false, apperr.Conflictf("Case %d was not moved: %s. Open that case instead, or close one of them.", id, why)
	}
	return !skipped, nil
}
