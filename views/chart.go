package views

import (
	"math"
	"strconv"
	"strings"
)

// Chart view models and the geometry of the server-rendered SVG charts. Handlers fill
// the models; the Layout functions turn them into rectangles in a fixed viewBox that
// the browser scales to the page width. Geometry is computed here, in Go, so it can be
// tested without rendering, and so the templates stay free of arithmetic.

// Palette is the series colours, chosen to stay distinguishable for the common forms of
// colour blindness (Okabe–Ito), in order.
var Palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#7A7A7A", "#332288"}

// SequentialPalette shades one hue from light to dark, for ordered series (age).
var SequentialPalette = []string{"#9ecae1", "#4292c6", "#2166ac", "#08306b"}

// ChartSeries is one coloured series of a stacked chart.
type ChartSeries struct {
	Name string
	Fill string // empty: Palette by position
	Href string // where the legend entry links (the series' queue); optional
}

// StackedColumn is one x position of a stacked chart: one value per series.
type StackedColumn struct {
	Label  string  // short axis label ("3 Mar")
	Long   string  // hover and table label ("Tue 3 Mar 2026"); Label when empty
	Values []int64 // per series, same order as StackedChart.Series
	Href   string  // where the column links; optional
}

// StackedChart is a vertical stacked bar chart of counts.
type StackedChart struct {
	ID       string // data-testid and element id prefix
	Title    string
	Caption  string // one sentence: what is counted and over which period
	Unit     string // plural noun for hover text ("cases")
	XHeader  string // header of the table's first column ("Day")
	Series   []ChartSeries
	Columns  []StackedColumn
	LinkText string // the queue this chart summarises
	LinkHref string
	// LabelEvery shows every n-th x label (1 or 0: all); dense time axes need fewer.
	LabelEvery int
}

// Bar is one bar of a horizontal bar chart.
type Bar struct {
	Label string
	Value float64 // drives the length only; negative, NaN and Inf count as zero
	Text  string  // the value as people read it ("1,249.50 USD", "4 h 10 min")
	Title string  // hover text; "Label: Text" when empty
	Href  string  // optional
	Fill  string  // empty: the chart's first palette colour
}

// BarChart is a horizontal bar chart: one labelled bar per row, scaled to the largest.
type BarChart struct {
	ID          string
	Title       string
	Caption     string
	LabelHeader string // table header of the labels ("Queue")
	ValueHeader string // table header of the values ("Overdue cases")
	Bars        []Bar
	// Extra is an optional third table column (e.g. "Decisions" with counts), one
	// entry per bar.
	ExtraHeader string
	Extra       []string
	LinkText    string
	LinkHref    string
}

// Rect is a drawable bar or bar segment.
type Rect struct {
	X, Y, W, H float64
	Fill       string
	Title      string
	Href       string
}

// Tick is a gridline with its value label.
type Tick struct {
	Pos   float64 // y for vertical charts
	Label string
}

// AxisLabel is a text label on the x axis.
type AxisLabel struct {
	X, Y float64
	Text string
}

// LegendItem is one entry of a chart legend.
type LegendItem struct {
	Name, Fill, Href string
}

// StackedLayout is the geometry of a StackedChart in a Width×Height viewBox.
type StackedLayout struct {
	Width, Height           float64
	PlotX, PlotY            float64
	PlotW, PlotH            float64
	Ticks                   []Tick
	Rects                   []Rect
	Hits                    []Rect // full-height transparent column targets with the column total
	Labels                  []AxisLabel
	Legend                  []LegendItem
	Empty                   bool // nothing to draw: every value is zero or there are no columns
	Max                     float64
	Baseline, AxisLabelYPos float64
}

// Chart sizes in viewBox units (the SVG scales to the container's width).
const (
	stackedW      = 480.0 // about the rendered width in a half-width panel at 1280 px: 11-unit text stays >= 11 px
	stackedH      = 240.0
	stackedLeft   = 44.0
	stackedRight  = 8.0
	stackedTop    = 10.0
	stackedBottom = 26.0
	barRowH       = 26.0
	barGap        = 6.0
	barLabelW     = 130.0
	barTextW      = 110.0
	barW          = 480.0 // as stackedW: 12-unit text renders at about 12 px in a half-width panel
)

