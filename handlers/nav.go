package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/approval"
	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/triage"
	"github.com/countersign/countersign/views"
)

// queueTitles names the queues that are not case kinds, and the review kind.
var queueTitles = map[string]string{
	console.QueueOpen:     "All open",
	console.QueueMine:     "Assigned to me",
	console.QueueMentions: "Mentions",
	string(triage.Review): "Needs review",
}

// Sidebar entries that are not queues.
const (
	navAwaiting = "awaiting"
	navAudit    = "audit"
	// navAttention is the queue of cases whose actions failed and wait for a person.
	navAttention = "attention"
)

var navLabels = map[string]string{"dashboard": "Dashboard", navAwaiting: "Awaiting my approval", navAudit: "Audit log", navAttention: "Needs attention"}

// adminPages are the pages of the admin group, in sidebar order.
var adminPages = []struct{ key, label, href string }{
	{"audit", "Audit log", "/audit"},
	{"policy", "Approval policy", "/admin/policy"},
	{"users", "Users", "/admin/users"},
	{"connectors", "Connectors", "/admin/connectors"},
	{"sandbox", "Sandbox log", "/admin/sandbox"},
	{"jobs", "Jobs", "/admin/jobs"},
}

// adminNav is the admin group of the sidebar; the route table decides access, this
// only shows admins the pages they may open.
func adminNav(r *http.Request, p *auth.Principal) []views.NavItem {
	if !p.Has(auth.Admin) {
		return nil
	}
	out := make([]views.NavItem, 0, len(adminPages))
	for i, pg := range adminPages {
		it := views.NavItem{Label: pg.label, Href: pg.href, Key: "admin-" + pg.key,
			Active: strings.HasPrefix(r.URL.Path, pg.href)}
		if i == 0 {
			it.Group = "Admin"
		}
		out = append(out, it)
	}
	return out
}

// queueTitle is the heading and sidebar label of a queue.
func queueTitle(q string) string {
	if t, ok := queueTitles[q]; ok {
		return t
	}
	return views.Humanize(q)
}

// ConsoleNav fills the sidebar: the queues with their counts (one query) and the
// principal's saved views. A failed count query leaves the counts out, not the page.
func (a *App) ConsoleNav(r *http.Request, p *auth.Principal) (nav, saved []views.NavItem) {
	ctx := r.Context()
	counts, err := a.navCounts(ctx, p.UserID)
	if err != nil {
		a.Log.Warn("nav counts", "err", err)
	}
	count := func(n int) views.NavItem {
		it := views.NavItem{Count: n}
		if n > console.CountCap {
			it.CountText = strconv.Itoa(console.CountCap/1000) + ",000+"
		}
		return it
	}
	add := func(key, href string, n views.NavItem, group string) {
		n.Label, n.Href, n.Key, n.Group = queueTitle(key), href, key, group
		n.Active = r.URL.RequestURI() == href || (r.URL.Path == href && (r.URL.RawQuery == "" || href == "/dashboard"))
		if l, ok := navLabels[key]; ok {
			n.Label = l
		}
		nav = append(nav, n)
	}
	if p.Has(auth.FinanceApprover) {
		n, err := approval.CountAwaitingFor(ctx, a.DB.Gorm, p.UserID)
		if err != nil {
			a.Log.Warn("awaiting count", "err", err)
		}
		add(navAwaiting, "/approvals", views.NavItem{Count: n}, "Decide")
	}
	if p.HasAny(auth.Retriers...) {
		n, err := approval.CountNeedsAttention(ctx, a.DB.Gorm)
		if err != nil {
			a.Log.Warn("needs-attention count", "err", err)
		}
		add(navAttention, queueAttention, views.NavItem{Count: n}, "")
	}
	if p.Has(auth.Auditor) && !p.Has(auth.Admin) {
		add(navAudit, "/audit", views.NavItem{}, "")
	}
	add("dashboard", "/dashboard", views.NavItem{}, "")
	add(console.QueueOpen, "/queues/open", count(counts.Open), "Work")
	add(console.QueueMine, "/queues/mine", count(counts.Mine), "")
	add(console.QueueMentions, "/queues/mentions", count(counts.Mentions), "")
	for i, k := range triage.Kinds {
		group := ""
		if i == 0 {
			group = "Queues"
		}
		add(string(k), "/queues/"+url.PathEscape(string(k)), count(counts.Kinds[string(k)]), group)
	}
	nav = append(nav, adminNav(r, p)...)
	list, err := console.SavedViews(ctx, a.DB.Gorm, p.UserID)
	if err != nil {
		a.Log.Warn("saved views", "err", err)
	}
	here := r.URL.RequestURI()
	for _, v := range list {
		id := strconv.FormatInt(v.ID, 10)
		saved = append(saved, navSaved(v, id, here))
	}
	return nav, saved
}

func navSaved(v console.SavedView, id, here string) views.NavItem {
	return views.NavItem{Label: v.Name, Href: v.Query, Key: id, Active: v.Query == here,
		DeleteHref: "/views/" + id + "/delete"}
}

// navCounts is the sidebar's counts: the queue counts from the process-wide cache
// (when set), the viewer's own counts live.
func (a *App) navCounts(ctx context.Context, viewer int64) (console.Counts, error) {
	if a.Counts == nil {
		return console.NavCounts(ctx, a.DB.Gorm, viewer)
	}
	base, err := a.Counts.Get(ctx, a.DB.Gorm)
	if err != nil {
		return console.Counts{}, err
	}
	return console.ViewerCounts(ctx, a.DB.Gorm, viewer, base)
}

// countsChanged drops the cached queue counts after this process changed cases.
func (a *App) countsChanged() {
	if a.Counts != nil {
		a.Counts.Invalidate()
	}
}
