package handoff

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/redact"
)

// Input is the stored case data a summary is built from.
type Input struct {
	CaseID      int64
	Kind        string
	Suspected   string // for review cases, the suspected kind
	CallRef     string // DialNexa call id
	Customer    string // label: name, email or number
	VIP         bool
	CallSummary string // DialNexa's summary, redacted at ingest
	Amount      string // "249.00 USD", "" when none
	ObjectType  string // invoice, charge, payment, subscription, customer, receipt
	ObjectRef   string // as the call named it (INV-20931, ch_...)
	StripeID    string // the billing-system id of the object, when a look-up found it
	Owner       string
	NextStep    string
	Deadline    *time.Time
	// Fields are extracted call fields under our names (refund_reason,
	// dispute_reason, promise_to_pay_date, ...), redacted.
	Fields   map[string]string
	Verified []string // what the claim check confirmed
	Problems []string // what it contradicted or could not confirm
	// CaseURL is the case page ("" when the console has no public URL).
	CaseURL string
	// StripeDashboard is the dashboard base, https://dashboard.stripe.com or
	// .../test; "" for no billing-system link.
	StripeDashboard string
}

// Link is one link of a summary.
type Link struct{ Label, URL string }

// Summary is a case's handoff, rendered by Internal, Public, Slack and Row.
type Summary struct {
	CaseID   int64
	Kind     string
	Title    string   // "Refund request — Jordan Lee"
	Asked    string   // what the caller asked for
	Learned  []string // what the call and the claim check established
	Object   string   // "invoice INV-20931 (in_123)"
	Owner    string
	NextStep string
	Deadline string // "2026-11-26 23:59 UTC", "" when none
	Links    []Link
}

// Build writes the summary of a case from its kind's template.
func Build(in Input) Summary {
	t := templateOf(in.Kind)
	s := Summary{CaseID: in.CaseID, Kind: in.Kind, Title: t.title + " — " + orUnknown(in.Customer),
		Asked: t.asked(in), Owner: orDash(in.Owner), NextStep: orDash(in.NextStep), Object: object(in)}
	if in.VIP {
		s.Title += " (VIP)"
	}
	if in.CallSummary != "" {
		s.Learned = append(s.Learned, "Call: "+in.CallSummary)
	}
	for _, v := range in.Verified {
		s.Learned = append(s.Learned, "Verified: "+v)
	}
	for _, p := range in.Problems {
		s.Learned = append(s.Learned, "Not verified: "+p)
	}
	if len(in.Verified)+len(in.Problems) == 0 {
		s.Learned = append(s.Learned, "Not yet checked against the billing system")
	}
	if in.Deadline != nil {
		s.Deadline = in.Deadline.UTC().Format("2006-01-02 15:04 UTC")
	}
	s.Links = links(in)
	s.Title, s.Asked, s.Object, s.Owner, s.NextStep = clean(s.Title), clean(s.Asked), clean(s.Object), clean(s.Owner), clean(s.NextStep)
	for i := range s.Learned {
		s.Learned[i] = clean(s.Learned[i])
	}
	return s
}

func object(in Input) string {
	switch {
	case in.ObjectRef == "" && in.StripeID == "":
		return "none named on the call"
	case in.StripeID != "" && in.StripeID != in.ObjectRef && in.ObjectRef != "":
		return strings.TrimSpace(in.ObjectType+" "+in.ObjectRef) + " (" + in.StripeID + ")"
	case in.ObjectRef != "":
		return strings.TrimSpace(in.ObjectType + " " + in.ObjectRef)
	}
	return in.StripeID
}

func links(in Input) []Link {
	var out []Link
	if in.CaseURL != "" {
		out = append(out, Link{"Case", in.CaseURL}, Link{"Transcript", in.CaseURL + "#call-h"},
			Link{"Recording (restricted)", in.CaseURL + "#recording"})
	}
	if u := StripeURL(in.StripeDashboard, firstOf(in.StripeID, in.ObjectRef)); u != "" {
		out = append(out, Link{"Stripe", u})
	}
	return out
}