// seriesFill returns a series' colour.
func seriesFill(fill string, i int) string {
	if fill != "" {
		return fill
	}
	return Palette[i%len(Palette)]
}

// clean turns values that cannot be drawn (negative, NaN, ±Inf) into zero.
func clean(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0
	}
	return v
}

// NiceScale returns an axis maximum ≥ max made of a 1, 2 or 5 step times a power of
// ten, and that step, aiming at about `ticks` intervals. Integer data (counts) never
// gets a step below 1. A zero, negative or NaN max gives the scale 0..1.
func NiceScale(max float64, ticks int, integer bool) (top, step float64) {
	max = clean(max)
	if ticks < 1 {
		ticks = 4
	}
	if max == 0 {
		return 1, 1
	}
	raw := max / float64(ticks)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			step = m * mag
			break
		}
	}
	if integer && step < 1 {
		step = 1
	}
	top = math.Ceil(max/step-1e-9) * step
	if top < max {
		top += step
	}
	return top, step
}

// LayoutStacked computes the geometry of c.
func LayoutStacked(c StackedChart) StackedLayout {
	l := StackedLayout{Width: stackedW, Height: stackedH, PlotX: stackedLeft, PlotY: stackedTop,
		PlotW: stackedW - stackedLeft - stackedRight, PlotH: stackedH - stackedTop - stackedBottom}
	l.Baseline = l.PlotY + l.PlotH
	l.AxisLabelYPos = l.Baseline + 16
	for i, s := range c.Series {
		l.Legend = append(l.Legend, LegendItem{Name: s.Name, Fill: seriesFill(s.Fill, i), Href: s.Href})
	}
	var max float64
	for _, col := range c.Columns {
		max = math.Max(max, float64(total(col.Values)))
	}
	l.Empty = max == 0
	top, step := NiceScale(max, 4, true)
	l.Max = top
	for v := 0.0; v <= top+step/2; v += step {
		l.Ticks = append(l.Ticks, Tick{Pos: l.Baseline - v/top*l.PlotH, Label: formatTick(v)})
	}
	n := len(c.Columns)
	if n == 0 {
		return l
	}
	slot := l.PlotW / float64(n)
	w := math.Max(slot*0.72, 1)
	every := max1(c.LabelEvery)
	unit := c.Unit
	if unit == "" {
		unit = "items"
	}
	for i, col := range c.Columns {
		x := l.PlotX + float64(i)*slot + (slot-w)/2
		long := col.Long
		if long == "" {
			long = col.Label
		}
		y := l.Baseline
		for si, s := range c.Series {
			var v int64
			if si < len(col.Values) {
				v = col.Values[si]
			}
			if v <= 0 {
				continue // zero-height segments are not drawn at all
			}
			h := math.Max(float64(v)/top*l.PlotH, 1) // a non-zero value stays visible
			y -= h
			l.Rects = append(l.Rects, Rect{X: x, Y: y, W: w, H: h, Fill: seriesFill(s.Fill, si),
				Title: long + " · " + s.Name + ": " + itoa64(v) + " " + unit, Href: col.Href})
		}
		l.Hits = append(l.Hits, Rect{X: l.PlotX + float64(i)*slot, Y: l.PlotY, W: slot, H: l.PlotH,
			Title: long + ": " + itoa64(total(col.Values)) + " " + unit + breakdown(c.Series, col.Values), Href: col.Href})
		if (n-1-i)%every == 0 { // always label the last (most recent) column
			l.Labels = append(l.Labels, AxisLabel{X: x + w/2, Y: l.AxisLabelYPos, Text: col.Label})
		}
	}
	return l
}

