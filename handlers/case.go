package handlers

import (
	"github.com/a-h/templ"

	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/views"
)

// caseFlash are the fixed messages a redirect after a case change may show.
// mentionList is the ?unknown= of a note just added: @names, nothing else.
var mentionList = regexp.MustCompile(`^[a-z0-9][a-z0-9._,-]{0,999}$`)

var caseFlash = map[string]string{
	"assigned": "Assignee updated.", "reclassified": "Case moved to its new queue.", "tagged": "Tags updated.",
	"reviewed": "Marked reviewed.", "noted": "Note added.", "unchanged": "Nothing to change: the case was already that way.",
}

// Case shows one case. Viewing it marks the viewer's mentions in its notes as read.
func (a *App) Case(w http.ResponseWriter, r *http.Request) {
	a.renderCase(w, r, http.StatusOK, caseForm{})
}

// caseForm carries what a failed POST re-renders: the error and the typed note.
type caseForm struct {
	flash     string
	noteError string
	noteDraft string
}

func (a *App) renderCase(w http.ResponseWriter, r *http.Request, status int, form caseForm) {
	id, err := console.ParseID(r.PathValue("id"))
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	ctx, p := r.Context(), auth.FromContext(r.Context())
	if _, err := console.MarkMentionsRead(ctx, a.DB.Gorm, id, p.UserID); err != nil {
		Fail(w, r, err)
		return
	}
	d, err := console.LoadDetail(ctx, a.DB.Gorm, p, id)
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	v := caseView(a.Page(r, "Case "+strconv.FormatInt(id, 10)), d, p.UserID, canTriage(p), time.Now())
	if p.HasAny(auth.Auditor, auth.Admin) {
		sid := strconv.FormatInt(id, 10)
		v.AuditHref, v.BundleHref = "/audit?case="+sid, "/cases/"+sid+"/evidence.jsonl"
	}
	if msg, ok := caseFlash[r.URL.Query().Get("done")]; ok {
		v.Page.Flash, v.Page.FlashKind = msg, "ok"
		if u := r.URL.Query().Get("unknown"); mentionList.MatchString(u) {
			v.Page.Flash += " Nobody was notified for @" + strings.ReplaceAll(u, ",", ", @") +
				": no one of that name has signed in to Countersign yet (a mention reaches people who have signed in at least once)."
			v.Page.FlashKind = "warn"
		}
	}
	if form.flash != "" {
		v.Page.Flash, v.Page.FlashKind = form.flash, "error"
	}
	v.NoteError, v.NoteDraft = form.noteError, form.noteDraft
	if v.CanChange {
		people, err := console.MentionUsers(ctx, a.DB.Gorm)
		if err != nil {
			Fail(w, r, err)
			return
		}
		for _, u := range people {
			v.Mentionable = append(v.Mentionable, views.OptionView{Value: u.Handle, Label: u.Label})
		}
	}
	v.Extra = append(v.Extra, a.caseExtras(r, id)...)
	noStore(w)
	Render(w, r, status, views.Case(v))
}

// caseChange applies one action to the case in the path and returns to it.
func (a *App) caseChange(w http.ResponseWriter, r *http.Request, act console.Action, done string) {
	id, err := console.ParseID(r.PathValue("id"))
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	changed, err := console.ChangeOne(r.Context(), a.DB.Gorm, auth.FromContext(r.Context()), id, act)
	if err != nil {
		if status := StatusOf(err); status == http.StatusConflict || status == http.StatusBadRequest {
			a.renderCase(w, r, status, caseForm{flash: err.Error()})
			return
		}
		a.consoleFail(w, r, err)
		return
	}
	if !changed {
		done = "unchanged"
	} else {
		a.countsChanged()
	}
	http.Redirect(w, r, "/cases/"+strconv.FormatInt(id, 10)+"?done="+done, http.StatusSeeOther)
}

// CaseAssign sets the assignee ("" unassigns).
func (a *App) CaseAssign(w http.ResponseWriter, r *http.Request) {
	act := console.Action{Name: console.ActUnassign}
	if s := r.FormValue("assignee"); s != "" {
		act.Name = console.ActAssign
		act.AssigneeID, _ = strconv.ParseInt(s, 10, 64)
	}
	a.caseChange(w, r, act, "assigned")
}

// CaseReclassify moves the case to another kind's queue.
func (a *App) CaseReclassify(w http.ResponseWriter, r *http.Request) {
	a.caseChange(w, r, console.Action{Name: console.ActReclassify, Kind: r.FormValue("kind")}, "reclassified")
}

// CaseTags adds a tag, removes one (remove=tag) or marks the case reviewed (reviewed=1).
func (a *App) CaseTags(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.FormValue("reviewed") == "1":
		a.caseChange(w, r, console.Action{Name: console.ActReview}, "reviewed")
	case r.FormValue("remove") != "":
		a.caseChange(w, r, console.Action{Name: console.ActUntag, Tag: r.FormValue("remove")}, "tagged")
	default:
		a.caseChange(w, r, console.Action{Name: console.ActTag, Tag: r.FormValue("tag")}, "tagged")
	}
}

// caseExtras are the panels other areas contribute to the case page: the decision
// (planned actions, policy, approvals). A panel that fails to load is replaced by a
// note saying so, rather than failing the whole page.
func (a *App) caseExtras(r *http.Request, id int64) []templ.Component {
	var out []templ.Component
	if a.Approvals != nil {
		d, err := a.DecisionView(r, id)
		if err != nil {
			reqlog.Logger(r.Context()).Error("decision panel", "case_id", id, "err", err)
			out = append(out, views.PanelError("Decision", "The decision panel could not be loaded; reload the page."))
		} else {
			out = append(out, views.DecisionPanel(d))
		}
	}
	rows, err := a.ActionsView(r.Context(), id)
	switch {
	case err != nil:
		reqlog.Logger(r.Context()).Error("actions panel", "case_id", id, "err", err)
		out = append(out, views.PanelError("Actions", "The actions could not be loaded; reload the page."))
	case executed(rows):
		out = append(out, views.CaseActions(rows))
	}
	return out
}

// executed is true once any action left the plan (queued, running, done, failed): the
// decision panel shows the plan, this panel the execution and its receipts.
func executed(rows []views.ActionRow) bool {
	for _, r := range rows {
		if r.Status != "planned" && r.Status != "cancelled" {
			return true
		}
	}
	return false
}
