package approval

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/triage"
)

// Tier holds the amount bounds of one currency, in integer minor units. Amounts
// below AutomaticBelow may be approved automatically (when everything else allows
// it), amounts below OneApproverBelow need one approver, the rest two. Approving an
// amount above StepUpAbove needs a recent sign-in.
type Tier struct {
	AutomaticBelow   int64 `json:"automatic_below"`
	OneApproverBelow int64 `json:"one_approver_below"`
	StepUpAbove      int64 `json:"step_up_above"`
	// CommentAbove, when set, makes approvers explain an approval of more than it.
	CommentAbove int64 `json:"comment_above,omitempty"`
}

// Rules is one version of the approval policy, as stored in policy_versions.rules.
type Rules struct {
	// Currencies holds the default tier per ISO currency. A currency not listed
	// (for the kind or here) needs two approvers and a step-up.
	Currencies map[string]Tier `json:"currencies"`
	// Kinds overrides Currencies per case kind: kind -> currency -> tier.
	Kinds map[string]map[string]Tier `json:"kinds,omitempty"`
	// AlwaysHumanKinds are never approved automatically.
	AlwaysHumanKinds []string `json:"always_human_kinds"`
	// NoAmountApprovals is how many approvers a case without an amount needs (1 or 2).
	NoAmountApprovals int `json:"no_amount_approvals"`
	// StepUpMinutes is how recent the sign-in must be above the step-up amount.
	StepUpMinutes int `json:"step_up_minutes"`
	// CommentWhenUnverified makes approvers explain an approval of a claim the
	// billing system did not confirm.
	CommentWhenUnverified bool `json:"comment_when_unverified,omitempty"`
}

// Version is one stored policy version.
type Version struct {
	ID        int64
	CreatedAt time.Time
	CreatedBy string
	Rules     Rules
}

// Requirement is what the policy asks of one case.
type Requirement struct {
	Approvals     int  // 0 (automatic), 1 or 2 distinct approvers
	StepUp        bool // approving needs a sign-in within StepUpMinutes
	StepUpMinutes int
	Reasons       []string // why, in order, for the approver to read
	// Comment says approving needs a comment; CommentWhy says why.
	Comment    bool
	CommentWhy string
}

// Facts are what the policy looks at.
type Facts struct {
	Kind                string
	AmountMinor         *int64
	Currency            string
	VIP                 bool
	ClaimVerified       bool // claim_checks.verified
	RecipientUnverified bool // a planned email goes to a recipient not yet verified
}

// ParseRules decodes and validates rules; unknown fields are refused, so a typo
// cannot silently drop a limit.
func ParseRules(b []byte) (Rules, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return Rules{}, apperr.Invalidf("The policy is not valid JSON for the rules format: %v.", err)
	}
	if dec.More() {
		return Rules{}, apperr.Invalidf("The policy has content after the rules object.")
	}
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	return r, nil
}

// Validate checks every bound and name; the message says which one is wrong.
func (r Rules) Validate() error {
	var problems []string
	checkTiers := func(where string, tiers map[string]Tier) {
		for cur, t := range tiers {
			if _, ok := money.Exponent(cur); !ok || cur != strings.ToUpper(cur) {
				problems = append(problems, fmt.Sprintf("%s: %q is not a known upper-case ISO currency", where, cur))
			}
			switch {
			case t.AutomaticBelow < 0 || t.OneApproverBelow < 0 || t.StepUpAbove <= 0:
				problems = append(problems, fmt.Sprintf("%s %s: limits must be positive minor units", where, cur))
			case t.AutomaticBelow > t.OneApproverBelow:
				problems = append(problems, fmt.Sprintf("%s %s: automatic_below is above one_approver_below", where, cur))
			case t.CommentAbove < 0:
				problems = append(problems, fmt.Sprintf("%s %s: comment_above must not be negative", where, cur))
			case t.OneApproverBelow > money.MaxMinor || t.StepUpAbove > money.MaxMinor || t.CommentAbove > money.MaxMinor:
				problems = append(problems, fmt.Sprintf("%s %s: a limit is above the largest amount", where, cur))
			}
		}
	}
	if len(r.Currencies) == 0 {
		problems = append(problems, "currencies: at least one currency is needed")
	}
	checkTiers("currencies", r.Currencies)
	for k, tiers := range r.Kinds {
		if !triage.Kind(k).Valid() {
			problems = append(problems, fmt.Sprintf("kinds: %q is not a case kind", k))
		}
		checkTiers("kinds."+k, tiers)
	}
	for _, k := range r.AlwaysHumanKinds {
		if !triage.Kind(k).Valid() {
			problems = append(problems, fmt.Sprintf("always_human_kinds: %q is not a case kind", k))
		}
	}
	if r.NoAmountApprovals != 1 && r.NoAmountApprovals != 2 {
		problems = append(problems, "no_amount_approvals: must be 1 or 2")
	}
	if r.StepUpMinutes < 1 || r.StepUpMinutes > 24*60 {
		problems = append(problems, "step_up_minutes: must be between 1 and 1440")
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return apperr.Invalidf("The policy is not valid: %s.", strings.Join(problems, "; "))
	}
	return nil
}

