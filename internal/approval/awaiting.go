package approval

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Awaiting is one case in an approver's "awaiting my approval" list.
type Awaiting struct {
	CaseID        int64      `gorm:"column:id"`
	Kind          string     `gorm:"column:kind"`
	AmountMinor   *int64     `gorm:"column:amount_minor"`
	Currency      string     `gorm:"column:currency"`
	Customer      string     `gorm:"column:customer_label"`
	VIP           bool       `gorm:"column:vip"`
	Requester     string     `gorm:"column:requester"`
	RequestedAt   *time.Time `gorm:"column:requested_at"`
	Deadline      *time.Time `gorm:"column:approval_deadline"`
	PolicyVersion *int64     `gorm:"column:policy_version"`
	ClaimVerified bool       `gorm:"column:claim_verified"`
	Approvals     int        `gorm:"column:approvals"` // live approvals so far
	// Required is what the policy version the case entered with asks for (at least
	// one: an awaiting case is decided by a person).
	Required int `gorm:"-"`
}

// awaitingWhere keeps the cases user may decide: awaiting approval, not requested,
// edited or re-requested by them, not already approved by them. The decision itself
// re-checks all of it under the case lock.
const awaitingWhere = `c.status = 'awaiting_approval'
	AND c.requested_by IS DISTINCT FROM @me
	AND NOT EXISTS (SELECT 1 FROM case_decisions d WHERE d.case_id = c.id AND d.actor_id = @me
		AND d.decision IN ('requested', 'edited', 'info_added', '` + decisionReplanned + `'))
	AND NOT EXISTS (SELECT 1 FROM approvals a WHERE a.case_id = c.id AND a.voided_at IS NULL AND a.approver_id = @me)`

// AwaitingFor lists up to limit cases userID may decide, the nearest deadline first,
// then the longest waiting.
func AwaitingFor(ctx context.Context, db *gorm.DB, userID int64, limit int) ([]Awaiting, error) {
	var rows []Awaiting
	err := db.WithContext(ctx).Raw(`SELECT c.id, c.kind, c.amount_minor, c.currency, c.customer_label, c.vip OR cl.vip AS vip,
		coalesce(nullif(u.name, ''), u.email, '') AS requester, c.requested_at, c.approval_deadline, c.policy_version,
		coalesce(cc.verified, false) AS claim_verified,
		(SELECT count(*) FROM approvals a WHERE a.case_id = c.id AND a.voided_at IS NULL) AS approvals
		FROM cases c JOIN calls cl ON cl.id = c.call_id
		LEFT JOIN users u ON u.id = c.requested_by
		LEFT JOIN claim_checks cc ON cc.case_id = c.id
		WHERE `+awaitingWhere+`
		ORDER BY coalesce(c.approval_deadline, 'infinity'::timestamptz), c.requested_at, c.id
		LIMIT @limit`, map[string]any{"me": userID, "limit": limit}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("approval: awaiting user %d: %w", userID, err)
	}
	policies := map[int64]Rules{}
	for i := range rows {
		var id int64
		if rows[i].PolicyVersion != nil {
			id = *rows[i].PolicyVersion
		}
		rules, ok := policies[id]
		if !ok {
			v, err := PolicyAt(ctx, db, id)
			if err != nil {
				return nil, err
			}
			rules, policies[id] = v.Rules, v.Rules
		}
		r := rows[i]
		req := rules.Require(Facts{Kind: r.Kind, AmountMinor: r.AmountMinor, Currency: r.Currency, VIP: r.VIP, ClaimVerified: r.ClaimVerified})
		rows[i].Required = max(req.Approvals, 1)
	}
	return rows, nil
}

// CountAwaitingFor is the size of userID's "awaiting my approval" list, for the sidebar.
func CountAwaitingFor(ctx context.Context, db *gorm.DB, userID int64) (int, error) {
	var n int
	err := db.WithContext(ctx).Raw(`SELECT count(*) FROM cases c WHERE `+awaitingWhere, map[string]any{"me": userID}).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("approval: count awaiting user %d: %w", userID, err)
	}
	return n, nil
}

// CountNeedsAttention is how many cases wait for a person after a failed action, for
// the sidebar's "Needs attention" queue.
func CountNeedsAttention(ctx context.Context, db *gorm.DB) (int, error) {
	var n int
	if err := db.WithContext(ctx).Raw(`SELECT count(*) FROM cases WHERE status = 'needs_attention'`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("approval: count needs attention: %w", err)
	}
	return n, nil
}

// UserPending is the decision work a user leaves behind when an administrator
// disables them: what the confirmation says stays as it is.
type UserPending struct {
	Approvals int `gorm:"column:approvals"` // their live approvals on cases still awaiting approval
	Requested int `gorm:"column:requested"` // cases they requested or edited, still awaiting approval
	Assigned  int `gorm:"column:assigned"`  // open cases assigned to them
}

// PendingOf counts userID's UserPending.
func PendingOf(ctx context.Context, db *gorm.DB, userID int64) (UserPending, error) {
	var p UserPending
	err := db.WithContext(ctx).Raw(`SELECT
		(SELECT count(*) FROM approvals a JOIN cases c ON c.id = a.case_id
			WHERE a.approver_id = @u AND a.voided_at IS NULL AND c.status = 'awaiting_approval') AS approvals,
		(SELECT count(*) FROM cases c WHERE c.status = 'awaiting_approval' AND c.requested_by = @u) AS requested,
		(SELECT count(*) FROM cases c WHERE c.assignee_id = @u AND c.status NOT IN ('done', 'rejected')) AS assigned`,
		map[string]any{"u": userID}).Scan(&p).Error
	if err != nil {
		return p, fmt.Errorf("approval: pending work of user %d: %w", userID, err)
	}
	return p, nil
}
