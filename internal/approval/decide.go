package approval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/models"
)

// planState is a case's plan with what the policy needs to judge it.
type planState struct {
	facts     []models.BillingFact
	verified  bool
	recipient Recipient
	acts      []Action
	fp        string
	changed   bool
}

// replan builds the case's plan and stores it (see storePlan).
func replan(ctx context.Context, tx *gorm.DB, c *caseData, slack SlackRouter) (planState, error) {
	var ps planState
	var err error
	if ps.facts, ps.verified, err = loadFacts(ctx, tx, c.ID); err != nil {
		return ps, err
	}
	if ps.recipient, err = resolveRecipient(ctx, tx, c, ps.facts); err != nil {
		return ps, err
	}
	kept, err := keptRefs(ctx, tx, c)
	if err != nil {
		return ps, err
	}
	if ps.acts, err = buildPlan(planInput{ctx: ctx, c: c, facts: ps.facts, recipient: ps.recipient, slack: slack, kept: kept}); err != nil {
		return ps, err
	}
	ps.fp, ps.changed, err = storePlan(ctx, tx, c, ps.acts)
	return ps, err
}

// PlanTx (re)plans case caseID inside tx: for callers that change a case's facts
// (enrichment) and want the plan to follow. It voids approvals of another plan.
func PlanTx(ctx context.Context, tx *gorm.DB, caseID int64) (string, error) {
	c, err := loadCase(ctx, tx, caseID, true)
	if err != nil {
		return "", err
	}
	if !editable(c.Status) {
		return "", apperr.Conflictf("Case %d is %s: its plan can no longer change.", caseID, c.Status)
	}
	ps, err := replan(ctx, tx, c, nil)
	if err != nil {
		return "", err
	}
	if _, err := voidApprovals(tx.WithContext(ctx), caseID, ps.fp, "plan changed"); err != nil {
		return "", err
	}
	return ps.fp, nil
}

// emailUnverified reports whether a planned email goes to an unverified address.
func emailUnverified(ctx context.Context, tx *gorm.DB, c *caseData, facts []models.BillingFact, acts []Action) (string, error) {
	for _, a := range acts {
		if a.Connector != "email" {
			continue
		}
		to, _ := a.Params["to"].(string)
		r, err := verifyAddress(ctx, tx, c, facts, Recipient{To: to})
		if err != nil {
			return "", err
		}
		if !r.Verified {
			return to, nil
		}
	}
	return "", nil
}

// requirement is the policy's requirement for c under its policy version.
func requirement(ctx context.Context, tx *gorm.DB, c *caseData, ps planState, unverified bool) (Requirement, int64, error) {
	var id int64
	if c.PolicyVersion != nil {
		id = *c.PolicyVersion
	}
	v, err := PolicyAt(ctx, tx, id)
	if err != nil {
		return Requirement{}, 0, err
	}
	return v.Rules.Require(Facts{Kind: c.Kind, AmountMinor: c.AmountMinor, Currency: c.Currency,
		VIP: c.VIP || c.Call.VIP, ClaimVerified: ps.verified, RecipientUnverified: unverified}), v.ID, nil
}

// RequestApproval plans the case's actions and puts it in front of approvers (from
// new, triaged, or needs_info once the missing information is added: note says what).
// When the policy allows automatic approval, the case is approved at once.
func (s *Service) RequestApproval(ctx context.Context, p *auth.Principal, caseID int64, note string) (Result, error) {
	if !p.HasAny(auth.Triagers...) {
		return Result{}, apperr.Forbiddenf("Only support leads and finance approvers request approval.")
	}
	note = strings.TrimSpace(note)
	var res Result
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := loadCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		decision := "requested"
		switch c.Status {
		case models.StatusNew, models.StatusTriaged:
		case models.StatusNeedsInfo:
			if note == "" {
				return apperr.Invalidf("Say what information was added before sending the case back for approval.")
			}
			decision = "info_added"
		case models.StatusAwaitingApproval:
			return apperr.Conflictf("Case %d is already awaiting approval.", caseID)
		default:
			return alreadyDecided(tx, c)
		}
		ps, err := replan(ctx, tx, c, s.Slack)
		if err != nil {
			return err
		}
		if _, err := voidApprovals(tx, caseID, ps.fp, "plan changed"); err != nil {
			return err
		}
		pol, err := CurrentPolicy(ctx, tx)
		if err != nil {
			return err
		}
		if err := setStatus(tx, caseID, c.Status, models.StatusAwaitingApproval); err != nil {
			return err
		}
		deadline := approvalDeadline(c, ps.facts)
		err = tx.Exec(`UPDATE cases SET policy_version = ?, requested_by = coalesce(requested_by, ?), requested_at = coalesce(requested_at, now()),
			approval_deadline = ? WHERE id = ?`, pol.ID, p.UserID, deadline, caseID).Error
		if err != nil {
			return fmt.Errorf("approval: request case %d: %w", caseID, err)
		}
		if err := recordDecision(tx, caseID, decision, p, "", note, ps.fp); err != nil {
			return err
		}
		c.PolicyVersion, c.Status = &pol.ID, models.StatusAwaitingApproval
		unverifiedTo, err := emailUnverified(ctx, tx, c, ps.facts, ps.acts)
		if err != nil {
			return err
		}
		req, _, err := requirement(ctx, tx, c, ps, unverifiedTo != "")
		if err != nil {
			return err
		}
		entries := []audit.Entry{entry(ctx, p, "approval."+decision, caseID, map[string]any{
			"fingerprint": ps.fp, "policy_version": pol.ID, "required_approvals": req.Approvals, "note": note,
			"actions": actionSummary(ps.acts)})}
		res = Result{Status: models.StatusAwaitingApproval, Required: req.Approvals, Fingerprint: ps.fp}
		if req.Approvals == 0 && s.offConnectors(ps.acts) == nil {
			more, err := s.finalize(ctx, tx, c, ps.fp, nil, "auto_approved", req)
			if err != nil {
				return err
			}
			entries = append(entries, more...)
			res.Status = models.StatusExecuting
		}
		return appendAll(ctx, tx, entries)
	})
	return res, err
}

// actionSummary is what the audit log keeps of a plan: what is sent, and to whom.
func actionSummary(acts []Action) []any {
	out := make([]any, 0, len(acts))
	for _, a := range acts {
		m := map[string]any{"position": a.Position, "connector": a.Connector, "operation": a.Operation, "description": a.Description}
		if to, ok := a.Params["to"].(string); ok {
			m["to"] = MaskEmail(to) // a customer's address is not kept whole in the audit log
		}
		out = append(out, m)
	}
	return out
}

// Approve records p's approval of the plan with fingerprint seen (the one on the
// page p decided from). When it is the last approval the policy requires, the case
// is approved and executing, its actions queued and OnApproved called, all in this
// transaction.
func (s *Service) Approve(ctx context.Context, p *auth.Principal, caseID int64, seen string) (Result, error) {
	return s.ApproveWithComment(ctx, p, caseID, seen, "")
}

// ApproveWithComment is Approve with the approver's comment, which the policy may
// require (Requirement.Comment). A refusal because of who p is (they proposed the
// case, or verified its only recipient) is audited as approval.refused.
func (s *Service) ApproveWithComment(ctx context.Context, p *auth.Principal, caseID int64, seen, comment string) (Result, error) {
	comment = strings.TrimSpace(comment)
	switch {
	case !p.Has(auth.FinanceApprover):
		return Result{}, apperr.Forbiddenf("Only finance approvers approve.")
	case seen == "":
		return Result{}, apperr.Invalidf("The approval form did not say which plan you approved; reload the case.")
	case len(comment) > 2000:
		return Result{}, apperr.Invalidf("Keep the comment under 2000 characters.")
	}
	var res Result
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, ps, req, err := s.approvable(ctx, tx, p, caseID, seen)
		if err != nil {
			return err
		}
		if req.Comment && comment == "" {
			return apperr.Invalidf("Add a comment to approve case %d: the policy asks for one because %s.", caseID, req.CommentWhy)
		}
		live, err := loadLiveApprovals(tx, caseID, ps.fp)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(live, func(a liveApproval) bool { return a.ApproverID != nil && *a.ApproverID == p.UserID }) {
			return apperr.Conflictf("You already approved case %d; the second approval must come from another approver.", caseID)
		}
		need := max(req.Approvals, 1)
		if err := soleVerifier(tx, c, p, ps.acts, need); err != nil {
			return err
		}
		if err := insertApproval(tx, c, p, ps.fp, comment); err != nil {
			return err
		}
		n := len(live) + 1
		res = Result{Status: c.Status, Approvals: n, Required: need, Fingerprint: ps.fp}
		entries := []audit.Entry{entry(ctx, p, "approval.approved", caseID, map[string]any{
			"fingerprint": ps.fp, "approvals": n, "required_approvals": need, "step_up": req.StepUp, "comment": comment})}
		if n >= need {
			more, err := s.finalize(ctx, tx, c, ps.fp, p, "approved", req)
			if err != nil {
				return err
			}
			entries = append(entries, more...)
			res.Status = models.StatusExecuting
		}
		return appendAll(ctx, tx, entries)
	})
	s.auditRefusal(ctx, p, caseID, "approve", err)
	return res, err
}

// soleVerifier refuses p as the only approver of a plan that sends to a recipient
// p verified: four eyes covers the verification too.
func soleVerifier(tx *gorm.DB, c *caseData, p *auth.Principal, acts []Action, need int) error {
	if need > 1 || c.customerKey() == "" {
		return nil
	}
	var to []string
	for _, a := range acts {
		if addr, _ := a.Params["to"].(string); a.Connector == "email" && addr != "" {
			to = append(to, normEmail(addr))
		}
	}
	if len(to) == 0 {
		return nil
	}
	var n int64
	err := tx.Raw(`SELECT count(*) FROM verified_recipients WHERE customer_key = ? AND verified_by = ? AND email IN ?`,
		c.customerKey(), p.UserID, to).Scan(&n).Error
	if err != nil {
		return fmt.Errorf("approval: verifiers of case %d: %w", c.ID, err)
	}
	if n > 0 {
		return apperr.Forbiddenf("You verified the recipient of case %d, so you cannot be its only approver: another finance approver must approve it.", c.ID)
	}
	return nil
}

// auditRefusal records, in its own transaction, that p was refused a decision on a
// case because of who they are (not because of a typo or a race): the refusal
// itself rolled back with the decision's transaction.
func (s *Service) auditRefusal(ctx context.Context, p *auth.Principal, caseID int64, what string, err error) {
	var se *ErrStepUp
	if err == nil || !errors.Is(err, apperr.ErrForbidden) || errors.As(err, &se) || p == nil {
		return
	}
	e := entry(ctx, p, "approval.refused", caseID, map[string]any{"attempt": what, "reason": err.Error()})
	e.Outcome = "refused"
	if aerr := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return appendAll(ctx, tx, []audit.Entry{e}) }); aerr != nil {
		reqlog.Logger(ctx).Error("audit refusal", "case", caseID, "err", aerr)
	}
}

// approvable locks the case and checks everything an approval by p needs.
func (s *Service) approvable(ctx context.Context, tx *gorm.DB, p *auth.Principal, caseID int64, seen string) (*caseData, planState, Requirement, error) {
	var ps planState
	c, err := loadCase(ctx, tx, caseID, true)
	if err != nil {
		return nil, ps, Requirement{}, err
	}
	if c.Status != models.StatusAwaitingApproval {
		return nil, ps, Requirement{}, alreadyDecided(tx, c)
	}
	if mine, err := proposer(tx, c, p.UserID); err != nil || mine {
		if err == nil {
			err = apperr.Forbiddenf("You requested or changed case %d, so another finance approver must decide it.", caseID)
		}
		return nil, ps, Requirement{}, err
	}
	if ps.acts, err = liveActions(ctx, tx, caseID); err != nil {
		return nil, ps, Requirement{}, err
	}
	if ps.fp, err = planFingerprint(ps.acts); err != nil {
		return nil, ps, Requirement{}, err
	}
	if ps.fp != seen {
		return nil, ps, Requirement{}, apperr.Conflictf("The planned actions of case %d changed since you opened it; review them again before approving.", caseID)
	}
	if ps.facts, ps.verified, err = loadFacts(ctx, tx, caseID); err != nil {
		return nil, ps, Requirement{}, err
	}
	if err := s.offConnectors(ps.acts); err != nil {
		return nil, ps, Requirement{}, err
	}
	to, err := emailUnverified(ctx, tx, c, ps.facts, ps.acts)
	if err != nil {
		return nil, ps, Requirement{}, err
	}
	if to != "" {
		return nil, ps, Requirement{}, apperr.Invalidf("Waiting for verification: %s is not a verified recipient for this customer. A support lead must verify it (call-back or email confirmation) before this case can be approved.", MaskEmail(to))
	}
	req, _, err := requirement(ctx, tx, c, ps, false)
	if err != nil {
		return nil, ps, Requirement{}, err
	}
	if req.StepUp && !auth.RecentLogin(p, minutes(req.StepUpMinutes)) {
		return nil, ps, Requirement{}, &ErrStepUp{CaseID: caseID, Within: req.StepUpMinutes}
	}
	return c, ps, req, nil
}

func insertApproval(tx *gorm.DB, c *caseData, p *auth.Principal, fp, comment string) error {
	var approver *int64
	label := "policy:automatic"
	if p != nil {
		uid := p.UserID
		approver, label = &uid, p.Label()
	}
	err := tx.Exec(`INSERT INTO approvals (case_id, approver_id, approver_label, fingerprint, policy_version, comment)
		VALUES (?, ?, ?, ?, ?, ?)`, c.ID, approver, label, fp, c.PolicyVersion, comment).Error
	if err != nil {
		return fmt.Errorf("approval: record approval of case %d: %w", c.ID, err)
	}
	return nil
}

// finalize runs the final approval: approved -> executing, actions queued, the
// decision recorded, OnApproved called. It returns the audit entries to append.
func (s *Service) finalize(ctx context.Context, tx *gorm.DB, c *caseData, fp string, p *auth.Principal, decision string, req Requirement) ([]audit.Entry, error) {
	if p == nil {
		if err := insertApproval(tx, c, nil, fp, ""); err != nil {
			return nil, err
		}
	}
	if err := setStatus(tx, c.ID, models.StatusAwaitingApproval, models.StatusApproved); err != nil {
		return nil, err
	}
	if err := setStatus(tx, c.ID, models.StatusApproved, models.StatusExecuting); err != nil {
		return nil, err
	}
	queued, err := MoveCaseActionsTx(ctx, tx, c.ID, models.ActionPlanned, models.ActionQueued)
	if err != nil {
		return nil, err
	}
	if err := recordDecision(tx, c.ID, decision, p, "", "", fp); err != nil {
		return nil, err
	}
	if s.OnApproved != nil {
		if err := s.OnApproved(ctx, tx, c.ID, fp); err != nil {
			return nil, fmt.Errorf("approval: enqueue actions of case %d: %w", c.ID, err)
		}
	}
	sum := map[string]any{"fingerprint": fp, "actions_queued": queued, "reasons": strings.Join(req.Reasons, " ")}
	return []audit.Entry{
		entry(ctx, p, "case.approved", c.ID, sum),
		entry(ctx, p, "case.executing", c.ID, map[string]any{"fingerprint": fp, "from": "approved", "to": "executing"}),
	}, nil
}

// Reject closes the case with a reason from RejectReasons and a note.
func (s *Service) Reject(ctx context.Context, p *auth.Principal, caseID int64, reason, note string) (Result, error) {
	note = strings.TrimSpace(note)
	switch {
	case !p.Has(auth.FinanceApprover):
		return Result{}, apperr.Forbiddenf("Only finance approvers reject.")
	case !slices.Contains(RejectReasons, reason):
		return Result{}, apperr.Invalidf("Choose the reason for rejecting (%s).", strings.Join(RejectReasons, ", "))
	case note == "":
		return Result{}, apperr.Invalidf("Add a note saying why the case is rejected.")
	case len(note) > 2000:
		return Result{}, apperr.Invalidf("Keep the note under 2000 characters.")
	}
	return s.close(ctx, p, caseID, models.StatusRejected, "rejected", reason, note)
}

// NeedsInfo sends the case back: missing says what is needed.
func (s *Service) NeedsInfo(ctx context.Context, p *auth.Principal, caseID int64, missing string) (Result, error) {
	missing = strings.TrimSpace(missing)
	switch {
	case !p.Has(auth.FinanceApprover):
		return Result{}, apperr.Forbiddenf("Only finance approvers send a case back for information.")
	case missing == "":
		return Result{}, apperr.Invalidf("Say what information is missing.")
	case len(missing) > 2000:
		return Result{}, apperr.Invalidf("Keep it under 2000 characters.")
	}
	return s.close(ctx, p, caseID, models.StatusNeedsInfo, "needs_info", "", missing)
}

// close moves an awaiting case to rejected or needs_info.
func (s *Service) close(ctx context.Context, p *auth.Principal, caseID int64, to models.CaseStatus, decision, reason, note string) (Result, error) {
	var res Result
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := loadCase(ctx, tx, caseID, true)
		if err != nil {
			return err
		}
		if c.Status != models.StatusAwaitingApproval {
			return alreadyDecided(tx, c)
		}
		if mine, err := proposer(tx, c, p.UserID); err != nil || (mine && to == models.StatusRejected) {
			if err == nil {
				err = apperr.Forbiddenf("You requested or changed case %d, so another finance approver must decide it.", caseID)
			}
			return err
		}
		fp, err := CurrentFingerprint(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if err := setStatus(tx, caseID, c.Status, to); err != nil {
			return err
		}
		if to == models.StatusRejected {
			if _, err := MoveCaseActionsTx(ctx, tx, caseID, models.ActionPlanned, models.ActionCancelled); err != nil {
				return err
			}
		}
		if err := recordDecision(tx, caseID, decision, p, reason, note, fp); err != nil {
			return err
		}
		res = Result{Status: to}
		return appendAll(ctx, tx, []audit.Entry{entry(ctx, p, "approval."+decision, caseID,
			map[string]any{"reason": reason, "note": note, "from": string(c.Status), "to": string(to)})})
	})
	s.auditRefusal(ctx, p, caseID, decision, err)
	return res, err
}

// Triage records that a support lead or finance approver looked at a new case and it
// is in the right queue with the right facts: new → triaged, audited. Any other
// starting status is a conflict (apperr.ErrConflict via the state machine).
func (s *Service) Triage(ctx context.Context, p *auth.Principal, caseID int64) error {
	if !p.HasAny(auth.Triagers...) {
		return apperr.Forbiddenf("Only support leads and finance approvers triage cases.")
	}
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		info := reqlog.From(ctx)
		return MoveCaseTx(ctx, tx, caseID, models.StatusTriaged, audit.Entry{Actor: p.Label(), ActorID: &p.UserID,
			Action: "case.triaged", ObjectType: "case", ObjectID: strconv.FormatInt(caseID, 10),
			Summary: map[string]any{"from": "new", "to": "triaged"}, RequestID: info.RequestID, IP: info.IP, UserAgent: info.UserAgent})
	})
}