// tier finds the bounds for kind and currency.
func (r Rules) tier(kind, currency string) (Tier, bool) {
	if t, ok := r.Kinds[kind][currency]; ok {
		return t, true
	}
	t, ok := r.Currencies[currency]
	return t, ok
}

// Require says how many approvers a case needs and whether approving needs a
// recent sign-in. Automatic approval needs a verified claim, an amount below the
// automatic limit, a kind that is not always human, no VIP and no unverified
// recipient; anything else needs at least one person.
func (r Rules) Require(f Facts) Requirement {
	req := Requirement{StepUpMinutes: r.StepUpMinutes}
	if req.StepUpMinutes <= 0 {
		req.StepUpMinutes = 10
	}
	cur := strings.ToUpper(f.Currency)
	switch t, ok := r.tier(f.Kind, cur); {
	case f.AmountMinor == nil:
		req.Approvals = max(r.NoAmountApprovals, 1)
		req.Reasons = append(req.Reasons, fmt.Sprintf("No amount: %s.", approverWords(req.Approvals)))
	case !ok:
		req.Approvals, req.StepUp = 2, true
		req.Reasons = append(req.Reasons, fmt.Sprintf("Currency %q has no policy: two approvers and a recent sign-in.", cur))
	default:
		a := *f.AmountMinor
		switch {
		case a < t.AutomaticBelow:
			req.Approvals = 0
		case a < t.OneApproverBelow:
			req.Approvals = 1
		default:
			req.Approvals = 2
		}
		req.StepUp = a > t.StepUpAbove
		if t.CommentAbove > 0 && a > t.CommentAbove {
			req.Comment = true
			req.CommentWhy = fmt.Sprintf("the amount is above %s %s", money.Amount{Minor: t.CommentAbove, Currency: cur}.Major(), cur)
		}
		req.Reasons = append(req.Reasons, tierReason(a, cur, t, req.Approvals))
		if req.StepUp {
			req.Reasons = append(req.Reasons, fmt.Sprintf("Above %s %s: approving needs a sign-in within %d minutes.",
				money.Amount{Minor: t.StepUpAbove, Currency: cur}.Major(), cur, req.StepUpMinutes))
		}
	}
	if r.CommentWhenUnverified && !f.ClaimVerified && !req.Comment {
		req.Comment, req.CommentWhy = true, "the billing system did not confirm the claim"
	}
	if req.Comment {
		req.Reasons = append(req.Reasons, "Approving needs a comment: "+req.CommentWhy+".")
	}
	if req.Approvals == 0 {
		var human []string
		if !f.ClaimVerified {
			human = append(human, "the claim is not verified against the billing system")
		}
		if slices.Contains(r.AlwaysHumanKinds, f.Kind) {
			human = append(human, f.Kind+" cases are always decided by a person")
		}
		if f.VIP {
			human = append(human, "VIP customer")
		}
		if f.RecipientUnverified {
			human = append(human, "the recipient is not verified")
		}
		if len(human) > 0 {
			req.Approvals = 1
			req.Reasons = append(req.Reasons, "Needs a person: "+strings.Join(human, "; ")+".")
		}
	}
	return req
}