func breakdown(series []ChartSeries, values []int64) string {
	var parts []string
	for i, s := range series {
		if i < len(values) && values[i] > 0 {
			parts = append(parts, s.Name+" "+itoa64(values[i]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// BarRow is the geometry of one bar of a BarChart.
type BarRow struct {
	Bar    Rect
	LabelY float64 // baseline of the label and value text
	TextX  float64
	Label  string
	Text   string
	Href   string
	Title  string
}

// BarLayout is the geometry of a BarChart in a Width×Height viewBox.
type BarLayout struct {
	Width, Height float64
	LabelW        float64
	Rows          []BarRow
	Empty         bool
}

// LayoutBars computes the geometry of c: bars scale to the largest value; a zero value
// has no bar, a tiny non-zero one is at least one unit long.
func LayoutBars(c BarChart) BarLayout {
	l := BarLayout{Width: barW, LabelW: barLabelW}
	plotW := barW - barLabelW - barTextW
	var max float64
	for _, b := range c.Bars {
		max = math.Max(max, clean(b.Value))
	}
	l.Empty = max == 0
	for i, b := range c.Bars {
		y := barGap + float64(i)*(barRowH+barGap)
		v := clean(b.Value)
		w := 0.0
		if max > 0 && v > 0 {
			w = math.Max(v/max*plotW, 1)
		}
		title := b.Title
		if title == "" {
			title = b.Label + ": " + b.Text
		}
		fill := b.Fill
		if fill == "" {
			fill = Palette[0]
		}
		l.Rows = append(l.Rows, BarRow{
			Bar:    Rect{X: barLabelW, Y: y, W: w, H: barRowH, Fill: fill, Title: title, Href: b.Href},
			LabelY: y + barRowH/2 + 4, TextX: barLabelW + w + 6,
			Label: b.Label, Text: b.Text, Href: b.Href, Title: title,
		})
	}
	l.Height = barGap + float64(len(c.Bars))*(barRowH+barGap)
	if len(c.Bars) == 0 {
		l.Height = barRowH + 2*barGap
	}
	return l
}

// ChartTable is the accessible table alternative of a chart.
type ChartTable struct {
	Head []string
	Rows [][]string
	Foot []string // totals row; optional
}

// Table returns c as a table: one row per column, one column per series, and a total.
func (c StackedChart) Table() ChartTable {
	t := ChartTable{Head: []string{c.XHeader}}
	if t.Head[0] == "" {
		t.Head[0] = "Category"
	}
	for _, s := range c.Series {
		t.Head = append(t.Head, s.Name)
	}
	t.Head = append(t.Head, "Total")
	sums := make([]int64, len(c.Series)+1)
	for _, col := range c.Columns {
		label := col.Long
		if label == "" {
			label = col.Label
		}
		row := []string{label}
		for i := range c.Series {
			var v int64
			if i < len(col.Values) {
				v = col.Values[i]
			}
			sums[i] += v
			row = append(row, itoa64(v))
		}
		tot := total(col.Values)
		sums[len(c.Series)] += tot
		t.Rows = append(t.Rows, append(row, itoa64(tot)))
	}
	if len(c.Columns) > 1 {
		t.Foot = []string{"Total"}
		for _, s := range sums {
			t.Foot = append(t.Foot, itoa64(s))
		}
	}
	return t
}

// Table returns c as a table of labels and values (and the extra column, if any).
func (c BarChart) Table() ChartTable {
	t := ChartTable{Head: []string{c.LabelHeader, c.ValueHeader}}
	if c.ExtraHeader != "" {
		t.Head = append(t.Head, c.ExtraHeader)
	}
	for i, b := range c.Bars {
		row := []string{b.Label, b.Text}
		if c.ExtraHeader != "" {
			e := ""
			if i < len(c.Extra) {
				e = c.Extra[i]
			}
			row = append(row, e)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func total(vs []int64) int64 {
	var t int64
	for _, v := range vs {
		if v > 0 {
			t += v
		}
	}
	return t
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// formatTick prints an axis value without trailing zeros.
func formatTick(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// num prints a coordinate for an SVG attribute: one decimal, never NaN.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// viewBox prints "0 0 w h".
func viewBox(w, h float64) string { return "0 0 " + num(w) + " " + num(h) }
