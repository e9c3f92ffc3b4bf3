package handlers

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/console"
	"github.com/countersign/countersign/views"
)

// documentKinds names the private documents a call can mention (redact.Mentions).
var documentKinds = map[string]string{"passport": "passport", "tax_return": "tax return",
	"bank_statement": "bank statement", "id_document": "ID document"}

// caseView maps a loaded case onto the page's view model.
func caseView(page views.Page, d *console.Detail, me int64, canChange bool, now time.Time) views.CaseView {
	c := d.Case
	v := views.CaseView{Page: page, ID: c.ID, Kind: c.Kind, Status: string(c.Status), Urgency: int(c.Urgency), UrgencyWhy: c.UrgencyWhy, VIP: c.VIP,
		Amount: amountText(c.AmountMinor, c.Currency), Customer: caseCustomer(d), Owner: c.Owner,
		Assignee: c.AssigneeName, NextStep: c.NextStep, Reasons: c.ReasonList,
		Confidence: strconv.FormatFloat(float64(c.Confidence), 'f', 2, 64), LowConf: float64(c.Confidence) < console.LowConfidence,
		Suspected: c.SuspectedKind, Tags: c.Tags, Reviewed: c.Reviewed, Received: timeView(callTime(d.Call)),
		Summary: d.Call.Summary, RecordingRestricted: d.RecordingRestricted, Withheld: d.Withheld, Billing: billingView(d.Billing),
		NoteGuidance: console.NoteGuidance, CanChange: canChange, Me: strconv.FormatInt(me, 10),
		Links: caseLinks(d)}
	if c.CallChangedAt != nil {
		v.CallChanged, v.CallChangedFields = timeView(*c.CallChangedAt), strings.Join(c.CallChangedFields, ", ")
	}
	if c.FollowUpDeadline != nil {
		v.Deadline = timeView(*c.FollowUpDeadline)
		v.DeadlineLeft, v.Overdue = timeLeft(*c.FollowUpDeadline, now)
	}
	kinds := make([]string, 0, len(c.SuppressedCounts))
	for k := range c.SuppressedCounts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		n := c.SuppressedCounts[k]
		switch {
		case n <= 0:
		case documentKinds[k] != "":
			v.Documents = strings.TrimPrefix(v.Documents+", "+documentKinds[k], ", ")
		default:
			v.Suppressed = append(v.Suppressed, console.SuppressedLabel(k, n))
		}
	}
	v.Restricted = c.Restricted
	if d.Recording != nil {
		v.RecordingURL, v.RecordingExpires = d.Recording.URL, timePtrView(d.Recording.ExpiresAt)
	}
	for i, t := range d.Turns {
		v.Turns = append(v.Turns, views.TurnView{N: i, Speaker: t.Speaker, Text: t.Text, At: t.At})
	}
	for _, cf := range c.Captured {
		v.Captured = append(v.Captured, views.CapturedView{Label: cf.Label, Value: cf.Value, Passage: cf.Passage, Link: cf.Link})
	}
	for _, f := range d.Fields {
		v.Fields = append(v.Fields, views.FieldView{Name: f.Name, Value: f.Value, Turn: f.Turn})
	}
	for _, n := range d.Notes {
		v.Notes = append(v.Notes, views.NoteView{ID: n.ID, Author: n.Author, Body: n.Body, At: timeView(n.CreatedAt)})
	}
	v.Timeline = timelineView(d)
	v.History = historyView(d.Customer)
	assignee := ""
	if c.AssigneeID != nil {
		assignee = strconv.FormatInt(*c.AssigneeID, 10)
	}
	v.Assignees = assigneeOptions(d.Assignees, assignee)
	v.Kinds = optionsOf(kindValues(), queueTitle, c.Kind)
	return v
}

func caseCustomer(d *console.Detail) string {
	for _, s := range []string{d.Case.CustomerLabel, d.Call.CustomerName, d.Call.CustomerEmail, d.Call.CustomerNumber} {
		if s != "" {
			return s
		}
	}
	return "Unknown customer"
}

// stripeLinks maps Stripe id prefixes to their dashboard pages.
var stripeLinks = map[string]string{"ch_": "payments", "pi_": "payments", "in_": "invoices", "cus_": "customers", "sub_": "subscriptions"}

