package handlers

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/jobs"
	"github.com/countersign/countersign/views"
)

const timeFormat = "2006-01-02 15:04:05 UTC"

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
	switch err := a.Jobs.RetryAction(r.Context(), auth.FromContext(r.Context()), id); {
	case err != nil:
		Fail(w, r, err)
	default:
		back := "/admin/jobs?done=retried"
		if ref := r.FormValue("back"); ref != "" && ref[0] == '/' && (len(ref) < 2 || ref[1] != '/') {
			back = ref
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
}

// ActionsView returns a case's actions with their receipts as view rows, for the
// case page to embed with views.CaseActions.
func (a *App) ActionsView(ctx context.Context, caseID int64) ([]views.ActionRow, error) {
	list, err := jobs.CaseActions(ctx, a.DB.Gorm, caseID)
	if err != nil {
		return nil, err
	}
	canRetry := auth.FromContext(ctx).HasAny(auth.FinanceApprover, auth.Admin)
	rows := make([]views.ActionRow, 0, len(list))
	for _, act := range list {
		rows = append(rows, actionRow(act, canRetry))
	}
	return rows, nil
}

func actionRow(act jobs.ActionInfo, canRetry bool) views.ActionRow {
	row := views.ActionRow{ID: strconv.FormatInt(act.ID, 10), Position: act.Position, Connector: act.Connector,
		Operation: act.Operation, Description: act.Description, Status: act.Status, Attempts: act.Attempts,
		LastError: act.LastError, ReceiptID: act.ReceiptID, Receipt: act.Summary(), Sandbox: act.Sandbox,
		CanRetry: canRetry && act.Retryable()}
	if act.ExecutedAt != nil {
		row.ExecutedAt = act.ExecutedAt.UTC().Format(timeFormat)
	}
	return row
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.UTC().Format(timeFormat)
}