func tierReason(a int64, cur string, t Tier, n int) string {
	am := func(m int64) string { return money.Amount{Minor: m, Currency: cur}.Major() + " " + cur }
	switch n {
	case 0:
		return fmt.Sprintf("%s is below the automatic limit of %s.", am(a), am(t.AutomaticBelow))
	case 1:
		return fmt.Sprintf("%s is below %s: one approver.", am(a), am(t.OneApproverBelow))
	}
	return fmt.Sprintf("%s is at or above %s: two distinct approvers.", am(a), am(t.OneApproverBelow))
}

func approverWords(n int) string {
	if n == 2 {
		return "two distinct approvers"
	}
	return "one approver"
}

// CurrentPolicy returns the newest policy version.
func CurrentPolicy(ctx context.Context, db *gorm.DB) (Version, error) {
	return loadPolicy(ctx, db, 0)
}

// PolicyAt returns version id (0: the newest).
func PolicyAt(ctx context.Context, db *gorm.DB, id int64) (Version, error) {
	return loadPolicy(ctx, db, id)
}

func loadPolicy(ctx context.Context, db *gorm.DB, id int64) (Version, error) {
	var row struct {
		ID        int64     `gorm:"column:id"`
		CreatedAt time.Time `gorm:"column:created_at"`
		CreatedBy string    `gorm:"column:created_by"`
		Rules     string    `gorm:"column:rules"`
	}
	q := db.WithContext(ctx).Table("policy_versions").Select("id, created_at, created_by, rules::text AS rules")
	if id > 0 {
		q = q.Where("id = ?", id)
	}
	err := q.Order("id DESC").Limit(1).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Version{}, apperr.NotFoundf("Policy version %d does not exist.", id)
	}
	if err != nil {
		return Version{}, fmt.Errorf("approval: load policy %d: %w", id, err)
	}
	var r Rules
	if err := json.Unmarshal([]byte(row.Rules), &r); err != nil {
		return Version{}, fmt.Errorf("approval: policy %d: %w", row.ID, err)
	}
	return Version{ID: row.ID, CreatedAt: row.CreatedAt.UTC(), CreatedBy: row.CreatedBy, Rules: r}, nil
}

// PolicyHistory lists versions, newest first.
func PolicyHistory(ctx context.Context, db *gorm.DB, limit int) ([]Version, error) {
	var ids []int64
	if err := db.WithContext(ctx).Raw("SELECT id FROM policy_versions ORDER BY id DESC LIMIT ?", limit).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("approval: policy history: %w", err)
	}
	out := make([]Version, 0, len(ids))
	for _, id := range ids {
		v, err := loadPolicy(ctx, db, id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// SavePolicy validates rules and stores them as a new version, with its audit entry
// (actor from entry) in the same transaction. Cases already awaiting approval keep
// the version they entered with.
func SavePolicy(ctx context.Context, db *gorm.DB, rules Rules, entry audit.Entry) (Version, error) {
	if err := rules.Validate(); err != nil {
		return Version{}, err
	}
	raw, err := json.Marshal(rules)
	if err != nil {
		return Version{}, fmt.Errorf("approval: encode policy: %w", err)
	}
	var id int64
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var prev int64
		if err := tx.Raw("SELECT coalesce(max(id), 0) FROM policy_versions").Scan(&prev).Error; err != nil {
			return fmt.Errorf("approval: policy head: %w", err)
		}
		if err := tx.Raw(`INSERT INTO policy_versions (created_by, rules) VALUES (?, CAST(? AS jsonb)) RETURNING id`,
			entry.Actor, string(raw)).Scan(&id).Error; err != nil {
			return fmt.Errorf("approval: insert policy: %w", err)
		}
		var asMap map[string]any
		_ = json.Unmarshal(raw, &asMap)
		entry.Action, entry.ObjectType, entry.ObjectID = "policy.changed", "policy", fmt.Sprint(id)
		entry.Summary = map[string]any{"version": id, "previous_version": prev, "rules": asMap}
		if _, err := audit.Append(ctx, tx, entry); err != nil {
			return fmt.Errorf("approval: audit policy: %w", err)
		}
		return nil
	})
	if err != nil {
		return Version{}, err
	}
	return loadPolicy(ctx, db, id)
}

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }
