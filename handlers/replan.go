package handlers

import (
	"net/http"
	"strconv"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/views"
)

// ReplanPage shows the plan editor of a case whose action failed, prefilled with
// the plan, and what saving will cancel and void: GET /cases/{id}/replan.
func (a *App) ReplanPage(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	a.renderReplan(w, r, id, http.StatusOK, nil)
}

// Replan edits the plan after a failure and asks for approval again: POST
// /cases/{id}/replan. A refusal shows the editor again, with what was typed.
func (a *App) Replan(w http.ResponseWriter, r *http.Request) {
	id, sid, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	e := approval.Edit{Amount: r.PostFormValue("amount"), Currency: r.PostFormValue("currency"),
		Destination: r.PostFormValue("destination"), Recipient: r.PostFormValue("recipient")}
	_, err = a.Approvals.EditAfterFailure(r.Context(), auth.FromContext(r.Context()), id, e,
		r.PostFormValue("reason"), r.PostFormValue("checked") == "yes")
	switch status := StatusOf(err); {
	case err == nil:
		a.countsChanged()
		http.Redirect(w, r, "/cases/"+sid+"?decided=replanned", http.StatusSeeOther)
	case status == http.StatusBadRequest || status == http.StatusConflict:
		a.renderReplan(w, r, id, status, &replanTyped{err: err, edit: e, reason: r.PostFormValue("reason")})
	default:
		Fail(w, r, err)
	}
}

// replanTyped is a refused save: why, and what was typed.
type replanTyped struct {
	err    error
	edit   approval.Edit
	reason string
}

// renderReplan renders the editor; after a refused save it keeps what was typed
// and says why.
func (a *App) renderReplan(w http.ResponseWriter, r *http.Request, id int64, status int, typed *replanTyped) {
	info, err := a.Approvals.ReplanInfo(r.Context(), auth.FromContext(r.Context()), id)
	if err != nil {
		Fail(w, r, err)
		return
	}
	v := views.ReplanView{CaseID: strconv.FormatInt(id, 10), Kind: info.Kind, Refusal: info.Refusal, Waiting: info.Waiting,
		Cancelled: info.Cancelled, Voided: info.Voided, Currency: info.Currency, Dest: info.DestRef, Recipient: info.Recipient}
	for i, who := range v.Voided {
		if who == "policy:automatic" {
			v.Voided[i] = "the policy (automatic approval)"
		}
	}
	if info.AmountMinor != nil {
		v.Amount = money.Amount{Minor: *info.AmountMinor, Currency: info.Currency}.Major()
	}
	pg := a.Page(r, "Edit and ask again: case "+v.CaseID)
	if typed != nil {
		pg.Flash, pg.FlashKind = typed.err.Error(), "error"
		e := typed.edit
		v.Amount, v.Currency, v.Dest = orKeep(e.Amount, v.Amount), orKeep(e.Currency, v.Currency), orKeep(e.Destination, v.Dest)
		v.Reason = typed.reason
	}
	noStore(w)
	Render(w, r, status, views.ReplanPage(pg, v))
}

func orKeep(typed, current string) string {
	if typed != "" {
		return typed
	}
	return current
}
