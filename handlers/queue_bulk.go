package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
)

// bulkAction reads the bulk form's action fields.
func bulkAction(r *http.Request, p *auth.Principal) console.Action {
	f := r.PostForm
	a := console.Action{Name: f.Get("action"), Kind: f.Get("kind"), Tag: f.Get("tag")}
	switch a.Name {
	case "assign_me":
		a.Name, a.AssigneeID = console.ActAssign, p.UserID
	case console.ActAssign:
		a.AssigneeID, _ = strconv.ParseInt(f.Get("assignee"), 10, 64)
	}
	return a
}

// QueueBulk applies one action to the selected cases, or to every case matching the
// posted filter (up to console.BulkCap), and returns to the queue.
func (a *App) QueueBulk(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		a.consoleFail(w, r, mappedErr{err, apperr.ErrValidation})
		return
	}
	queue := r.PostForm.Get("queue")
	filter, _ := url.ParseQuery(r.PostForm.Get("filter"))
	sc, err := queueScope(r, queue)
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	p := auth.FromContext(r.Context())
	var ids []int64
	if r.PostForm.Get("all") == "1" {
		f, _ := console.ParseFilter(filter)
		if ids, err = console.MatchingIDs(r.Context(), a.DB.Gorm, sc, f); err != nil {
			a.bulkFailed(w, r, queue, filter, err)
			return
		}
	} else {
		for _, s := range append(r.PostForm["ids"], r.PostForm["ids[]"]...) {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		a.renderQueue(w, r, queue, filter, http.StatusBadRequest, "Select at least one case (or tick “All matching this filter”) first; nothing was changed.")
		return
	}
	res, err := console.Change(r.Context(), a.DB.Gorm, p, ids, bulkAction(r, p))
	if err != nil {
		a.bulkFailed(w, r, queue, filter, err)
		return
	}
	filter.Set("changed", strconv.Itoa(len(res.Changed)))
	filter.Set("skipped", strconv.Itoa(len(res.Skipped)))
	a.countsChanged()
	http.Redirect(w, r, "/queues/"+queue+"?"+filter.Encode(), http.StatusSeeOther)
}

func (a *App) bulkFailed(w http.ResponseWriter, r *http.Request, queue string, filter url.Values, err error) {
	if status := StatusOf(err); status < 500 {
		a.renderQueue(w, r, queue, filter, status, err.Error())
		return
	}
	Fail(w, r, err)
}

// SaveView stores the posted queue address as a named view of the principal.
func (a *App) SaveView(w http.ResponseWriter, r *http.Request) {
	p := auth.FromContext(r.Context())
	v, err := console.SaveView(r.Context(), a.DB.Gorm, p.UserID, r.FormValue("name"), r.FormValue("query"))
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	sep := "?"
	if u, _ := url.Parse(v.Query); u != nil && u.RawQuery != "" {
		sep = "&"
	}
	http.Redirect(w, r, v.Query+sep+"view=saved", http.StatusSeeOther)
}

// DeleteView removes one of the principal's saved views.
func (a *App) DeleteView(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		err = console.DeleteView(r.Context(), a.DB.Gorm, auth.FromContext(r.Context()).UserID, id)
	} else {
		err = mappedErr{err, apperr.ErrNotFound}
	}
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	http.Redirect(w, r, "/queues/open?view=deleted", http.StatusSeeOther)
}
