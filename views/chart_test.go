package views

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
)

func TestNiceScale(t *testing.T) {
	tests := []struct {
		max      float64
		integer  bool
		top, stp float64
	}{
		{0, true, 1, 1},
		{-5, true, 1, 1},
		{math.NaN(), true, 1, 1},
		{math.Inf(1), true, 1, 1},
		{1, true, 1, 1},
		{3, true, 3, 1},
		{7, true, 8, 2},
		{10, true, 10, 5},
		{95, true, 100, 0}, // only the invariants
		{1234, true, 1500, 500},
		{0.3, false, 0.3, 0.1},
		{0.3, true, 1, 1},
	}
	for _, tt := range tests {
		top, step := NiceScale(tt.max, 4, tt.integer)
		if math.IsNaN(top) || math.IsNaN(step) || step <= 0 {
			t.Fatalf("NiceScale(%v) = %v, %v: not a usable scale", tt.max, top, step)
		}
		if top < clean(tt.max) {
			t.Errorf("NiceScale(%v) top %v is below the maximum", tt.max, top)
		}
		if tt.stp != 0 && (math.Abs(top-tt.top) > 1e-9 || math.Abs(step-tt.stp) > 1e-9) {
			t.Errorf("NiceScale(%v, integer=%v) = %v, %v; want %v, %v", tt.max, tt.integer, top, step, tt.top, tt.stp)
		}
		if n := top / step; n > 8 {
			t.Errorf("NiceScale(%v): %v intervals, want at most 8", tt.max, n)
		}
	}
}

func twoSeries(cols ...[]int64) StackedChart {
	c := StackedChart{ID: "t", Title: "T", Unit: "cases", Series: []ChartSeries{{Name: "A"}, {Name: "B"}}}
	for i, v := range cols {
		c.Columns = append(c.Columns, StackedColumn{Label: string(rune('a' + i)), Values: v})
	}
	return c
}

func assertFinite(t *testing.T, rs ...Rect) {
	t.Helper()
	for _, r := range rs {
		for _, v := range []float64{r.X, r.Y, r.W, r.H} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("rect %+v has a non-finite or negative coordinate", r)
			}
		}
	}
}

func TestLayoutStackedEmpty(t *testing.T) {
	for name, c := range map[string]StackedChart{
		"no columns": {ID: "e", Series: []ChartSeries{{Name: "A"}}},
		"all zero":   twoSeries([]int64{0, 0}, []int64{0, 0}),
		"no series":  {ID: "e", Columns: []StackedColumn{{Label: "x"}}},
	} {
		l := LayoutStacked(c)
		if !l.Empty {
			t.Errorf("%s: Empty = false", name)
		}
		if len(l.Rects) != 0 {
			t.Errorf("%s: %d bars drawn for no data", name, len(l.Rects))
		}
		if len(l.Ticks) < 2 {
			t.Errorf("%s: %d ticks, want an axis 0..1", name, len(l.Ticks))
		}
		for _, tk := range l.Ticks {
			if math.IsNaN(tk.Pos) {
				t.Errorf("%s: NaN tick", name)
			}
		}
		assertFinite(t, l.Hits...)
	}
}

func TestLayoutStackedScale(t *testing.T) {
	c := twoSeries([]int64{3, 5}, []int64{0, 2}, []int64{0, 0}, []int64{1, 0})
	l := LayoutStacked(c)
	assertFinite(t, l.Rects...)
	if l.Empty {
		t.Fatal("Empty with data")
	}
	if len(l.Rects) != 4 { // zero segments are skipped: 2 + 1 + 0 + 1
		t.Fatalf("drew %d segments, want 4 (zero-height segments skipped)", len(l.Rects))
	}
	if l.Max != 8 {
		t.Fatalf("scale max %v, want 8", l.Max)
	}
	// The tallest column (8) fills the plot exactly; segments stack without gaps.
	a, b := l.Rects[0], l.Rects[1]
	if math.Abs(a.H+b.H-l.PlotH) > 1e-9 {
		t.Errorf("column of the maximum is %v high, want %v", a.H+b.H, l.PlotH)
	}
	if math.Abs(a.Y+a.H-l.Baseline) > 1e-9 || math.Abs(b.Y+b.H-a.Y) > 1e-9 {
		t.Errorf("segments do not stack from the baseline: %+v %+v", a, b)
	}
	if math.Abs(a.H/b.H-3.0/5.0) > 1e-9 {
		t.Errorf("segment heights %v/%v not proportional to 3/5", a.H, b.H)
	}
	if !strings.Contains(a.Title, "A: 3 cases") {
		t.Errorf("segment title %q", a.Title)
	}
	if len(l.Hits) != 4 || !strings.Contains(l.Hits[0].Title, "8 cases") {
		t.Errorf("column hover targets: %+v", l.Hits)
	}
}

