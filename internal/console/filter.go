package console

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/redact"
	"github.com/countersign/countersign/internal/textsafe"
	"github.com/countersign/countersign/internal/triage"
)

// Statuses are every case status, in workflow order.
var Statuses = []string{"new", "triaged", "awaiting_approval", "approved", "rejected",
	"needs_info", "executing", "done", "needs_attention"}

// Closed statuses leave the open queues.
var closedStatuses = []string{"done", "rejected"}

// Queue names besides the case kinds.
const (
	QueueOpen     = "open"
	QueueMine     = "mine"
	QueueMentions = "mentions"
)

// ValidQueue reports whether q names a queue: open, mine, mentions or a case kind.
func ValidQueue(q string) bool {
	return q == QueueOpen || q == QueueMine || q == QueueMentions || triage.Kind(q).Valid()
}

// Sorts a queue can be ordered by; the first is the default.
var Sorts = []string{"urgency", "deadline", "amount", "received"}

// PageSizes a queue page offers; 50 is the default.
var PageSizes = []int{25, 50, 100}

// LowConfidence is the threshold of the confidence=low filter.
const LowConfidence = triage.ReviewThreshold

// Filter is one queue view: the URL query string, parsed. The zero value is the
// default view (open cases, most urgent first, 50 a page).
type Filter struct {
	Statuses     []string
	Urgencies    []int
	VIP          bool
	Currency     string
	AmountMin    *int64 // minor units of Currency
	AmountMax    *int64
	AmountMinRaw string // as typed, for the form
	AmountMaxRaw string
	Deadline     string // overdue | today | week
	Assignee     string // me | none | <user id>
	LowConf      bool
	Captured     string // a capture-list field the case has (triage.CaptureFields)
	From, To     string // YYYY-MM-DD, received date (UTC), both inclusive
	Q            string
	Sort         string // one of Sorts
	Desc         bool
	Size         int
	After        *Cursor
}

// Cursor is the keyset position: the last row's sort key (as text) and id.
type Cursor struct {
	Key string
	ID  int64
}

// ParseFilter reads a queue URL's query. Unusable values are dropped and explained in
// the returned messages, so a bad bookmark still shows a queue.
func ParseFilter(v url.Values) (Filter, []string) {
	v = cleanValues(v)
	var f Filter
	var msgs []string
	for _, s := range v["status"] {
		if slices.Contains(Statuses, s) && !slices.Contains(f.Statuses, s) {
			f.Statuses = append(f.Statuses, s)
		}
	}
	for _, s := range v["urgency"] {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 3 && !slices.Contains(f.Urgencies, n) {
			f.Urgencies = append(f.Urgencies, n)
		}
	}
	f.VIP = truthy(v.Get("vip"))
	f.LowConf = v.Get("confidence") == "low"
	if c := v.Get("captured"); slices.Contains(triage.CaptureFields, c) {
		f.Captured = c
	}
	if d := v.Get("deadline"); d == "overdue" || d == "today" || d == "week" {
		f.Deadline = d
	}
	if a := v.Get("assignee"); a == "me" || a == "none" || isID(a) {
		f.Assignee = a
	}
	f.From, msgs = parseDate(v.Get("received_from"), "received from", msgs)
	f.To, msgs = parseDate(v.Get("received_to"), "received to", msgs)
	f.Q = strings.TrimSpace(v.Get("q"))
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	// A search string is matched against redacted text and echoed into pages,
	// links and saved views: a card typed into it is masked like anywhere else.
	f.Q, _ = redact.String(f.Q)
	msgs = f.parseAmounts(v, msgs)
	f.parseOrder(v)
	if c := v.Get("after"); c != "" {
		if cur, ok := decodeCursor(c); ok {
			f.After = &cur
		} else {
			msgs = append(msgs, "The page position in the link was not understood; showing the first page.")
		}
	}
	return f, msgs
}

func truthy(s string) bool { return s == "1" || s == "true" || s == "on" || s == "yes" }

