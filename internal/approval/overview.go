package approval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/handoff"
	"github.com/countersign/countersign/models"
)

// Overview is everything the decision panel shows for one case and one viewer. It
// reads only: a case with no stored plan gets a preview built in memory.
type Overview struct {
	CaseID        int64
	Kind          string
	Status        models.CaseStatus
	AmountMinor   *int64
	Currency      string
	DestType      string
	DestRef       string
	Actions       []Action
	Handoff       handoff.Summary // what every outgoing payload of the case carries
	Preview       bool            // Actions are not stored yet (approval not requested)
	PlanError     string          // why no plan can be made yet
	Fingerprint   string
	PolicyVersion int64
	Requirement   Requirement
	ClaimVerified bool
	Recipient     Recipient
	HasEmail      bool
	Approvals     []ApprovalInfo
	Decisions     []DecisionInfo
	Restricted    []RestrictedValue // refs and kinds only
	Deadline      *time.Time
	DueSoon       bool

	CanRequest, CanApprove, CanDecide, CanEdit, CanVerify, CanReveal bool
	// CanReplan: p may edit the plan after a failure and ask again (the page
	// behind it says when that is refused, and why).
	CanReplan bool
	// ReplannedBy names who edited the plan after a failure, while the case
	// awaits approval of that edit.
	ReplannedBy string
	// WhyNotApprove says why the viewer cannot approve (empty when they can).
	WhyNotApprove string
	StepUpNeeded  bool // approving will ask the viewer to sign in again
	// Waiting are the actions that failed or need a person ("Stripe: refund ...:
	// the error"), for the case's state banner.
	Waiting []string
}

// ApprovalInfo is one approval, live or voided.
type ApprovalInfo struct {
	Label      string
	Comment    string
	At         time.Time
	Voided     bool
	VoidReason string
}

// DecisionInfo is one row of the decision history.
type DecisionInfo struct {
	Decision, Label, Reason, Note string
	At                            time.Time
}

// Overview loads the panel's facts for viewer p.
func (s *Service) Overview(ctx context.Context, p *auth.Principal, caseID int64) (Overview, error) {
	db := s.DB.WithContext(ctx)
	c, err := loadCase(ctx, db, caseID, false)
	if err != nil {
		return Overview{}, err
	}
	o := Overview{CaseID: c.ID, Kind: c.Kind, Status: c.Status, AmountMinor: c.AmountMinor, Currency: c.Currency,
		DestType: c.DestinationType, DestRef: c.DestinationRef, Deadline: c.ApprovalDeadline}
	ps := planState{}
	if ps.facts, ps.verified, err = loadFacts(ctx, db, caseID); err != nil {
		return o, err
	}
	o.ClaimVerified = ps.verified
	if o.Deadline == nil {
		o.Deadline = approvalDeadline(c, ps.facts)
	}
	o.DueSoon = c.Status.Open() && DueSoon(o.Deadline, time.Now())
	if err := s.overviewPlan(ctx, db, c, &ps, &o); err != nil {
		return o, err
	}
	var waiting []struct {
		Description string `gorm:"column:description"`
		LastError   string `gorm:"column:last_error"`
	}
	if err := db.Raw(`SELECT description, last_error FROM actions WHERE case_id = ? AND status IN ('needs_attention', 'failed')
		ORDER BY position`, caseID).Scan(&waiting).Error; err != nil {
		return o, fmt.Errorf("approval: waiting actions of case %d: %w", caseID, err)
	}
	for _, w := range waiting {
		o.Waiting = append(o.Waiting, strings.TrimSpace(w.Description+": "+w.LastError))
	}
	if err := overviewHistory(db, &o); err != nil {
		return o, err
	}
	if o.Restricted, err = RestrictedRefs(ctx, db, caseID); err != nil {
		return o, err
	}
	if err := s.withholdHandoff(db, p, &o); err != nil {
		return o, err
	}
	return o, s.overviewRights(db, p, c, &o)
}

// withholdHandoff drops the call's summary from the handoff summary of a case
// under restricted handling (the call named a private document) for a viewer
// the reveal policy does not allow, as the case page withholds the call.
func (s *Service) withholdHandoff(db *gorm.DB, p *auth.Principal, o *Overview) error {
	if p.HasAny(s.revealRoles()...) {
		return nil
	}
	var restricted bool
	err := db.Raw(`SELECT c.restricted OR coalesce(cl.restricted, false) FROM cases c
		LEFT JOIN calls cl ON cl.id = c.call_id WHERE c.id = ?`, o.CaseID).Scan(&restricted).Error
	if err != nil {
		return fmt.Errorf("approval: load restricted flag of case %d: %w", o.CaseID, err)
	}
	if restricted {
		kept := o.Handoff.Learned[:0:0]
		for _, l := range o.Handoff.Learned {
			if !strings.HasPrefix(l, "Call: ") {
				kept = append(kept, l)
			}
		}
		o.Handoff.Learned = append(kept, "Call: withheld (restricted handling)")
	}
	return nil
}

