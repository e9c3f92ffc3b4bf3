package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
)

// CaseNote adds an internal note. A refused note (card, bank or tax data, empty, too
// long) re-renders the case with the reason and the typed text kept in the form; the
// text is never stored.
func (a *App) CaseNote(w http.ResponseWriter, r *http.Request) {
	id, err := console.ParseID(r.PathValue("id"))
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	body := r.FormValue("body")
	_, err = console.AddNote(r.Context(), a.DB.Gorm, auth.FromContext(r.Context()), id, body)
	switch {
	case err == nil:
		q := url.Values{"done": {"noted"}}
		if unknown, uerr := console.UnknownMentions(r.Context(), a.DB.Gorm, body); uerr == nil && len(unknown) > 0 {
			q.Set("unknown", strings.Join(unknown, ","))
		}
		http.Redirect(w, r, "/cases/"+strconv.FormatInt(id, 10)+"?"+q.Encode()+"#notes-h", http.StatusSeeOther)
	case errors.Is(err, apperr.ErrValidation):
		a.renderCase(w, r, http.StatusUnprocessableEntity, caseForm{noteError: err.Error(), noteDraft: body})
	default:
		a.consoleFail(w, r, err)
	}
}