func isID(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

func parseDate(s, label string, msgs []string) (string, []string) {
	if s == "" {
		return "", msgs
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return "", append(msgs, "The "+label+" date must look like 2026-11-24; it was ignored.")
	}
	return s, msgs
}

func (f *Filter) parseAmounts(v url.Values, msgs []string) []string {
	f.Currency = strings.ToUpper(strings.TrimSpace(v.Get("currency")))
	if _, ok := money.Exponent(f.Currency); f.Currency != "" && !ok {
		msgs = append(msgs, "Unknown currency "+strconv.Quote(f.Currency)+"; the currency filter was ignored.")
		f.Currency = ""
	}
	f.AmountMinRaw = strings.TrimSpace(v.Get("amount_min"))
	f.AmountMaxRaw = strings.TrimSpace(v.Get("amount_max"))
	if (f.AmountMinRaw != "" || f.AmountMaxRaw != "") && f.Currency == "" {
		return append(msgs, "Choose a currency to filter by amount; the amount filter was ignored.")
	}
	parse := func(raw string) *int64 {
		if raw == "" {
			return nil
		}
		a, err := money.ParseMajor(raw, f.Currency)
		if err != nil {
			msgs = append(msgs, "Amount "+strconv.Quote(raw)+" is not a valid "+f.Currency+" amount; it was ignored.")
			return nil
		}
		return &a.Minor
	}
	f.AmountMin = parse(f.AmountMinRaw)
	f.AmountMax = parse(f.AmountMaxRaw)
	return msgs
}

func (f *Filter) parseOrder(v url.Values) {
	f.Sort = v.Get("sort")
	if !slices.Contains(Sorts, f.Sort) {
		f.Sort = Sorts[0]
	}
	switch v.Get("dir") {
	case "asc":
		f.Desc = false
	case "desc":
		f.Desc = true
	default:
		f.Desc = f.Sort != "deadline" // soonest deadline first; otherwise biggest/newest first
	}
	f.Size, _ = strconv.Atoi(v.Get("size"))
	if !slices.Contains(PageSizes, f.Size) {
		f.Size = 50
	}
}

// Values encodes the filter back into a query string, without the cursor.
func (f Filter) Values() url.Values {
	v := url.Values{}
	for _, s := range f.Statuses {
		v.Add("status", s)
	}
	for _, u := range f.Urgencies {
		v.Add("urgency", strconv.Itoa(u))
	}
	set := func(k, val string) {
		if val != "" {
			v.Set(k, val)
		}
	}
	if f.VIP {
		v.Set("vip", "1")
	}
	if f.Captured != "" {
		v.Set("captured", f.Captured)
	}
	if f.LowConf {
		v.Set("confidence", "low")
	}
	set("currency", f.Currency)
	set("amount_min", f.AmountMinRaw)
	set("amount_max", f.AmountMaxRaw)
	set("deadline", f.Deadline)
	set("assignee", f.Assignee)
	set("received_from", f.From)
	set("received_to", f.To)
	set("q", f.Q)
	if f.Sort != Sorts[0] || !f.Desc {
		v.Set("sort", f.Sort)
		v.Set("dir", map[bool]string{true: "desc", false: "asc"}[f.Desc])
	}
	if f.Size != 50 && f.Size != 0 {
		v.Set("size", strconv.Itoa(f.Size))
	}
	return v
}

// Encode is the cursor's URL form: base64url of "key|id".
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Key + "|" + strconv.FormatInt(c.ID, 10)))
}

func decodeCursor(s string) (Cursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false
	}
	key, idText, ok := strings.Cut(string(b), "|")
	id, err := strconv.ParseInt(idText, 10, 64)
	if !ok || err != nil || id <= 0 {
		return Cursor{}, false
	}
	return Cursor{Key: key, ID: id}, true
}

// cleanValues makes every query value storable and searchable: a filter typed or
// pasted with invalid UTF-8, NUL or bidi controls is cleaned, not refused.
func cleanValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vals := range v {
		for _, s := range vals {
			out[k] = append(out[k], textsafe.Clean(s))
		}
	}
	return out
}
