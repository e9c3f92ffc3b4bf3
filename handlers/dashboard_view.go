package handlers

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/internal/dashboard"
	"github.com/countersign/countersign/internal/money"
	"github.com/countersign/countersign/internal/triage"
	"github.com/countersign/countersign/views"
)

// Queue links the dashboard points at. The queue pages own these parameters.
const (
	queueOpen     = "/queues/open"
	queueOverdue  = "/queues/open?deadline=overdue"
	queueAwaiting = "/queues/open?status=awaiting_approval"
	// queueAttention is the "needs attention" queue: failed actions waiting for a person.
	queueAttention = "/queues/open?status=needs_attention"
	queueApproved  = "/queues/open?status=approved&status=executing&status=done"
)

func queueOf(kind string) string { return "/queues/" + url.PathEscape(kind) }

// kindLabel turns "document_resend" into "Document resend".
func kindLabel(k string) string {
	s := strings.ReplaceAll(k, "_", " ")
	if s == "" {
		return "(none)"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// dashboardKinds lists the known kinds in queue order, then any other kind found in
// the data (so nothing counted is silently dropped).
func dashboardKinds(st *dashboard.Stats) []string {
	var ks []string
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			ks = append(ks, k)
		}
	}
	for _, k := range triage.Kinds {
		add(string(k))
	}
	for _, r := range st.PerDay {
		add(r.Kind)
	}
	for _, r := range st.Open {
		add(r.Kind)
	}
	return ks
}

func kindIndex(kinds []string) map[string]int {
	m := make(map[string]int, len(kinds))
	for i, k := range kinds {
		m[k] = i
	}
	return m
}

func dashboardView(st *dashboard.Stats) views.DashboardView {
	kinds := dashboardKinds(st)
	open := openChart(st, kinds)
	overdue := overdueChart(st, kinds)
	var openN, overdueN, awaitingN, last30 int64
	for _, r := range st.Open {
		openN += r.N
		overdueN += r.Overdue
	}
	for _, m := range st.Money {
		awaitingN += m.AwaitingN
	}
	for _, r := range st.PerDay {
		last30 += r.N
	}
	return views.DashboardView{
		AsOf: timeView(st.Now),
		Figures: []views.Figure{
			{Key: "open", Label: "open cases", Value: thousands(openN), Href: queueOpen},
			{Key: "overdue", Label: "past their follow-up deadline", Value: thousands(overdueN), Href: queueOverdue},
			{Key: "awaiting", Label: "awaiting approval", Value: thousands(awaitingN), Href: queueAwaiting},
			{Key: "opened30", Label: "cases opened in 30 days", Value: thousands(last30), Href: queueOpen},
			{Key: "attention", Label: "failed actions waiting for a person", Value: thousands(st.Attention), Href: queueAttention},
		},
		PerDay:    perDayChart(st, kinds),
		Open:      open,
		Money:     moneyCharts(st),
		MoneyLink: queueAwaiting,
		Overdue:   overdue,
		Missed:    missedChart(st),
		Decisions: decisionChart(st, kinds),
	}
}

func kindSeries(kinds []string) []views.ChartSeries {
	s := make([]views.ChartSeries, len(kinds))
	for i, k := range kinds {
		s[i] = views.ChartSeries{Name: kindLabel(k), Href: queueOf(k)}
	}
	return s
}

// dayColumns makes the 30 daily columns of the windowed charts.
func dayColumns(st *dashboard.Stats, series int) []views.StackedColumn {
	cols := make([]views.StackedColumn, dashboard.Days)
	for i := range cols {
		d := st.Day0.AddDate(0, 0, i)
		cols[i] = views.StackedColumn{Label: d.Format("2 Jan"), Long: d.Format("Mon 2 Jan 2006"), Values: make([]int64, series)}
	}
	return cols
}

func perDayChart(st *dashboard.Stats, kinds []string) views.StackedChart {
	idx := kindIndex(kinds)
	cols := dayColumns(st, len(kinds))
	for _, r := range st.PerDay {
		if d := st.DayIndex(r.Day); d >= 0 {
			cols[d].Values[idx[r.Kind]] += r.N
		}
	}
	return views.StackedChart{ID: "per-day", Title: "Cases per day by kind",
		Caption: "Cases opened each day over the last 30 days, stacked by queue.",
		Unit:    "cases", XHeader: "Day", Series: kindSeries(kinds), Columns: cols, LabelEvery: 5,
		LinkText: "Open all open cases", LinkHref: queueOpen}
}

func openChart(st *dashboard.Stats, kinds []string) views.StackedChart {
	series := make([]views.ChartSeries, len(dashboard.AgeLabels))
	for i, l := range dashboard.AgeLabels {
		series[i] = views.ChartSeries{Name: l, Fill: views.SequentialPalette[i%len(views.SequentialPalette)]}
	}
	idx := kindIndex(kinds)
	cols := make([]views.StackedColumn, len(kinds))
	for i, k := range kinds {
		cols[i] = views.StackedColumn{Label: shortKind(k), Long: kindLabel(k), Values: make([]int64, len(series)), Href: queueOf(k)}
	}
	for _, r := range st.Open {
		if r.Bucket >= 0 && r.Bucket < len(series) {
			cols[idx[r.Kind]].Values[r.Bucket] += r.N
		}
	}
	return views.StackedChart{ID: "open-age", Title: "Open cases by queue and age",
		Caption: "Every open case (not done or rejected), by how long ago it was opened.",
		Unit:    "open cases", XHeader: "Queue", Series: series, Columns: cols,
		LinkText: "Open all open cases", LinkHref: queueOpen}
}

