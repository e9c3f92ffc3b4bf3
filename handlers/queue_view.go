package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/auth"
	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/triage"
	"github.com/countersign/countersign/views"
)

// mappedErr gives a plain error an apperr kind, keeping both for errors.Is.
type mappedErr struct{ err, kind error }

func (e mappedErr) Error() string   { return e.err.Error() }
func (e mappedErr) Unwrap() []error { return []error{e.err, e.kind} }

// consoleFail answers a client error with a console page that says what went wrong,
// and a server error through Fail.
func (a *App) consoleFail(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	if status >= 500 {
		Fail(w, r, err)
		return
	}
	heading := map[int]string{http.StatusNotFound: "Not found", http.StatusConflict: "Not changed",
		http.StatusForbidden: "Not allowed"}[status]
	if heading == "" {
		heading = "Please check the form"
	}
	noStore(w)
	Render(w, r, status, views.Message(a.Page(r, heading), heading, err.Error(), "Back to the queues", "/queues/open"))
}

func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

// canTriage says whether p may change cases (the triage access of the route table).
func canTriage(p *auth.Principal) bool { return p.HasAny(auth.Triagers...) }

// stampFormat is the one way the console writes an instant as text (UTC, before
// app.js shows it in the viewer's zone with the time relative to now).
const stampFormat = "2 Jan 2006 15:04 UTC"

func timeView(t time.Time) views.TimeView {
	if t.IsZero() {
		return views.TimeView{}
	}
	t = t.UTC()
	return views.TimeView{ISO: t.Format(time.RFC3339), UTC: t.Format(stampFormat)}
}

func timePtrView(t *time.Time) views.TimeView {
	if t == nil {
		return views.TimeView{}
	}
	return timeView(*t)
}

// timeLeft says "due in 2 days" or "overdue by 3 h".
func timeLeft(deadline, now time.Time) (string, bool) {
	d := deadline.Sub(now)
	if d < 0 {
		return "overdue by " + span(-d), true
	}
	return "due in " + span(d), false
}

func span(d time.Duration) string {
	switch {
	case d < time.Hour:
		return strconv.Itoa(max(1, int(d.Minutes()))) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " h"
	default:
		return strconv.Itoa(int(d.Hours()/24)) + " days"
	}
}

func amountText(minor *int64, currency string) string {
	if minor == nil {
		return ""
	}
	return money.Amount{Minor: *minor, Currency: currency}.String()
}

func queueRow(r console.Row, now time.Time) views.QueueRow {
	row := views.QueueRow{ID: r.ID, Href: "/cases/" + strconv.FormatInt(r.ID, 10), Kind: r.Kind,
		Status: r.Status, Urgency: r.Urgency, VIP: r.VIP, LowConf: r.Confidence < console.LowConfidence,
		Amount: amountText(r.AmountMinor, r.Currency), Customer: r.CustomerLabel, Ref: r.DestinationRef,
		Assignee: r.AssigneeName, Received: timeView(r.CreatedAt), Tags: r.Tags(), Reviewed: r.Reviewed,
		Snippet: snippetParts(r.Snippet)}
	if r.Deadline != nil {
		row.Deadline = timeView(*r.Deadline)
		row.DeadlineLeft, row.Overdue = timeLeft(*r.Deadline, now)
	}
	return row
}

func optionsOf(values []string, label func(string) string, selected ...string) []views.OptionView {
	out := make([]views.OptionView, len(values))
	for i, v := range values {
		out[i] = views.OptionView{Value: v, Label: label(v), Selected: slices.Contains(selected, v)}
	}
	return out
}

func kindValues() []string {
	out := make([]string, len(triage.Kinds))
	for i, k := range triage.Kinds {
		out[i] = string(k)
	}
	return out
}

func assigneeOptions(users []console.User, selected string) []views.OptionView {
	out := make([]views.OptionView, len(users))
	for i, u := range users {
		id := strconv.FormatInt(u.ID, 10)
		out[i] = views.OptionView{Value: id, Label: u.Label, Selected: id == selected}
	}
	return out
}

