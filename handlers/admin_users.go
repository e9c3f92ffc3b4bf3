package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/views"
)

// adminUsersDone maps the ?done= code of the post-redirect-get to its flash text;
// nothing from the query string is echoed.
var adminUsersDone = map[string]string{
	"disabled": "User disabled; their sessions have ended.",
	"enabled":  "User enabled; they can sign in again.",
	"ended":    "Sessions ended; the user must sign in again.",
}

// AdminUsers lists users with roles, last sign-in, active sessions and status.
func (a *App) AdminUsers(w http.ResponseWriter, r *http.Request) {
	pg := a.Page(r, "Users")
	if msg, ok := adminUsersDone[r.URL.Query().Get("done")]; ok {
		pg.Flash, pg.FlashKind = msg, "ok"
	}
	a.renderUsers(w, r, http.StatusOK, pg)
}

func (a *App) renderUsers(w http.ResponseWriter, r *http.Request, status int, pg views.Page) {
	users, err := auth.ListUsers(r.Context(), a.DB.Gorm)
	if err != nil {
		Fail(w, r, err)
		return
	}
	me := auth.FromContext(r.Context())
	rows := make([]views.AdminUserRow, len(users))
	for i, u := range users {
		rows[i] = views.AdminUserRow{ID: strconv.FormatInt(u.ID, 10), Name: u.Name, Email: u.Email, Roles: u.Roles,
			LastLogin: timePtrView(u.LastLoginAt), Sessions: u.ActiveSessions, Disabled: u.Disabled, Self: me != nil && me.UserID == u.ID}
	}
	Render(w, r, status, views.AdminUsers(pg, rows))
}

// DisableUser disables a user and ends their sessions once the administrator
// confirmed (confirm=yes); without it, it shows what disabling will do and asks.
func (a *App) DisableUser(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("confirm") != "yes" {
		a.confirmDisable(w, r)
		return
	}
	a.changeUser(w, r, "disabled", func(id int64) error {
		return auth.SetDisabled(r.Context(), a.DB.Gorm, auth.FromContext(r.Context()), id, true)
	})
}

// EnableUser lets a disabled user sign in again.
func (a *App) EnableUser(w http.ResponseWriter, r *http.Request) {
	a.changeUser(w, r, "enabled", func(id int64) error {
		return auth.SetDisabled(r.Context(), a.DB.Gorm, auth.FromContext(r.Context()), id, false)
	})
}

// EndUserSessions signs a user out everywhere.
func (a *App) EndUserSessions(w http.ResponseWriter, r *http.Request) {
	a.changeUser(w, r, "ended", func(id int64) error {
		_, err := auth.EndSessions(r.Context(), a.DB.Gorm, auth.FromContext(r.Context()), id)
		return err
	})
}

// changeUser parses {id}, runs change and redirects back to the list (303), or shows
// the list with the refusal.
func (a *App) changeUser(w http.ResponseWriter, r *http.Request, done string, change func(id int64) error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		Fail(w, r, fmt.Errorf("%w: no such user", apperr.ErrNotFound))
		return
	}
	switch err := change(id); {
	case errors.Is(err, auth.ErrUserNotFound):
		Fail(w, r, fmt.Errorf("%w: no such user", apperr.ErrNotFound))
	case errors.Is(err, auth.ErrSelf):
		pg := a.Page(r, "Users")
		pg.Flash, pg.FlashKind = "You cannot disable your own account; ask another administrator.", "error"
		a.renderUsers(w, r, http.StatusConflict, pg)
	case err != nil:
		Fail(w, r, err)
	default:
		http.Redirect(w, r, "/admin/users?done="+done, http.StatusSeeOther)
	}
}

// confirmDisable renders the confirmation of disabling the user in the path.
func (a *App) confirmDisable(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		Fail(w, r, fmt.Errorf("%w: no such user", apperr.ErrNotFound))
		return
	}
	if me := auth.FromContext(r.Context()); me != nil && me.UserID == id {
		a.changeUser(w, r, "disabled", func(int64) error { return auth.ErrSelf })
		return
	}
	users, err := auth.ListUsers(r.Context(), a.DB.Gorm)
	if err != nil {
		Fail(w, r, err)
		return
	}
	i := slices.IndexFunc(users, func(u auth.UserSummary) bool { return u.ID == id })
	switch {
	case i < 0:
		Fail(w, r, fmt.Errorf("%w: no such user", apperr.ErrNotFound))
		return
	case users[i].Disabled:
		http.Redirect(w, r, "/admin/users?done=disabled", http.StatusSeeOther)
		return
	}
	pend, err := approval.PendingOf(r.Context(), a.DB.Gorm, id)
	if err != nil {
		Fail(w, r, err)
		return
	}
	u := users[i]
	name := u.Name
	if name == "" {
		name = u.Email
	}
	v := views.DisableUserView{ID: strconv.FormatInt(id, 10), Name: name, Email: u.Email, Roles: u.Roles, Sessions: u.ActiveSessions,
		Approvals: pend.Approvals, Requested: pend.Requested, Assigned: pend.Assigned}
	noStore(w)
	Render(w, r, http.StatusOK, views.ConfirmDisableUser(a.Page(r, "Disable "+name+"?"), v))
}
