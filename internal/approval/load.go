package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/models"
)

// caseData is a case row and the row of its call: what decisions and planning read.
type caseData struct {
	models.Case
	Call models.Call
	// The claim check's score and route as JSON (claim_checks, owned by enrich), for
	// the handoff summary; "" before the check ran.
	CheckScore string `gorm:"-"`
	CheckRoute string `gorm:"-"`
}

// loadCase reads case id and its call; with lock it holds the case row (SELECT ...
// FOR UPDATE) until tx ends. A case whose call retention removed is not found: only
// closed cases lose their call, and nothing decides a closed case.
func loadCase(ctx context.Context, tx *gorm.DB, id int64, lock bool) (*caseData, error) {
	var c caseData
	q := tx.WithContext(ctx)
	if lock {
		q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate})
	}
	res := q.Where("id = ?", id).Limit(1).Find(&c.Case)
	if res.Error != nil {
		return nil, fmt.Errorf("approval: load case %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, apperr.NotFoundf("Case %d does not exist.", id)
	}
	res = tx.WithContext(ctx).Where("id = ?", c.CallID).Limit(1).Find(&c.Call)
	if res.Error != nil {
		return nil, fmt.Errorf("approval: load call of case %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, apperr.NotFoundf("Case %d does not exist.", id)
	}
	var check struct {
		Score string `gorm:"column:score"`
		Route string `gorm:"column:route"`
	}
	err := tx.WithContext(ctx).Raw(`SELECT score::text AS score, route::text AS route FROM claim_checks WHERE case_id = ?`, id).Scan(&check).Error
	if err != nil {
		return nil, fmt.Errorf("approval: claim check of case %d: %w", id, err)
	}
	c.CheckScore, c.CheckRoute = check.Score, check.Route
	return &c, nil
}

// field returns a text field of the call's extracted fields.
func (c *caseData) field(name string) string {
	var f map[string]any
	if json.Unmarshal(c.Call.Fields, &f) != nil {
		return ""
	}
	switch v := f[name].(type) {
	case string:
		return strings.TrimSpace(v)
	case float64, bool:
		return fmt.Sprint(v)
	}
	return ""
}

// customerKey names the customer verified recipients belong to: the billing-system
// customer id when known, else the phone number the customer called from.
func (c *caseData) customerKey() string {
	switch {
	case c.Call.CustomerRef != "":
		return "ref:" + c.Call.CustomerRef
	case c.DestinationType == "customer" && c.DestinationRef != "":
		return "ref:" + c.DestinationRef
	case c.Call.CustomerNumber != "":
		return "phone:" + c.Call.CustomerNumber
	}
	return ""
}

func loadFacts(ctx context.Context, tx *gorm.DB, caseID int64) ([]models.BillingFact, bool, error) {
	var facts []models.BillingFact
	err := tx.WithContext(ctx).Where("case_id = ?", caseID).Order("looked_up_at DESC, id DESC").Find(&facts).Error
	if err != nil {
		return nil, false, fmt.Errorf("approval: billing facts of case %d: %w", caseID, err)
	}
	var verified []bool
	if err := tx.WithContext(ctx).Raw(`SELECT verified FROM claim_checks WHERE case_id = ?`, caseID).Scan(&verified).Error; err != nil {
		return nil, false, fmt.Errorf("approval: claim check of case %d: %w", caseID, err)
	}
	return facts, len(verified) == 1 && verified[0], nil
}

func factOf(facts []models.BillingFact, objects ...string) *models.BillingFact {
	for i := range facts {
		for _, o := range objects {
			if facts[i].Object == o && facts[i].ExternalID != "" {
				return &facts[i]
			}
		}
	}
	return nil
}

// onFileEmail is the billing email on file and when it was read.
func onFileEmail(facts []models.BillingFact) (string, time.Time) {
	for _, f := range facts {
		if f.CustomerEmail != "" {
			return strings.ToLower(strings.TrimSpace(f.CustomerEmail)), f.LookedUpAt
		}
	}
	return "", time.Time{}
}

// approvalDeadline is the source deadline: the follow-up deadline or a dispute's
// evidence due date, whichever is first.
func approvalDeadline(c *caseData, facts []models.BillingFact) *time.Time {
	d := c.FollowUpDeadline
	for _, f := range facts {
		if f.Object == "dispute" && f.DueDate != nil && (d == nil || f.DueDate.Before(*d)) {
			d = f.DueDate
		}
	}
	return d
}

// DueSoonWindow is how close to its approval deadline a case is flagged.
const DueSoonWindow = 24 * time.Hour

// DueSoon reports whether an approval deadline is within DueSoonWindow of now (or
// already past). The console calls it with cases.approval_deadline.
func DueSoon(deadline *time.Time, now time.Time) bool {
	return deadline != nil && deadline.Sub(now) <= DueSoonWindow
}
