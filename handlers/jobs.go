package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/models"
	"github.com/countersign/countersign/views"
)

const timeFormat = stampFormat

// AdminJobs shows River jobs by state with their errors, and the actions that wait
// for a person.
func (a *App) AdminJobs(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state != "" && !slices.Contains(jobs.JobStates, state) {
		state = ""
	}
	list, counts, err := jobs.ListJobs(r.Context(), a.DB.Gorm, state, 200)
	if err != nil {
		Fail(w, r, err)
		return
	}
	attention, err := jobs.AttentionActions(r.Context(), a.DB.Gorm)
	if err != nil {
		Fail(w, r, err)
		return
	}
	v := views.JobsPage{CaseLinks: map[string]string{}}
	for _, s := range jobs.JobStates {
		v.States = append(v.States, views.StateCount{State: s, Count: counts[s], Active: s == state})
	}
	for _, j := range list {
		row := views.JobRow{ID: strconv.FormatInt(j.ID, 10), Kind: j.Kind, Queue: j.Queue, State: j.State,
			Attempt: fmt.Sprintf("%d/%d", j.Attempt, j.MaxAttempts), Args: j.Args, LastError: j.LastError,
			CreatedAt: j.CreatedAt.UTC().Format(timeFormat)}
		if j.FinalizedAt != nil {
			row.Finished = j.FinalizedAt.UTC().Format(timeFormat)
		}
		v.Jobs = append(v.Jobs, row)
	}
	canRetry := auth.FromContext(r.Context()).HasAny(auth.FinanceApprover, auth.Admin)
	for _, act := range attention {
		row := actionRow(act, canRetry)
		v.Attention = append(v.Attention, row)
		v.CaseLinks[row.ID] = "/cases/" + strconv.FormatInt(act.CaseID, 10)
	}
	pg := a.Page(r, "Jobs")
	if r.URL.Query().Get("done") == "retried" {
		pg.Flash, pg.FlashKind = "Action queued again with the same idempotency key.", "ok"
	}
	Render(w, r, http.StatusOK, views.AdminJobs(pg, v))
}

// RetryAction re-queues an action that needs attention (finance approvers and
// admins), audited, with the same idempotency key.
func (a *App) RetryAction(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		Fail(w, r, fmt.Errorf("%w: no such action", apperr.ErrNotFound))
		return
	}
	if a.Jobs == nil {
		Fail(w, r, fmt.Errorf("%w: job queue not configured", apperr.ErrUnavailable))
		return
	}
	a.actionDone(w, r, "retried", a.Jobs.RetryAction(r.Context(), auth.FromContext(r.Context()), id))
}

// CancelAction cancels an action waiting for a person, with a reason:
// POST /actions/{id}/cancel.
func (a *App) CancelAction(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 || a.Jobs == nil {
		Fail(w, r, apperr.NotFoundf("No such action."))
		return
	}
	a.actionDone(w, r, "action_cancelled", a.Jobs.CancelAction(r.Context(), auth.FromContext(r.Context()), id, r.PostFormValue("reason")))
}

// ResolveAction marks an action waiting for a person as done outside Countersign,
// with a reason and evidence: POST /actions/{id}/resolve.
func (a *App) ResolveAction(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 || a.Jobs == nil {
		Fail(w, r, apperr.NotFoundf("No such action."))
		return
	}
	a.actionDone(w, r, "action_resolved", a.Jobs.ResolveAction(r.Context(), auth.FromContext(r.Context()),
		id, r.PostFormValue("reason"), r.PostFormValue("evidence")))
}

// actionDone answers a person's decision on an action: back to the page the form
// was on (the case page; the jobs page for admins' forms there) with a notice.
func (a *App) actionDone(w http.ResponseWriter, r *http.Request, notice string, err error) {
	if err != nil {
		Fail(w, r, err)
		return
	}
	back := "/admin/jobs"
	if ref := r.FormValue("back"); ref != "" && ref[0] == '/' && (len(ref) < 2 || ref[1] != '/' && ref[1] != '\\') {
		back = ref
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	if strings.HasPrefix(back, "/cases/") {
		http.Redirect(w, r, back+sep+"decided="+notice, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, back+sep+"done="+notice, http.StatusSeeOther)
}

// ActionsView returns a case's actions with their receipts as view rows, for the
// case page to embed with views.CaseActions.
func (a *App) ActionsView(ctx context.Context, caseID int64) ([]views.ActionRow, error) {
	list, err := jobs.CaseActions(ctx, a.DB.Gorm, caseID)
	if err != nil {
		return nil, err
	}
	p := auth.FromContext(ctx)
	canRetry := p.HasAny(auth.FinanceApprover, auth.Admin)
	rows := make([]views.ActionRow, 0, len(list))
	blocker := 0 // the number of the first action waiting for a person; later ones wait for it
	for i, act := range list {
		row := actionRow(act, canRetry)
		switch {
		case blocker > 0 && act.Status == models.ActionQueued:
			row.WaitsFor = blocker
		case blocker == 0 && (act.Status == models.ActionNeedsAttention || act.Status == models.ActionFailed):
			blocker = i + 1
		}
		if a.Sandbox != nil && p.Has(auth.Admin) && act.Sandbox && act.Attempts > 0 {
			row.SandboxHref = sandboxHref(strconv.FormatInt(caseID, 10), act.ID)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func actionRow(act jobs.ActionInfo, canRetry bool) views.ActionRow {
	row := views.ActionRow{ID: strconv.FormatInt(act.ID, 10), Position: act.Position, Connector: act.Connector,
		Operation: act.Operation, Description: act.Description, Status: string(act.Status), Attempts: act.Attempts,
		LastError: act.LastError, ReceiptID: act.ReceiptID, Receipt: act.Summary(), Sandbox: act.Sandbox,
		CanRetry: canRetry && act.Retryable(), Back: "/cases/" + strconv.FormatInt(act.CaseID, 10)}
	row.ExecutedAt = timePtrView(act.ExecutedAt)
	return row
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(timeFormat)
}