// stripePaths maps a Stripe id prefix to its dashboard path.
var stripePaths = []struct{ prefix, path string }{
	{"ch_", "payments"}, {"py_", "payments"}, {"pi_", "payments"}, {"in_", "invoices"},
	{"cus_", "customers"}, {"sub_", "subscriptions"}, {"re_", "refunds"}, {"dp_", "disputes"}, {"du_", "disputes"},
	{"cn_", "credit_notes"},
}

// StripeURL is the dashboard page of a Stripe id, "" when ref is not one or
// there is no dashboard.
func StripeURL(dashboard, ref string) string {
	if dashboard == "" {
		return ""
	}
	for _, p := range stripePaths {
		if strings.HasPrefix(ref, p.prefix) && len(ref) > len(p.prefix) {
			return strings.TrimRight(dashboard, "/") + "/" + p.path + "/" + ref
		}
	}
	return ""
}

// Internal is the full summary for finance and support (Zendesk internal note,
// Drive file, Sheets cell).
func (s Summary) Internal() string {
	var b strings.Builder
	b.WriteString(s.Title + " · Countersign case " + strconv.FormatInt(s.CaseID, 10) + "\n")
	b.WriteString("Caller asked: " + s.Asked + "\n")
	for _, l := range s.Learned {
		b.WriteString("- " + l + "\n")
	}
	b.WriteString("Affected object: " + s.Object + "\n")
	b.WriteString("Owner: " + s.Owner + "\n")
	b.WriteString("Next step: " + s.NextStep + "\n")
	if s.Deadline != "" {
		b.WriteString("Deadline: " + s.Deadline + "\n")
	}
	for _, l := range s.Links {
		b.WriteString(l.Label + ": " + l.URL + "\n")
	}
	return clean(strings.TrimRight(b.String(), "\n"))
}

// Public is what the customer may read (a Zendesk public reply, an email): what
// they asked for, what happens next and by when. No owner, no links, no checks.
func (s Summary) Public() string {
	t := templateOf(s.Kind)
	text := "You asked us: " + s.Asked + ".\n" + t.public
	if s.Deadline != "" {
		text += "\nWe will follow up by " + s.Deadline + "."
	}
	return clean(text + "\nYour reference: case " + strconv.FormatInt(s.CaseID, 10) + ".")
}

// Slack is the summary in Slack mrkdwn, for alerts and their thread.
func (s Summary) Slack() string {
	var b strings.Builder
	b.WriteString("*" + s.Title + "*\n")
	b.WriteString("*Asked:* " + s.Asked + "\n")
	b.WriteString("*Object:* " + s.Object + " · *Owner:* " + s.Owner + "\n")
	b.WriteString("*Next step:* " + s.NextStep)
	if s.Deadline != "" {
		b.WriteString(" · *Deadline:* " + s.Deadline)
	}
	var ls []string
	for _, l := range s.Links {
		ls = append(ls, "<"+l.URL+"|"+l.Label+">")
	}
	if len(ls) > 0 {
		b.WriteString("\n" + strings.Join(ls, " · "))
	}
	return clean(b.String())
}

// RowColumns names Row's cells (the README's exception review queue columns
// start with these).
var RowColumns = []string{"case", "kind", "customer", "asked", "object", "owner", "next step", "deadline", "case link"}

// Row is the summary as spreadsheet cells, in RowColumns order.
func (s Summary) Row() []any {
	link := ""
	if len(s.Links) > 0 {
		link = s.Links[0].URL
	}
	cells := []string{strconv.FormatInt(s.CaseID, 10), s.Kind, s.Title, s.Asked, s.Object, s.Owner, s.NextStep, s.Deadline, link}
	out := make([]any, len(cells))
	for i, c := range cells {
		out[i] = clean(c)
	}
	return out
}

// maskDigits is a redaction mask with the last digits it keeps for the console.
var maskDigits = regexp.MustCompile(`\[([a-z ]+) •••• [0-9A-Za-z]{1,4}\]`)

// clean is the last guard: whatever reached a summary, a card, bank or tax
// number leaves masked, and without even the last digits the console shows
// (outgoing messages are read by people who may not reveal them).
func clean(s string) string {
	out, _ := redact.String(s)
	return maskDigits.ReplaceAllString(out, "[$1 removed]")
}

// Clean is the same guard for free text placed beside a summary (a Sheets
// detail cell).
func Clean(s string) string { return clean(s) }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown customer"
	}
	return s
}

func firstOf(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
