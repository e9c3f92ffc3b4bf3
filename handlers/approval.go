package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/views"
)

// decisionCaseID parses {id}.
func decisionCaseID(r *http.Request) (int64, string, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, s, &apperr.Error{Msg: "No such case.", Kind: apperr.ErrNotFound}
	}
	return id, s, nil
}

// DecisionPage shows the decision panel on its own page: GET /cases/{id}/decision.
func (a *App) DecisionPage(w http.ResponseWriter, r *http.Request) {
	id, sid, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	d, err := a.DecisionView(r, id)
	if err != nil {
		Fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	Render(w, r, http.StatusOK, views.DecisionPage(a.Page(r, "Decision for case "+sid), d))
}

// decided answers a decision: back to the page the form was on with a notice, or,
// on a refusal, the decision page again with the sentence and its status. A step-up
// refusal sends the browser to sign in again and come back.
func (a *App) decided(w http.ResponseWriter, r *http.Request, id int64, notice string, err error) {
	sid := strconv.FormatInt(id, 10)
	ret := decisionFormReturn(r, sid)
	var su *approval.ErrStepUp
	switch {
	case errors.As(err, &su):
		http.Redirect(w, r, auth.StepUpURL(ret, time.Duration(su.Within)*time.Minute), http.StatusSeeOther)
		return
	case err == nil:
		http.Redirect(w, r, ret+"?decided="+notice, http.StatusSeeOther)
		return
	}
	status := StatusOf(err)
	if status >= 500 {
		Fail(w, r, err)
		return
	}
	d, verr := a.DecisionView(r, id)
	if verr != nil {
		Fail(w, r, err)
		return
	}
	pg := a.Page(r, "Decision for case "+sid)
	pg.Flash, pg.FlashKind = err.Error(), "error"
	Render(w, r, status, views.DecisionPage(pg, d))
}

// RequestApproval plans the actions and asks for approval: POST /cases/{id}/request-approval.
func (a *App) RequestApproval(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	res, err := a.Approvals.RequestApproval(r.Context(), auth.FromContext(r.Context()), id, r.PostFormValue("note"))
	notice := "requested"
	if res.Status == "executing" {
		notice = "automatic"
	}
	a.decided(w, r, id, notice, err)
}

// Approve records an approval of the plan the approver saw: POST /cases/{id}/approve.
func (a *App) Approve(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		a.decided(w, r, id, "", apperr.Invalidf("Tick the confirmation that states the money and the targets, then approve."))
		return
	}
	p, fp, comment := auth.FromContext(r.Context()), r.PostFormValue("fingerprint"), r.PostFormValue("comment")
	res, err := a.Approvals.ApproveWithComment(r.Context(), p, id, fp, comment)
	var su *approval.ErrStepUp
	if errors.As(err, &su) {
		if herr := a.Approvals.HoldForStepUp(r.Context(), p, id, fp, comment); herr != nil {
			Fail(w, r, herr)
			return
		}
		ret := "/cases/" + strconv.FormatInt(id, 10) + "/approve/resume"
		http.Redirect(w, r, auth.StepUpURL(ret, time.Duration(su.Within)*time.Minute), http.StatusSeeOther)
		return
	}
	a.decided(w, r, id, approvedNotice(res, ""), err)
}

func approvedNotice(res approval.Result, prefix string) string {
	if res.Status == "executing" {
		return prefix + "executing"
	}
	return prefix + "approved"
}

// ResumeApproval completes an approval held across a step-up sign-in: GET
// /cases/{id}/approve/resume is where the re-authentication returns. It only
// completes what this approver submitted with their own approve form (see
// approval.HoldForStepUp); otherwise the case page says what is left.
func (a *App) ResumeApproval(w http.ResponseWriter, r *http.Request) {
	id, sid, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	res, held, err := a.Approvals.ResumeApproval(r.Context(), auth.FromContext(r.Context()), id)
	switch {
	case err == nil && !held:
		http.Redirect(w, r, "/cases/"+sid+"?decided=nothing_held", http.StatusSeeOther)
		return
	case err == nil:
		http.Redirect(w, r, "/cases/"+sid+"?decided="+approvedNotice(res, "resumed_"), http.StatusSeeOther)
		return
	}
	var su *approval.ErrStepUp
	if errors.As(err, &su) {
		err = apperr.Forbiddenf("Your sign-in is still older than %d minutes, so the approval is not recorded yet. Approve again to be asked to sign in once more.", su.Within)
	}
	a.decided(w, r, id, "", err)
}

// Reject closes the case with a reason and a note: POST /cases/{id}/reject.
func (a *App) Reject(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	_, err = a.Approvals.Reject(r.Context(), auth.FromContext(r.Context()), id, r.PostFormValue("reason"), r.PostFormValue("note"))
	a.decided(w, r, id, "rejected", err)
}

// Triage marks a new case triaged: POST /cases/{id}/triage.
func (a *App) Triage(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	err = a.Approvals.Triage(r.Context(), auth.FromContext(r.Context()), id)
	a.decided(w, r, id, "triaged", err)
}

// NeedsInfo sends the case back saying what is missing: POST /cases/{id}/needs-info.
func (a *App) NeedsInfo(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	_, err = a.Approvals.NeedsInfo(r.Context(), auth.FromContext(r.Context()), id, r.PostFormValue("missing"))
	a.decided(w, r, id, "needs_info", err)
}

// EditPlan changes amount, currency, destination or recipient: POST /cases/{id}/plan.
func (a *App) EditPlan(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	_, err = a.Approvals.EditPlan(r.Context(), auth.FromContext(r.Context()), id, approval.Edit{
		Amount: r.PostFormValue("amount"), Currency: r.PostFormValue("currency"),
		Destination: r.PostFormValue("destination"), Recipient: r.PostFormValue("recipient")})
	a.decided(w, r, id, "edited", err)
}