func caseLinks(d *console.Detail) []views.LinkView {
	links := []views.LinkView{{Label: "DialNexa call " + d.Call.DialNexaID}}
	if d.CallRemoved {
		links[0].Label = "DialNexa call: record removed by retention"
	}
	ref := d.Case.DestinationRef
	for prefix, page := range stripeLinks {
		if strings.HasPrefix(ref, prefix) {
			links = append(links, views.LinkView{Label: "Stripe: " + ref,
				Href: "https://dashboard.stripe.com/" + page + "/" + url.PathEscape(ref)})
		}
	}
	if ref != "" && len(links) == 1 { // nothing but the call link so far
		links = append(links, views.LinkView{Label: "Payment platform: " + strings.TrimSpace(d.Case.DestinationType+" "+ref)})
	}
	if u, err := url.Parse(d.Case.RecordURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		links = append(links, views.LinkView{Label: "Support ticket / record", Href: u.String()})
	}
	return links
}

func billingView(b console.BillingFacts) views.BillingView {
	v := views.BillingView{LookedUp: b.LookedUp, Source: b.Source, CheckedAt: timePtrView(b.CheckedAt), Problem: b.Problem}
	for _, f := range b.Facts {
		fv := views.FactView{Label: f.Label, Claimed: f.Claimed, Billing: f.Billing}
		if f.Match != nil {
			fv.Match = map[bool]string{true: "Matches", false: "Differs"}[*f.Match]
		}
		v.Facts = append(v.Facts, fv)
	}
	for _, l := range b.Score {
		v.Score = append(v.Score, views.ScoreView{Points: strconv.FormatFloat(l.Points, 'f', 2, 64), Why: l.Why})
		if l.Points >= 0 {
			v.Score[len(v.Score)-1].Points = "+" + v.Score[len(v.Score)-1].Points
		}
	}
	v.Route = b.Route
	return v
}

var actionText = map[string]string{
	"case.assigned": "changed the assignee", "case.reclassified": "moved the case",
	"case.tagged": "added a tag", "case.untagged": "removed a tag", "case.reviewed": "marked the case reviewed",
	"note": "added a note",
}

func timelineView(d *console.Detail) []views.EventView {
	names := map[string]string{}
	for _, u := range d.Assignees {
		names[strconv.FormatInt(u.ID, 10)] = u.Label
	}
	var out []views.EventView
	for _, e := range d.Timeline {
		text, ok := actionText[e.Action]
		if ok {
			text += eventDetail(e, names)
		} else {
			text = auditVerb(e.Action)
			if d := auditDetail(e.Summary); d != "" {
				text += ": " + d
			}
		}
		actor := e.Actor
		if i := strings.IndexByte(actor, ' '); i > 0 && strings.HasPrefix(actor, "user:") {
			actor = actor[i+1:]
		}
		out = append(out, views.EventView{At: timeView(e.At), Actor: actor, Text: text})
	}
	return out
}

func eventDetail(e console.Event, names map[string]string) string {
	s := e.Summary
	str := func(k string) string {
		v := fmt.Sprint(s[k])
		if v == "<nil>" || v == "" {
			return "nobody"
		}
		if n, ok := names[v]; ok && e.Action == "case.assigned" {
			return n
		}
		return v
	}
	switch e.Action {
	case "case.assigned":
		return ": " + str("from") + " → " + str("to")
	case "case.reclassified":
		return ": " + queueTitle(str("from")) + " → " + queueTitle(str("to"))
	case "case.tagged":
		return " “" + str("added") + "”"
	case "case.untagged":
		return " “" + str("removed") + "”"
	}
	return ""
}

func historyView(calls []console.HistoryCall) []views.HistoryView {
	var out []views.HistoryView
	for _, c := range calls {
		h := views.HistoryView{DialNexaID: c.DialNexaID, Status: c.Status, Summary: c.Summary, Received: timeView(c.ReceivedAt)}
		for _, hc := range c.Cases {
			h.Cases = append(h.Cases, views.LinkView{Label: "#" + strconv.FormatInt(hc.ID, 10) + " " + queueTitle(hc.Kind) + " (" + views.Humanize(hc.Status) + ")",
				Href: "/cases/" + strconv.FormatInt(hc.ID, 10)})
		}
		out = append(out, h)
	}
	return out
}

// callTime is when the call took place as DialNexa reports it, else when its
// webhook arrived.
func callTime(c console.CallInfo) time.Time {
	if c.InitiatedAt != nil && !c.InitiatedAt.IsZero() {
		return *c.InitiatedAt
	}
	return c.ReceivedAt
}
