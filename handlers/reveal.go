package handlers

import (
	"net/http"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/views"
)

// Reveal shows the restricted values of a case to an allowed role for a stated
// reason, audited: POST /cases/{id}/reveal (ref, reason). The answer is the decision
// page with the values, never cached; nothing is kept in the session.
func (a *App) Reveal(w http.ResponseWriter, r *http.Request) {
	id, sid, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	vals, err := a.Approvals.Reveal(r.Context(), auth.FromContext(r.Context()), id, r.PostFormValue("ref"), r.PostFormValue("reason"))
	if err != nil {
		a.decided(w, r, id, "", err)
		return
	}
	d, err := a.DecisionView(r, id)
	if err != nil {
		Fail(w, r, err)
		return
	}
	d.Revealed, d.Restricted, d.Notice = true, nil, decisionNotices["revealed"]
	for _, v := range vals {
		d.Restricted = append(d.Restricted, views.RestrictedView{Ref: v.Ref, Kind: v.Kind, Where: v.Where, Token: v.Token, Last4: v.Last4})
	}
	w.Header().Set("Cache-Control", "no-store")
	Render(w, r, http.StatusOK, views.DecisionPage(a.Page(r, "Decision for case "+sid), d))
}

// RevealRefused answers a reveal by a user without a reveal role: approval.Reveal
// audits the attempt and refuses it, and the answer is a plain 403 (no case page).
func (a *App) RevealRefused(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	_, err = a.Approvals.Reveal(r.Context(), auth.FromContext(r.Context()), id, r.PostFormValue("ref"), r.PostFormValue("reason"))
	Fail(w, r, err)
}
