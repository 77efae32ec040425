package web

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
)

// Charts are drawn as inline SVG by the reports template from these
// numbers: no script, no external library, and they print.
type Charts struct {
	Progress LineChart
	ByPlace  BarChart
}

// LineChart is progress over time: items seen against the clock.
type LineChart struct {
	W, H     int
	Plot     Box
	Points   string // polyline points
	Goal     float64
	YTicks   []Tick
	XTicks   []Tick
	Empty    bool
	Summary  string // the chart in words, for screen readers and print
	Expected int
}

// Box is the plot area.
type Box struct{ X, Y, W, H float64 }

// Tick is an axis label.
type Tick struct {
	X, Y   float64
	Text   string
	Anchor string // SVG text-anchor: the end ticks stay inside the chart
}

// timeTicks labels the time axis with four ticks, as precise as the span
// needs so that no two read the same (a walk of reads within one second
// gets milliseconds); a label equal to the one before is left out.
func timeTicks(t0 time.Time, span time.Duration, px func(time.Time) float64, y float64) []Tick {
	layout := "15:04"
	switch {
	case span > 20*time.Hour:
		layout = "Jan 2 15:04"
	case span < 3*time.Second:
		layout = "15:04:05.000"
	case span < 30*time.Second:
		layout = "15:04:05.0"
	case span < 10*time.Minute:
		layout = "15:04:05"
	}
	var out []Tick
	for i := 0; i <= 3; i++ {
		t := t0.Add(span * time.Duration(i) / 3)
		txt := t.Local().Format(layout)
		if len(out) > 0 && out[len(out)-1].Text == txt {
			continue
		}
		out = append(out, Tick{X: px(t), Y: y, Text: txt, Anchor: "middle"})
		if span <= 0 {
			break
		}
	}
	out[0].Anchor = "start"
	if len(out) > 1 {
		out[len(out)-1].Anchor = "end"
	}
	return out
}

// BarChart is outcomes by location: one stacked bar per location.
type BarChart struct {
	W, H   int
	LabelW float64
	Rows   []BarRow
	Legend []Count
	Empty  bool
}

// BarRow is one location.
type BarRow struct {
	Y     float64
	Place string
	Total int
	Segs  []Seg
	TextX float64
}

// Seg is one outcome's share of a bar.
type Seg struct {
	X, W    float64
	Outcome string
	Label   string
	N       int
}

const maxPoints = 240

// charts reads the inventory's journal once: the first sighting of each
// item gives progress over time and the outcome per location.
func (s *Server) charts(ctx context.Context, inv *store.Inventory) (*Charts, error) {
	x := s.b.Catalog()
	type pt struct {
		at time.Time
		n  int
	}
	var pts []pt
	first := map[string]bool{}
	codes := map[string]bool{}
	byPlace := map[string]map[string]int{}
	seen := 0
	err := s.b.Store().Reads(ctx, inv.ID, 0, func(r *store.ReadRow) error {
		if r.Undone || r.Outcome == string(reconcile.Duplicate) {
			return nil
		}
		place := "(not in the catalog)"
		if r.Barcode != "" {
			if first[r.Barcode] {
				return nil
			}
			first[r.Barcode] = true
			it, ok := x.Get(r.Barcode)
			if ok {
				place = orDefault(it.Location, "(no location)")
				if inv.Scope.Home(&it) {
					seen++
					pts = append(pts, pt{r.At, seen})
				}
			}
		} else {
			if codes[r.Code] {
				return nil
			}
			codes[r.Code] = true
		}
		if byPlace[place] == nil {
			byPlace[place] = map[string]int{}
		}
		byPlace[place][r.Outcome]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	p, err := progressFor(ctx, s.b, inv)
	if err != nil {
		return nil, err
	}
	c := &Charts{}
	lc := &c.Progress
	lc.W, lc.H = 640, 260
	lc.Plot = Box{X: 56, Y: 16, W: 536, H: 196}
	lc.Expected = p.Expected
	if len(pts) == 0 {
		lc.Empty = true
		lc.Summary = "No items seen yet."
	} else {
		t0, t1 := pts[0].at, pts[len(pts)-1].at
		span := t1.Sub(t0)
		ymax := max(p.Expected, seen, 1)
		step := max(1, len(pts)/maxPoints)
		var b strings.Builder
		px := func(t time.Time) float64 {
			if span <= 0 {
				return lc.Plot.X + lc.Plot.W
			}
			return lc.Plot.X + lc.Plot.W*float64(t.Sub(t0))/float64(span)
		}
		py := func(n int) float64 { return lc.Plot.Y + lc.Plot.H*(1-float64(n)/float64(ymax)) }
		fmt.Fprintf(&b, "%.1f,%.1f", px(t0), py(0))
		for i := 0; i < len(pts); i += step {
			fmt.Fprintf(&b, " %.1f,%.1f", px(pts[i].at), py(pts[i].n))
		}
		last := pts[len(pts)-1]
		fmt.Fprintf(&b, " %.1f,%.1f", px(last.at), py(last.n))
		lc.Points = b.String()
		lc.Goal = py(p.Expected)
		for i := 0; i <= 4; i++ {
			n := ymax * i / 4
			lc.YTicks = append(lc.YTicks, Tick{X: lc.Plot.X - 6, Y: py(n), Text: thousands(n)})
		}
		lc.XTicks = timeTicks(t0, span, px, lc.Plot.Y+lc.Plot.H+18)
		lc.Summary = fmt.Sprintf("%s of %s items seen between %s and %s.", thousands(seen), thousands(p.Expected),
			t0.Local().Format("2006-01-02 15:04"), t1.Local().Format("2006-01-02 15:04"))
	}

	bc := &c.ByPlace
	bc.W, bc.LabelW = 640, 150
	places := make([]string, 0, len(byPlace))
	totals := map[string]int{}
	used := map[string]bool{}
	for pl, m := range byPlace {
		places = append(places, pl)
		for o, n := range m {
			totals[pl] += n
			used[o] = true
		}
	}
	sort.Slice(places, func(a, b int) bool {
		if totals[places[a]] != totals[places[b]] {
			return totals[places[a]] > totals[places[b]]
		}
		return places[a] < places[b]
	})
	if len(places) > 14 {
		places = places[:14]
	}
	order := append(append([]reconcile.Outcome{}, shelfLegend...), reconcile.Present, reconcile.Foreign)
	for _, o := range order {
		if used[string(o)] {
			bc.Legend = append(bc.Legend, Count{Outcome: string(o), Label: label(string(o))})
		}
	}
	biggest := 1
	for _, pl := range places {
		biggest = max(biggest, totals[pl])
	}
	barW := float64(bc.W) - bc.LabelW - 70
	for i, pl := range places {
		row := BarRow{Y: float64(8 + i*34), Place: pl, Total: totals[pl]}
		xx := bc.LabelW
		for _, l := range bc.Legend {
			n := byPlace[pl][l.Outcome]
			if n == 0 {
				continue
			}
			w := barW * float64(n) / float64(biggest)
			row.Segs = append(row.Segs, Seg{X: xx, W: w, Outcome: l.Outcome, Label: l.Label, N: n})
			xx += w
		}
		row.TextX = xx + 6
		bc.Rows = append(bc.Rows, row)
	}
	bc.H = 16 + 34*len(places)
	bc.Empty = len(places) == 0
	for i := range bc.Legend {
		for _, pl := range places {
			bc.Legend[i].N += byPlace[pl][bc.Legend[i].Outcome]
		}
	}
	return c, nil
}
