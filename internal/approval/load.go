package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/models"
)

// caseData is the case and call facts decisions and planning read.
type caseData struct {
	ID               int64             `gorm:"column:id"`
	CallID           int64             `gorm:"column:call_id"`
	Kind             string            `gorm:"column:kind"`
	Status           models.CaseStatus `gorm:"column:status"`
	VIP              bool              `gorm:"column:vip"`
	AmountMinor      *int64            `gorm:"column:amount_minor"`
	Currency         string            `gorm:"column:currency"`
	DestType         string            `gorm:"column:destination_type"`
	DestRef          string            `gorm:"column:destination_ref"`
	CustomerLabel    string            `gorm:"column:customer_label"`
	RecipientEmail   string            `gorm:"column:recipient_email"`
	PolicyVersion    *int64            `gorm:"column:policy_version"`
	RequestedBy      *int64            `gorm:"column:requested_by"`
	RequestedAt      *time.Time        `gorm:"column:requested_at"`
	FollowUpDeadline *time.Time        `gorm:"column:follow_up_deadline"`
	ApprovalDeadline *time.Time        `gorm:"column:approval_deadline"`
	DialNexaID       string            `gorm:"column:dialnexa_id"`
	CallEmail        string            `gorm:"column:customer_email"`
	CustomerRef      string            `gorm:"column:customer_ref"`
	CustomerNumber   string            `gorm:"column:customer_number"`
	CallVIP          bool              `gorm:"column:call_vip"`
	FieldsJSON       string            `gorm:"column:fields"`
	SuppressedJSON   string            `gorm:"column:suppressed"`
	// What the handoff summary reads (internal/handoff).
	Owner         string `gorm:"column:owner"`
	NextStep      string `gorm:"column:next_step"`
	RecordURL     string `gorm:"column:record_url"`
	SuspectedKind string `gorm:"column:suspected_kind"`
	CallSummary   string `gorm:"column:call_summary"`
	CheckScore    string `gorm:"column:check_score"` // claim_checks.score
	CheckRoute    string `gorm:"column:check_route"` // claim_checks.route
	RecordingURL  string `gorm:"column:recording_url"`
}

const caseColumns = `c.id, c.call_id, c.kind, c.status, c.vip, c.amount_minor, c.currency, c.destination_type,
	c.destination_ref, c.customer_label, c.recipient_email, c.policy_version, c.requested_by, c.requested_at,
	c.follow_up_deadline, c.approval_deadline, cl.dialnexa_id, cl.customer_email, cl.customer_ref,
	cl.customer_number, cl.vip AS call_vip, cl.fields::text AS fields, cl.suppressed::text AS suppressed,
	c.owner, c.next_step, c.record_url, c.suspected_kind, cl.summary AS call_summary,
	(SELECT cc.score::text FROM claim_checks cc WHERE cc.case_id = c.id) AS check_score,
	(SELECT cc.route::text FROM claim_checks cc WHERE cc.case_id = c.id) AS check_route,
	cl.recording_url`

// loadCase reads case id; with lock it holds the case row until tx ends.
func loadCase(ctx context.Context, tx *gorm.DB, id int64, lock bool) (*caseData, error) {
	q := `SELECT ` + caseColumns + ` FROM cases c JOIN calls cl ON cl.id = c.call_id WHERE c.id = ?`
	if lock {
		q += ` FOR UPDATE OF c`
	}
	var rows []caseData
	if err := tx.WithContext(ctx).Raw(q, id).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("approval: load case %d: %w", id, err)
	}
	if len(rows) == 0 {
		return nil, apperr.NotFoundf("Case %d does not exist.", id)
	}
	return &rows[0], nil
}

// field returns a text field of the call's extracted fields.
func (c *caseData) field(name string) string {
	var f map[string]any
	if json.Unmarshal([]byte(c.FieldsJSON), &f) != nil {
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
	case c.CustomerRef != "":
		return "ref:" + c.CustomerRef
	case c.DestType == "customer" && c.DestRef != "":
		return "ref:" + c.DestRef
	case c.CustomerNumber != "":
		return "phone:" + c.CustomerNumber
	}
	return ""
}

// BillingFact is one row of billing_facts.
type BillingFact struct {
	Source         string     `gorm:"column:source"` // stripe | sandbox
	Object         string     `gorm:"column:object"`
	ExternalID     string     `gorm:"column:external_id"`
	AmountMinor    *int64     `gorm:"column:amount_minor"`
	Currency       string     `gorm:"column:currency"`
	Status         string     `gorm:"column:status"`
	Refunded       bool       `gorm:"column:refunded"`
	AmountRefunded int64      `gorm:"column:amount_refunded"`
	Disputed       bool       `gorm:"column:disputed"`
	DueDate        *time.Time `gorm:"column:due_date"`
	CustomerEmail  string     `gorm:"column:customer_email"`
	LookedUpAt     time.Time  `gorm:"column:looked_up_at"`
}

func loadFacts(ctx context.Context, tx *gorm.DB, caseID int64) ([]BillingFact, bool, error) {
	var facts []BillingFact
	err := tx.WithContext(ctx).Raw(`SELECT source, object, external_id, amount_minor, currency, status, refunded,
		amount_refunded, disputed, due_date, customer_email, looked_up_at
		FROM billing_facts WHERE case_id = ? ORDER BY looked_up_at DESC, id DESC`, caseID).Scan(&facts).Error
	if err != nil {
		return nil, false, fmt.Errorf("approval: billing facts of case %d: %w", caseID, err)
	}
	var verified []bool
	if err := tx.WithContext(ctx).Raw(`SELECT verified FROM claim_checks WHERE case_id = ?`, caseID).Scan(&verified).Error; err != nil {
		return nil, false, fmt.Errorf("approval: claim check of case %d: %w", caseID, err)
	}
	return facts, len(verified) == 1 && verified[0], nil
}

func factOf(facts []BillingFact, objects ...string) *BillingFact {
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
func onFileEmail(facts []BillingFact) (string, time.Time) {
	for _, f := range facts {
		if f.CustomerEmail != "" {
			return strings.ToLower(strings.TrimSpace(f.CustomerEmail)), f.LookedUpAt
		}
	}
	return "", time.Time{}
}

// approvalDeadline is the source deadline: the follow-up deadline or a dispute's
// evidence due date, whichever is first.
func approvalDeadline(c *caseData, facts []BillingFact) *time.Time {
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
