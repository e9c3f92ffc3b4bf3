package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/views"
)

// decisionNotices are the fixed sentences shown after a decision (?decided=...).
var decisionNotices = map[string]string{
	"triaged":           "Marked triaged: the case is in the right queue with the right facts.",
	"requested":         "Approval requested: the planned actions are stored and wait for approvers.",
	"automatic":         "Approved automatically under the policy: the actions are queued.",
	"approved":          "Approval recorded.",
	"executing":         "Final approval recorded: the case is executing and its actions are queued.",
	"rejected":          "Case rejected.",
	"needs_info":        "Case sent back for information.",
	"edited":            "Plan changed. Approvals of the previous plan are void.",
	"verified":          "Recipient verified.",
	"unchanged":         "Nothing changed.",
	"revealed":          "Values revealed; the reveal is recorded in the audit log.",
	"policy_save":       "Policy stored as a new version.",
	"resumed_approved":  "You signed in again and your approval is recorded. Another finance approver must approve too.",
	"resumed_executing": "You signed in again and your approval is recorded. It was the last one needed: the actions are queued.",
	"retried":           "Retry queued: the action runs again with the same idempotency key.",
	"action_cancelled":  "Action cancelled, with the actions queued behind it; the reason is in the audit log.",
	"action_resolved":   "Action marked resolved outside Countersign; your evidence is its receipt.",
	"replanned":         "Plan edited: the failed and waiting actions are cancelled, earlier approvals void, and the new plan waits for approval.",
	"nothing_held":      "No approval of yours was waiting for the sign-in (it is done, or older than an hour). Approve again below if it is still needed.",
}

// DecisionView builds the decision panel of case caseID for the request's principal.
// The case page embeds views.DecisionPanel with it.
func (a *App) DecisionView(r *http.Request, caseID int64) (views.DecisionView, error) {
	p := auth.FromContext(r.Context())
	o, err := a.Approvals.Overview(r.Context(), p, caseID)
	if err != nil {
		return views.DecisionView{}, err
	}
	id := strconv.FormatInt(caseID, 10)
	d := views.DecisionView{CaseID: id, Status: string(o.Status), Kind: o.Kind, Notice: decisionNotices[r.URL.Query().Get("decided")],
		Preview: o.Preview, PlanError: o.PlanError, Fingerprint: o.Fingerprint, PolicyVersion: strconv.FormatInt(o.PolicyVersion, 10),
		Requirement: requirementText(o.Requirement.Approvals), Reasons: o.Requirement.Reasons, StepUp: o.Requirement.StepUp,
		StepUpMinutes: strconv.Itoa(o.Requirement.StepUpMinutes), StepUpNeeded: o.StepUpNeeded, ClaimVerified: o.ClaimVerified,
		HasEmail: o.HasEmail, DueSoon: o.DueSoon, CanRequest: o.CanRequest, CanApprove: o.CanApprove, CanDecide: o.CanDecide,
		CanEdit: o.CanEdit, CanReplan: o.CanReplan, CanVerify: o.CanVerify, CanReveal: o.CanReveal, WhyNotApprove: o.WhyNotApprove,
		RejectReasons: approval.RejectReasons, Methods: approval.Methods, Return: decisionReturn(r, id),
		EditCurrency: o.Currency, EditDest: o.DestRef, CommentRequired: o.Requirement.Comment, CommentWhy: o.Requirement.CommentWhy,
		Recipient: views.RecipientView{Requested: approval.MaskEmail(o.Recipient.Requested), OnFile: approval.MaskEmail(o.Recipient.OnFile),
			To: approval.MaskEmail(o.Recipient.To), Verified: o.Recipient.Verified, How: recipientHow(o.Recipient),
			VerifiedOn: timeView(o.Recipient.VerifiedAt)},
	}
	if o.ReplannedBy != "" && o.Requirement.Approvals == 0 {
		d.Requirement = requirementText(1) + " (a plan edited after a failure is never approved automatically)"
	}
	d.StateText, d.StateKind = caseState(o)
	if d.StateKind == "error" && !strings.HasPrefix(r.URL.Query().Get("decided"), "action_") {
		d.Notice = "" // an earlier "approved, executing" must not stand over a failure
	}
	if o.AmountMinor != nil {
		d.Amount = money.Amount{Minor: *o.AmountMinor, Currency: o.Currency}.Major() + " " + o.Currency
		d.EditAmount = money.Amount{Minor: *o.AmountMinor, Currency: o.Currency}.Major()
	}
	if o.DestRef != "" {
		d.Destination = strings.TrimSpace(o.DestType + " " + o.DestRef)
	}
	if o.Deadline != nil {
		d.Deadline = timeView(*o.Deadline)
	}
	d.Handoff = views.HandoffView{Title: o.Handoff.Title, Asked: o.Handoff.Asked, Learned: o.Handoff.Learned,
		Object: o.Handoff.Object, Owner: o.Handoff.Owner, NextStep: o.Handoff.NextStep, Deadline: o.Handoff.Deadline}
	for _, l := range o.Handoff.Links {
		d.Handoff.Links = append(d.Handoff.Links, views.LinkView{Label: l.Label, Href: l.URL})
	}
	for _, act := range o.Actions {
		pa := views.PlannedActionView{Position: strconv.Itoa(act.Position), Connector: act.Connector,
			Description: act.Description, Status: act.Status, Mode: a.connectorMode(act.Connector)}
		if a.Sandbox != nil && p.Has(auth.Admin) && act.Status != "planned" && act.Status != "cancelled" {
			pa.SandboxHref = sandboxHref(id, act.ID)
		}
		d.Actions = append(d.Actions, pa)
		if act.Status != "cancelled" {
			d.Confirm = append(d.Confirm, act.Description)
		}
	}
	for _, ap := range o.Approvals {
		d.Approvals = append(d.Approvals, views.ApprovalView{Who: ap.Label, Comment: ap.Comment, When: timeView(ap.At), Voided: ap.Voided, VoidReason: ap.VoidReason})
	}
	for _, h := range o.Decisions {
		d.History = append(d.History, views.DecisionEntryView{What: strings.ReplaceAll(h.Decision, "_", " "), Who: h.Label,
			When: timeView(h.At), Reason: h.Reason, Note: h.Note})
	}
	for _, v := range o.Restricted {
		d.Restricted = append(d.Restricted, views.RestrictedView{Ref: v.Ref, Kind: v.Kind, Where: v.Where})
	}
	return d, nil
}

func requirementText(n int) string {
	switch n {
	case 0:
		return "Automatic under the policy"
	case 1:
		return "One approver"
	}
	return "Two distinct approvers"
}

func recipientHow(r approval.Recipient) string {
	if !r.Verified {
		return ""
	}
	return "verified via " + strings.ReplaceAll(r.Method, "_", " ")
}

// decisionReturn is where the panel's forms come back to: the decision page when
// the panel is shown there, else the case page that embeds it.
func decisionReturn(r *http.Request, id string) string {
	if r.URL.Path == "/cases/"+id+"/decision" {
		return r.URL.Path
	}
	return "/cases/" + id
}

// decisionFormReturn reads the form's return path, accepting only the case's own pages.
func decisionFormReturn(r *http.Request, id string) string {
	switch ret := r.PostFormValue("return"); ret {
	case "/cases/" + id, "/cases/" + id + "/decision":
		return ret
	}
	return "/cases/" + id + "/decision"
}

// caseState is the banner saying where the case stands now.
func caseState(o approval.Overview) (string, string) {
	switch o.Status {
	case "needs_attention":
		return "Needs attention: " + strings.Join(o.Waiting, "; ") + ". Retry, cancel with a reason, or mark it resolved outside Countersign under Actions; or edit the plan and ask for approval again.", "error"
	case "executing":
		return "Approved and executing: the actions run in order; their receipts appear under Actions.", "warn"
	case "done":
		return "Done: every action finished (receipts under Actions).", "ok"
	case "rejected":
		return "Rejected: nothing was sent.", "error"
	case "awaiting_approval":
		if o.ReplannedBy != "" {
			return "Plan edited by " + o.ReplannedBy + " after a failure; awaiting approval again: " + strings.ToLower(requirementText(max(o.Requirement.Approvals, 1))) + ".", "warn"
		}
		return "Awaiting approval: " + strings.ToLower(requirementText(o.Requirement.Approvals)) + ".", "warn"
	case "needs_info":
		return "Sent back for information: add it, then request approval again.", "warn"
	}
	return "", ""
}