func TestLayoutStackedTinyValueStaysVisible(t *testing.T) {
	l := LayoutStacked(twoSeries([]int64{100000, 0}, []int64{0, 1}))
	if len(l.Rects) != 2 || l.Rects[1].H < 1 {
		t.Fatalf("a value of 1 next to 100000 must still be drawn at least 1 unit high: %+v", l.Rects)
	}
}

func TestLayoutStackedLabelsEvery(t *testing.T) {
	c := twoSeries(make([][]int64, 30)...)
	c.LabelEvery = 5
	l := LayoutStacked(c)
	if len(l.Labels) != 6 {
		t.Fatalf("%d labels for 30 columns every 5, want 6", len(l.Labels))
	}
	if last := l.Labels[len(l.Labels)-1]; last.Text != c.Columns[29].Label {
		t.Errorf("the last column must be labelled, got %q", last.Text)
	}
}

func TestLayoutBars(t *testing.T) {
	c := BarChart{ID: "b", Bars: []Bar{{Label: "a", Value: 10}, {Label: "b", Value: 0}, {Label: "c", Value: math.NaN()},
		{Label: "d", Value: -3}, {Label: "e", Value: 5}, {Label: "f", Value: 0.0001}}}
	l := LayoutBars(c)
	if len(l.Rows) != 6 {
		t.Fatalf("%d rows", len(l.Rows))
	}
	for _, r := range l.Rows {
		assertFinite(t, r.Bar)
	}
	full := l.Rows[0].Bar.W
	if full <= 0 || math.Abs(l.Rows[4].Bar.W-full/2) > 1e-9 {
		t.Errorf("bar widths %v and %v, want the second half the first", full, l.Rows[4].Bar.W)
	}
	for _, i := range []int{1, 2, 3} {
		if l.Rows[i].Bar.W != 0 {
			t.Errorf("row %s: zero, NaN or negative value drew a bar of %v", l.Rows[i].Label, l.Rows[i].Bar.W)
		}
	}
	if l.Rows[5].Bar.W < 1 {
		t.Errorf("tiny value must stay visible, got width %v", l.Rows[5].Bar.W)
	}
	if e := LayoutBars(BarChart{Bars: []Bar{{Value: 0}}}); !e.Empty || e.Height <= 0 {
		t.Errorf("all-zero chart: Empty=%v Height=%v", e.Empty, e.Height)
	}
	if e := LayoutBars(BarChart{}); e.Height <= 0 || math.IsNaN(e.Height) {
		t.Errorf("no bars: height %v", e.Height)
	}
}

func TestTables(t *testing.T) {
	c := twoSeries([]int64{3, 5}, []int64{0, 2})
	tb := c.Table()
	if strings.Join(tb.Head, "|") != "Category|A|B|Total" {
		t.Errorf("head %v", tb.Head)
	}
	if strings.Join(tb.Rows[0], "|") != "a|3|5|8" || strings.Join(tb.Foot, "|") != "Total|3|7|10" {
		t.Errorf("rows %v foot %v", tb.Rows, tb.Foot)
	}
	bc := BarChart{LabelHeader: "Q", ValueHeader: "V", ExtraHeader: "N", Extra: []string{"7"},
		Bars: []Bar{{Label: "x", Text: "1 h"}, {Label: "y", Text: "2 h"}}}
	bt := bc.Table()
	if strings.Join(bt.Rows[0], "|") != "x|1 h|7" || strings.Join(bt.Rows[1], "|") != "y|2 h|" {
		t.Errorf("bar table %v", bt.Rows)
	}
}

func TestChartsRenderWithoutNaN(t *testing.T) {
	var buf bytes.Buffer
	ctx := context.Background()
	for _, c := range []StackedChart{twoSeries(), twoSeries([]int64{0, 0}), twoSeries([]int64{2, 3})} {
		if err := StackedBars(c).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []BarChart{{ID: "x"}, {ID: "y", Bars: []Bar{{Label: "a", Value: math.NaN(), Text: "?"}}}} {
		if err := HBars(c).Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	if strings.Contains(out, "NaN") || strings.Contains(out, "Inf") {
		t.Fatal("rendered chart contains NaN or Inf")
	}
	if strings.Contains(out, "style=") {
		t.Fatal("rendered chart uses an inline style attribute (CSP forbids it)")
	}
	if !strings.Contains(out, `data-testid="empty-t"`) || !strings.Contains(out, `data-testid="table-t"`) {
		t.Fatal("empty state or table alternative missing")
	}
}
