package handlers

import (
	"net/http"

	"github.com/countersign/countersign/internal/auth"
)

// VerifyRecipient records a support lead's verification of a document recipient:
// POST /cases/{id}/recipients (email, method call_back|email_confirmation, note).
func (a *App) VerifyRecipient(w http.ResponseWriter, r *http.Request) {
	id, _, err := decisionCaseID(r)
	if err != nil {
		Fail(w, r, err)
		return
	}
	err = a.Approvals.VerifyRecipient(r.Context(), auth.FromContext(r.Context()), id,
		r.PostFormValue("email"), r.PostFormValue("method"), r.PostFormValue("note"))
	a.decided(w, r, id, "verified", err)
}
