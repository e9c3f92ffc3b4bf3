package approval

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/models"
)

// Edit is a change to what an approval would do. Empty fields keep their value;
// Recipient "-" goes back to the address the caller gave.
type Edit struct {
	Amount      string // major units, "249.00"
	Currency    string
	Destination string // ch_..., pi_..., in_..., cus_..., INV-...
	Recipient   string
}

var destPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

type editedCase struct {
	amount    *int64
	currency  string
	destType  string
	destRef   string
	recipient string
}

// apply checks e against c and returns the new values and what changed.
func (e Edit) apply(c *caseData) (editedCase, map[string]any, error) {
	n := editedCase{amount: c.AmountMinor, currency: c.Currency, destType: c.DestinationType, destRef: c.DestinationRef, recipient: c.RecipientEmail}
	changes := map[string]any{}
	if cur := strings.ToUpper(strings.TrimSpace(e.Currency)); cur != "" && cur != n.currency {
		if _, ok := money.Exponent(cur); !ok {
			return n, nil, apperr.Invalidf("%q is not a currency we know (ISO 4217, like USD).", cur)
		}
		changes["currency"] = map[string]any{"before": n.currency, "after": cur}
		n.currency = cur
	}
	if am := strings.TrimSpace(e.Amount); am != "" {
		a, err := money.ParseMajor(am, n.currency)
		if err != nil {
			return n, nil, apperr.Invalidf("Amount: %v.", strings.TrimPrefix(err.Error(), "money: "))
		}
		if a.Minor <= 0 {
			return n, nil, apperr.Invalidf("The amount must be above zero.")
		}
		if n.amount == nil || *n.amount != a.Minor || changes["currency"] != nil {
			changes["amount_minor"] = map[string]any{"before": n.amount, "after": a.Minor}
			n.amount = &a.Minor
		}
	}
	if d := strings.TrimSpace(e.Destination); d != "" && d != n.destRef {
		if !destPattern.MatchString(d) {
			return n, nil, apperr.Invalidf("The destination is a billing-system id such as ch_..., pi_..., in_... or cus_....")
		}
		changes["destination"] = map[string]any{"before": n.destRef, "after": d}
		n.destRef, n.destType = d, destType(d, n.destType)
	}
	if r := normEmail(e.Recipient); r != "" && r != n.recipient {
		if r == "-" {
			r = ""
		} else if !validEmail(r) {
			return n, nil, apperr.Invalidf("The recipient must be one email address.")
		}
		changes["recipient"] = map[string]any{"before": MaskEmail(n.recipient), "after": MaskEmail(r)}
		n.recipient = r
	}
	return n, changes, nil
}

func destType(ref, old string) string {
	for prefix, t := range map[string]string{"ch_": "charge", "py_": "charge", "pi_": "payment", "in_": "invoice", "cus_": "customer", "sub_": "subscription"} {
		if strings.HasPrefix(ref, prefix) {
			return t
		}
	}
	return old
}

// EditPlan changes amount, currency, destination or recipient of a case not yet
// decided, re-plans it, and voids every approval of the previous plan: the case is
// awaiting approval again with no approvals.
func (s *Service) EditPlan(ctx context.Context, p *auth.Principal, caseID int64, e Edit) (Result, error) {
	if !p.HasAny(auth.Triagers...) {
		return Result{}, apperr.Forbiddenf("Only support leads and finance approvers edit a plan.")
	}
	var res Result
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := loadCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		if !editable(c.Status) {
			return apperr.Conflictf("Case %d is %s: its plan can no longer change.", caseID, c.Status)
		}
		changes, err := applyEdit(tx, c, e)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			return apperr.Invalidf("Nothing changed.")
		}
		res = Result{Status: c.Status}
		summary := map[string]any{"changes": changes}
		if c.Status == models.StatusAwaitingApproval || c.Status == models.StatusNeedsInfo {
			ps, err := replan(ctx, tx, c, s.Slack)
			if err != nil {
				return err
			}
			voided, err := voidApprovals(tx, caseID, ps.fp, "plan changed: "+strings.Join(keys(changes), ", "))
			if err != nil {
				return err
			}
			res.Fingerprint = ps.fp
			summary["fingerprint"], summary["approvals_voided"] = ps.fp, voided
		}
		if err := recordDecision(tx, caseID, "edited", p, "", strings.Join(keys(changes), ", "), res.Fingerprint); err != nil {
			return err
		}
		return appendAll(ctx, tx, []audit.Entry{entry(ctx, p, "case.plan_edited", caseID, summary)})
	})
	return res, err
}

// applyEdit checks e against the locked case c, stores the new values on the case
// and in c, and returns what changed (nothing stored when nothing changed).
func applyEdit(tx *gorm.DB, c *caseData, e Edit) (map[string]any, error) {
	n, changes, err := e.apply(c)
	if err != nil || len(changes) == 0 {
		return changes, err
	}
	err = tx.Exec(`UPDATE cases SET amount_minor = ?, currency = ?, destination_type = ?, destination_ref = ?,
		recipient_email = ?, updated_at = now() WHERE id = ?`, n.amount, n.currency, n.destType, n.destRef, n.recipient, c.ID).Error
	if err != nil {
		return nil, fmt.Errorf("approval: edit case %d: %w", c.ID, err)
	}
	c.AmountMinor, c.Currency, c.DestinationType, c.DestinationRef, c.RecipientEmail = n.amount, n.currency, n.destType, n.destRef, n.recipient
	return changes, nil
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// VerifyRecipient records that a support lead verified email for the case's
// customer by method (call_back or email_confirmation), and refreshes the plan's
// descriptions.
func (s *Service) VerifyRecipient(ctx context.Context, p *auth.Principal, caseID int64, email, method, note string) error {
	email, note = normEmail(email), strings.TrimSpace(note)
	switch {
	case !p.Has(auth.SupportLead):
		return apperr.Forbiddenf("Only support leads verify recipients.")
	case !validEmail(email):
		return apperr.Invalidf("Enter one email address to verify.")
	case !slices.Contains(Methods, method):
		return apperr.Invalidf("Say how the address was verified: call_back or email_confirmation.")
	case note == "":
		return apperr.Invalidf("Add a note: who confirmed the address, and when.")
	}
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := loadCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		key := c.customerKey()
		if key == "" {
			return apperr.Invalidf("Case %d has no known customer (no billing id or phone number) to verify an address for.", caseID)
		}
		q := tx.Exec(`INSERT INTO verified_recipients (customer_key, email, method, note, verified_by)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_key, email) DO NOTHING`, key, email, method, note, p.UserID)
		if q.Error != nil {
			return fmt.Errorf("approval: verify recipient: %w", q.Error)
		}
		if q.RowsAffected == 0 {
			return apperr.Conflictf("%s is already verified for this customer.", MaskEmail(email))
		}
		if editable(c.Status) && c.Status != models.StatusNew && c.Status != models.StatusTriaged {
			if _, err := replan(ctx, tx, c, s.Slack); err != nil {
				return err
			}
		}
		return appendAll(ctx, tx, []audit.Entry{entry(ctx, p, "recipient.verified", caseID, map[string]any{
			"customer_key": key, "email": MaskEmail(email), "method": method, "note": note})})
	})
}