func (s *Service) overviewPlan(ctx context.Context, db *gorm.DB, c *caseData, ps *planState, o *Overview) error {
	var err error
	if o.Recipient, err = resolveRecipient(ctx, db, c, ps.facts); err != nil {
		return err
	}
	if ps.acts, err = liveActions(ctx, db, c.ID); err != nil {
		return err
	}
	if len(ps.acts) == 0 && editable(c.Status) {
		o.Preview = true
		kept, kerr := keptRefs(ctx, db, c)
		if kerr != nil {
			return kerr
		}
		ps.acts, err = buildPlan(planInput{ctx: ctx, c: c, facts: ps.facts, recipient: o.Recipient, slack: s.Slack, kept: kept})
		var ue *apperr.Error
		if errors.As(err, &ue) {
			o.PlanError, err = ue.Error(), nil
		}
		if err != nil {
			return err
		}
	}
	o.Actions = ps.acts
	o.Handoff = handoffOf(planInput{c: c, facts: ps.facts, recipient: o.Recipient})
	if o.Fingerprint, err = planFingerprint(ps.acts); err != nil {
		return err
	}
	for _, a := range ps.acts {
		if a.Connector == "email" {
			o.HasEmail = true
			to, _ := a.Params["to"].(string)
			if o.Recipient, err = verifyAddress(ctx, db, c, ps.facts, Recipient{Requested: o.Recipient.Requested, OnFile: o.Recipient.OnFile, To: to}); err != nil {
				return err
			}
		}
	}
	req, id, err := requirement(ctx, db, c, *ps, o.HasEmail && !o.Recipient.Verified)
	o.Requirement, o.PolicyVersion = req, id
	return err
}

func overviewHistory(db *gorm.DB, o *Overview) error {
	var apps []struct {
		Label      string     `gorm:"column:approver_label"`
		At         time.Time  `gorm:"column:created_at"`
		VoidedAt   *time.Time `gorm:"column:voided_at"`
		VoidReason string     `gorm:"column:void_reason"`
		Comment    string     `gorm:"column:comment"`
	}
	err := db.Raw(`SELECT COALESCE(NULLIF(u.name, ''), a.approver_label) AS approver_label, a.created_at, a.voided_at, a.void_reason, a.comment
		FROM approvals a LEFT JOIN users u ON u.id = a.approver_id WHERE a.case_id = ? ORDER BY a.id`, o.CaseID).Scan(&apps).Error
	if err != nil {
		return fmt.Errorf("approval: approvals of case %d: %w", o.CaseID, err)
	}
	for _, a := range apps {
		o.Approvals = append(o.Approvals, ApprovalInfo{Label: a.Label, Comment: a.Comment, At: a.At.UTC(), Voided: a.VoidedAt != nil, VoidReason: a.VoidReason})
	}
	var ds []struct {
		Decision string    `gorm:"column:decision"`
		Label    string    `gorm:"column:actor_label"`
		Reason   string    `gorm:"column:reason"`
		Note     string    `gorm:"column:note"`
		At       time.Time `gorm:"column:at"`
	}
	err = db.Raw(`SELECT d.decision, COALESCE(NULLIF(u.name, ''), d.actor_label) AS actor_label, d.reason, d.note, d.at
		FROM case_decisions d LEFT JOIN users u ON u.id = d.actor_id WHERE d.case_id = ? ORDER BY d.id DESC LIMIT 20`, o.CaseID).Scan(&ds).Error
	if err != nil {
		return fmt.Errorf("approval: decisions of case %d: %w", o.CaseID, err)
	}
	asked := ""
	for _, d := range ds {
		o.Decisions = append(o.Decisions, DecisionInfo{Decision: d.Decision, Label: d.Label, Reason: d.Reason, Note: d.Note, At: d.At.UTC()})
		if asked == "" && slices.Contains([]string{"requested", "info_added", decisionReplanned}, d.Decision) {
			asked = d.Decision
			if d.Decision == decisionReplanned && o.Status == models.StatusAwaitingApproval {
				o.ReplannedBy = d.Label
			}
		}
	}
	return nil
}

// overviewRights fills what p may do; the decisions re-check all of it under a lock.
func (s *Service) overviewRights(db *gorm.DB, p *auth.Principal, c *caseData, o *Overview) error {
	if p == nil {
		return nil
	}
	triage := p.HasAny(auth.Triagers...)
	o.CanEdit = triage && editable(c.Status)
	o.CanReplan = triage && (c.Status == models.StatusNeedsAttention || c.Status == models.StatusExecuting && len(o.Waiting) > 0)
	o.CanRequest = triage && slices.Contains([]models.CaseStatus{models.StatusNew, models.StatusTriaged, models.StatusNeedsInfo}, c.Status) && o.PlanError == ""
	o.CanVerify = p.Has(auth.SupportLead) && c.customerKey() != ""
	o.CanReveal = p.HasAny(s.revealRoles()...)
	if !p.Has(auth.FinanceApprover) || c.Status != models.StatusAwaitingApproval {
		return nil
	}
	mine, err := proposer(db, c, p.UserID)
	if err != nil {
		return err
	}
	o.CanDecide = !mine
	live, err := loadLiveApprovals(db, c.ID, o.Fingerprint)
	if err != nil {
		return err
	}
	switch {
	case mine:
		o.WhyNotApprove = "You requested or changed this case, so another finance approver must decide it."
	case slices.ContainsFunc(live, func(a liveApproval) bool { return a.ApproverID != nil && *a.ApproverID == p.UserID }):
		o.WhyNotApprove = "You already approved; the second approval must come from another approver."
	case o.HasEmail && !o.Recipient.Verified:
		o.WhyNotApprove = "Waiting for verification: the recipient is not verified for this customer."
	default:
		if err := soleVerifier(db, c, p, o.Actions, max(o.Requirement.Approvals, 1)); err != nil {
			if !errors.Is(err, apperr.ErrForbidden) {
				return err
			}
			o.WhyNotApprove = "You verified this case's recipient, so another finance approver must approve it."
		}
	}
	o.CanApprove = o.WhyNotApprove == ""
	o.StepUpNeeded = o.Requirement.StepUp && !auth.RecentLogin(p, minutes(o.Requirement.StepUpMinutes))
	return nil
}
