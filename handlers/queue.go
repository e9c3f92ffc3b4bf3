package handlers

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/countersign/countersign/internal/apperr"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/reqlog"
	"github.com/countersign/countersign/views"
)

// Home sends each role to the page its day starts on: finance approvers to the
// cases awaiting their approval, auditors to the audit log, everyone else to the
// "all open" queue.
func (a *App) Home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, homeOf(auth.FromContext(r.Context())), http.StatusSeeOther)
}

func homeOf(p *auth.Principal) string {
	switch {
	case p.Has(auth.FinanceApprover):
		return "/approvals"
	case p.Has(auth.Auditor) && !p.HasAny(auth.SupportLead, auth.Admin):
		return "/audit"
	}
	return "/queues/open"
}

// queueScope reads the queue name from the path; an unknown queue is not found.
func queueScope(r *http.Request, queue string) (console.Scope, error) {
	if !console.ValidQueue(queue) {
		return console.Scope{}, mappedErr{errors.New("There is no queue called " + strconv.Quote(queue) + "."), apperr.ErrNotFound}
	}
	p := auth.FromContext(r.Context())
	return console.Scope{Queue: queue, Viewer: p.UserID, Now: time.Now(), Reveal: p.HasAny(auth.Revealers...)}, nil
}

// Queue shows one page of a queue under the filter in the URL query.
func (a *App) Queue(w http.ResponseWriter, r *http.Request) {
	a.renderQueue(w, r, r.PathValue("queue"), r.URL.Query(), http.StatusOK, "")
}

// renderQueue renders queue with filter q; flash (an error) overrides the redirect flash.
func (a *App) renderQueue(w http.ResponseWriter, r *http.Request, queue string, q url.Values, status int, flash string) {
	sc, err := queueScope(r, queue)
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	ctx, db := r.Context(), a.DB.Gorm
	f, msgs := console.ParseFilter(q)
	pg, err := console.List(ctx, db, sc, f)
	if err != nil {
		Fail(w, r, err)
		return
	}
	var users []console.User
	var maxID int64
	if err := console.Assignees(db.WithContext(ctx), &users); err != nil {
		Fail(w, r, err)
		return
	}
	if err := db.WithContext(ctx).Raw("SELECT coalesce(max(id), 0) FROM cases").Scan(&maxID).Error; err != nil {
		Fail(w, r, err)
		return
	}
	v := queueView(a.Page(r, queueTitle(queue)), sc, f, pg, users)
	v.CanChange = canTriage(auth.FromContext(ctx))
	v.Messages, v.MaxID = msgs, maxID
	v.Page.Flash, v.Page.FlashKind = queueFlash(q)
	if flash != "" {
		v.Page.Flash, v.Page.FlashKind = flash, "error"
	}
	noStore(w)
	Render(w, r, status, views.Queue(v))
}

func queueView(page views.Page, sc console.Scope, f console.Filter, pg console.Page, users []console.User) views.QueueView {
	qs := f.Values().Encode()
	path := "/queues/" + sc.Queue
	withQS := func(extra url.Values) string {
		v := f.Values()
		for k, vals := range extra {
			v[k] = vals
		}
		if e := v.Encode(); e != "" {
			return path + "?" + e
		}
		return path
	}
	v := views.QueueView{Page: page, Queue: sc.Queue, Title: queueTitle(sc.Queue), FilterQS: qs,
		Filter: filterForm(f, users), ExportHref: path + "/export.csv", SinceHref: path + "/since",
		BulkCap: console.BulkCap, SaveQuery: withQS(nil),
		Kinds: optionsOf(kindValues(), queueTitle), Assignees: assigneeOptions(users, "")}
	v.Chips = filterChips(path, f, v.Filter)
	if qs != "" {
		v.ExportHref += "?" + qs
		v.SinceHref += "?" + qs
	}
	for _, row := range pg.Rows {
		v.Rows = append(v.Rows, queueRow(row, sc.Now))
	}
	if pg.Next != nil {
		v.NextHref = withQS(url.Values{"after": {pg.Next.Encode()}})
	}
	if f.After != nil {
		v.FirstHref = withQS(nil)
	}
	return v
}

// QueueSince answers the poll of an open queue page: how many cases matching its
// filter arrived after the page's newest id.
func (a *App) QueueSince(w http.ResponseWriter, r *http.Request) {
	sc, err := queueScope(r, r.PathValue("queue"))
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	f, _ := console.ParseFilter(r.URL.Query())
	n, err := console.CountNewer(r.Context(), a.DB.Gorm, sc, f, after)
	if err != nil {
		Fail(w, r, err)
		return
	}
	text := ""
	switch {
	case n == 1:
		text = "1 new case"
	case n > 1:
		text = strconv.Itoa(n) + " new cases"
	}
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"count": n, "text": text})
}

// QueueExport streams every case matching the filter as CSV, audited.
func (a *App) QueueExport(w http.ResponseWriter, r *http.Request) {
	sc, err := queueScope(r, r.PathValue("queue"))
	if err != nil {
		a.consoleFail(w, r, err)
		return
	}
	f, _ := console.ParseFilter(r.URL.Query())
	name := "countersign-" + sc.Queue + "-" + time.Now().UTC().Format("2006-01-02") + ".csv"
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	noStore(w)
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	cw := &countingWriter{w: w}
	_, err = console.Export(r.Context(), a.DB.Gorm, auth.FromContext(r.Context()), sc, f, cw, flush)
	switch {
	case err != nil && cw.n == 0:
		Fail(w, r, err)
	case err != nil:
		// Rows are already on the wire: the status cannot change any more.
		reqlog.Logger(r.Context()).Error("csv export cut short", "queue", sc.Queue, "err", err)
	}
}

type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}