// filterForm fills the filter form from f.
func filterForm(f console.Filter, users []console.User) views.FilterForm {
	urg := make([]string, len(f.Urgencies))
	for i, u := range f.Urgencies {
		urg[i] = strconv.Itoa(u)
	}
	dir := "asc"
	if f.Desc {
		dir = "desc"
	}
	ff := views.FilterForm{Q: f.Q, VIP: f.VIP, LowConf: f.LowConf, Currency: f.Currency,
		AmountMin: f.AmountMinRaw, AmountMax: f.AmountMaxRaw, From: f.From, To: f.To,
		Statuses:  optionsOf(console.Statuses, views.Humanize, f.Statuses...),
		Urgencies: optionsOf([]string{"3", "2", "1", "0"}, func(s string) string { n, _ := strconv.Atoi(s); return views.UrgencyLabel(n) }, urg...),
		Deadlines: optionsOf([]string{"", "overdue", "today", "week"}, func(s string) string {
			return map[string]string{"": "Any", "overdue": "Overdue", "today": "Due today", "week": "Due within 7 days"}[s]
		}, f.Deadline),
		Sorts: optionsOf(console.Sorts, views.Humanize, f.Sort),
		Dirs: optionsOf([]string{"desc", "asc"}, func(s string) string {
			return map[string]string{"desc": "High → low / newest", "asc": "Low → high / oldest"}[s]
		}, dir),
		Sizes: optionsOf([]string{"25", "50", "100"}, func(s string) string { return s }, strconv.Itoa(f.Size)),
		Captured: optionsOf(append([]string{""}, triage.CaptureFields...), func(s string) string {
			if s == "" {
				return "Any"
			}
			return triage.CaptureLabels[s]
		}, f.Captured),
	}
	ff.Assignees = append(optionsOf([]string{"", "me", "none"}, func(s string) string {
		return map[string]string{"": "Anyone", "me": "Me", "none": "Unassigned"}[s]
	}, f.Assignee), assigneeOptions(users, f.Assignee)...)
	v := f.Values()
	for _, k := range []string{"sort", "dir", "size"} {
		v.Del(k)
	}
	ff.Active = len(v)
	return ff
}

// queueFlash reads the flash a redirect after a change carries (fixed codes and
// numbers only, never text from the request).
func queueFlash(q url.Values) (string, string) {
	switch {
	case q.Has("changed"):
		n, _ := strconv.Atoi(q.Get("changed"))
		s, _ := strconv.Atoi(q.Get("skipped"))
		msg := strconv.Itoa(n) + " case(s) changed."
		if s > 0 {
			msg += " " + strconv.Itoa(s) + " skipped: already in that state, taken, or gone."
		}
		return msg, "ok"
	case q.Get("view") == "saved":
		return "View saved. Find it under “Saved views”.", "ok"
	case q.Get("view") == "deleted":
		return "Saved view deleted.", "ok"
	}
	return "", ""
}

// snippetParts splits a search headline at console's markers into plain and
// matching runs; the view escapes every run, so text from the database is never
// taken as HTML. A marker left unclosed marks the rest.
func snippetParts(s string) []views.SnippetPart {
	var out []views.SnippetPart
	for s != "" {
		i := strings.Index(s, console.SnippetStart)
		if i < 0 {
			out = append(out, views.SnippetPart{Text: strings.ReplaceAll(s, console.SnippetStop, "")})
			break
		}
		if i > 0 {
			out = append(out, views.SnippetPart{Text: strings.ReplaceAll(s[:i], console.SnippetStop, "")})
		}
		s = s[i+len(console.SnippetStart):]
		j := strings.Index(s, console.SnippetStop)
		if j < 0 {
			j = len(s)
		}
		if j > 0 {
			out = append(out, views.SnippetPart{Text: s[:j], Mark: true})
		}
		s = strings.TrimPrefix(s[j:], console.SnippetStop)
	}
	return out
}

// chipKeys are the filter parameters shown as chips, in the filter panel's order;
// sort, direction and page size are not filters.
var chipKeys = []string{"q", "status", "urgency", "vip", "confidence", "currency", "amount_min", "amount_max",
	"deadline", "assignee", "captured", "received_from", "received_to"}

// filterChips is one chip per active filter value, each linking to this queue with
// just that value removed (the rest of the filter, sort and page size kept).
func filterChips(path string, f console.Filter, form views.FilterForm) []views.FilterChip {
	all := f.Values()
	var out []views.FilterChip
	for _, k := range chipKeys {
		for _, val := range all[k] {
			rest := url.Values{}
			for k2, vals := range all {
				for _, v2 := range vals {
					if k2 != k || v2 != val {
						rest.Add(k2, v2)
					}
				}
			}
			href := path
			if e := rest.Encode(); e != "" {
				href += "?" + e
			}
			out = append(out, views.FilterChip{Key: k, Value: val, Label: chipLabel(k, val, form), Href: href})
		}
	}
	return out
}

// chipLabel says what a filter value keeps, in the filter panel's words.
func chipLabel(k, val string, form views.FilterForm) string {
	optLabel := func(opts []views.OptionView) string {
		for _, o := range opts {
			if o.Value == val {
				return o.Label
			}
		}
		return val
	}
	switch k {
	case "q":
		return "Search: “" + val + "”"
	case "status":
		return "Status: " + views.Humanize(val)
	case "urgency":
		return "Urgency: " + optLabel(form.Urgencies)
	case "vip":
		return "VIP only"
	case "confidence":
		return "Low confidence"
	case "currency":
		return "Currency: " + val
	case "amount_min":
		return "Amount from " + val
	case "amount_max":
		return "Amount up to " + val
	case "deadline":
		return "Deadline: " + optLabel(form.Deadlines)
	case "assignee":
		return "Assignee: " + optLabel(form.Assignees)
	case "captured":
		return "Captured: " + optLabel(form.Captured)
	case "received_from":
		return "Received from " + val
	case "received_to":
		return "Received up to " + val
	}
	return val
}