// shortKind fits a kind under a narrow column.
func shortKind(k string) string {
	switch k {
	case "document_resend":
		return "Docs"
	case "billing_correction":
		return "Billing"
	case "payment_blocker":
		return "Blockers"
	}
	return kindLabel(k)
}

func moneyCharts(st *dashboard.Stats) []views.BarChart {
	var out []views.BarChart
	for _, m := range st.Money {
		cur := m.Currency
		out = append(out, views.BarChart{
			ID: "money-" + strings.ToLower(cur), Title: cur, LabelHeader: "State", ValueHeader: "Amount (" + cur + ")",
			ExtraHeader: "Cases", Extra: []string{thousands(m.AwaitingN), thousands(m.ApprovedN)},
			Bars: []views.Bar{
				{Label: "Awaiting approval", Value: float64(m.AwaitingMinor), Text: money.Amount{Minor: m.AwaitingMinor, Currency: cur}.String(),
					Href: queueAwaiting + "&currency=" + url.QueryEscape(cur), Fill: views.Palette[1],
					Title: fmt.Sprintf("Awaiting approval: %s in %s cases", money.Amount{Minor: m.AwaitingMinor, Currency: cur}, thousands(m.AwaitingN))},
				{Label: "Approved, 30 d", Value: float64(m.ApprovedMinor), Text: money.Amount{Minor: m.ApprovedMinor, Currency: cur}.String(),
					Href: queueApproved + "&currency=" + url.QueryEscape(cur) + "&received_from=" + st.Day0.Format(time.DateOnly), Fill: views.Palette[2],
					Title: fmt.Sprintf("Approved (cases opened in 30 days): %s in %s cases", money.Amount{Minor: m.ApprovedMinor, Currency: cur}, thousands(m.ApprovedN))},
			},
		})
	}
	return out
}

func overdueChart(st *dashboard.Stats, kinds []string) views.BarChart {
	idx := kindIndex(kinds)
	counts := make([]int64, len(kinds))
	for _, r := range st.Open {
		counts[idx[r.Kind]] += r.Overdue
	}
	c := views.BarChart{ID: "overdue", Title: "Deadlines missed: open cases past their follow-up deadline",
		Caption: "By queue, now.", LabelHeader: "Queue", ValueHeader: "Overdue cases",
		LinkText: "Open the overdue cases", LinkHref: queueOverdue}
	for i, k := range kinds {
		c.Bars = append(c.Bars, views.Bar{Label: kindLabel(k), Value: float64(counts[i]), Text: thousands(counts[i]),
			Href: queueOf(k) + "?deadline=overdue", Fill: views.Palette[i%len(views.Palette)]})
	}
	return c
}

func missedChart(st *dashboard.Stats) views.StackedChart {
	cols := dayColumns(st, 1)
	for _, r := range st.Missed {
		if d := st.DayIndex(r.Day); d >= 0 {
			cols[d].Values[0] += r.N
		}
	}
	return views.StackedChart{ID: "missed-trend", Title: "Deadlines missed per day",
		Caption: "Follow-up deadlines of each day of the last 30 that passed with the case still open.",
		Unit:    "missed deadlines", XHeader: "Day",
		Series: []views.ChartSeries{{Name: "Missed deadlines", Fill: views.Palette[5]}}, Columns: cols, LabelEvery: 5,
		LinkText: "Open the overdue cases", LinkHref: queueOverdue}
}

func decisionChart(st *dashboard.Stats, kinds []string) views.BarChart {
	byKind := map[string]dashboard.KindDuration{}
	for _, d := range st.Decisions {
		byKind[d.Kind] = d
	}
	c := views.BarChart{ID: "decision-time", Title: "Median time from call to decision",
		Caption:     "Per queue, for cases opened in the last 30 days that have been decided.",
		LabelHeader: "Queue", ValueHeader: "Median", ExtraHeader: "Decisions",
		LinkText: "Open the cases awaiting approval", LinkHref: queueAwaiting}
	for i, k := range kinds {
		d, ok := byKind[k]
		text := "no decisions"
		if ok && d.N > 0 {
			text = humanDuration(d.Median)
		}
		c.Bars = append(c.Bars, views.Bar{Label: kindLabel(k), Value: d.Median.Seconds(), Text: text,
			Title: kindLabel(k) + ": median " + text + " over " + thousands(d.N) + " decisions",
			Href:  queueOf(k), Fill: views.Palette[i%len(views.Palette)]})
		c.Extra = append(c.Extra, thousands(d.N))
	}
	return c
}

// humanDuration prints a duration to two units: "45 min", "3 h 20 min", "2 d 4 h".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 24*time.Hour:
		h := int(d.Hours())
		return fmt.Sprintf("%d h %d min", h, int(d.Minutes())-h*60)
	}
	days := int(d.Hours()) / 24
	return fmt.Sprintf("%d d %d h", days, int(d.Hours())-days*24)
}

// thousands prints n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
