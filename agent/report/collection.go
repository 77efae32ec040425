package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tally-inventory/tally/agent/callnumber"
)

// Holding is one item as the collection report sees it.
type Holding struct {
	CallNumber string
	Equipment  bool
	Year       int   // publication year, 0 when unknown
	Price      int64 // replacement price in cents, 0 when unknown
	Missing    bool  // expected by the inventory and not seen
}

// Classes of the collection report, in its order: the Dewey hundreds, the
// school sections, equipment, and what fits none of them.
var Classes = []string{"000", "100", "200", "300", "400", "500", "600", "700", "800", "900",
	"fiction", "easy", "biography", "equipment", "other"}

// classLabels name the Dewey hundreds as OCLC's DDC summaries (the first
// summary, "ten main classes") do, shortened.
var classLabels = map[string]string{
	"000": "000 Computers, information, general works", "100": "100 Philosophy & psychology",
	"200": "200 Religion", "300": "300 Social sciences", "400": "400 Language", "500": "500 Science",
	"600": "600 Technology", "700": "700 Arts & recreation", "800": "800 Literature",
	"900": "900 History & geography", "fiction": "Fiction", "easy": "Easy / picture books",
	"biography": "Biography", "equipment": "Equipment", "other": "Other (LC, no class)",
	"total": "Total",
}

// chartLabels are the classes' short names, for the charts' narrow label
// column.
var chartLabels = map[string]string{
	"000": "000 General works", "100": "100 Philosophy", "200": "200 Religion",
	"300": "300 Social sciences", "400": "400 Language", "500": "500 Science",
	"600": "600 Technology", "700": "700 Arts", "800": "800 Literature", "900": "900 History",
	"fiction": "Fiction", "easy": "Easy", "biography": "Biography", "equipment": "Equipment", "other": "Other",
}

// ClassOf is the report class of a holding: equipment, else the shelf of
// its call number (callnumber.ShelfOf).
func ClassOf(h Holding) string {
	if h.Equipment {
		return "equipment"
	}
	return string(callnumber.ShelfOf(h.CallNumber))
}

// ClassRow is one class of the collection report. Shares and the median
// are over the items with a known year (Dated); an item's age is the
// reference year minus its publication year, and "older than N years"
// means an age above N.
type ClassRow struct {
	Class        string   `json:"class"`
	Label        string   `json:"label"`
	Items        int      `json:"items"`
	Dated        int      `json:"dated"`
	MedianYear   *float64 `json:"median_year"` // null when no item has a year
	Older10      *float64 `json:"share_older_10"`
	Older20      *float64 `json:"share_older_20"`
	Missing      *int     `json:"missing,omitempty"`             // only with an inventory
	MissingValue *int64   `json:"missing_value_cents,omitempty"` // only with an inventory
	Unpriced     int      `json:"missing_unpriced,omitempty"`    // missing items without a price
}

// Collection is the collection report: the age of each part of the
// collection and, with an inventory, what it found missing.
type Collection struct {
	At        time.Time  `json:"reference_date"`
	Inventory string     `json:"inventory,omitempty"`
	Rows      []ClassRow `json:"classes"`
	Total     ClassRow   `json:"total"`
}

// NewCollection groups holdings by class. at is the reference date ages
// are counted from; inventory names the inventory whose missing items are
// counted ("" for none: the missing columns are left out).
func NewCollection(hs []Holding, at time.Time, inventory string) *Collection {
	c := &Collection{At: at, Inventory: inventory}
	years := map[string][]int{}
	rows := map[string]*ClassRow{}
	for _, k := range Classes {
		rows[k] = &ClassRow{Class: k, Label: classLabels[k]}
	}
	var all []int
	tot := &c.Total
	*tot = ClassRow{Class: "total", Label: classLabels["total"]}
	for _, h := range hs {
		k := ClassOf(h)
		r := rows[k]
		for _, r := range []*ClassRow{r, tot} {
			r.Items++
			if h.Missing && inventory != "" {
				if r.Missing == nil {
					r.Missing, r.MissingValue = new(int), new(int64)
				}
				*r.Missing++
				*r.MissingValue += h.Price
				if h.Price == 0 {
					r.Unpriced++
				}
			}
		}
		if h.Year != 0 {
			years[k] = append(years[k], h.Year)
			all = append(all, h.Year)
		}
	}
	ref := at.Year()
	for _, k := range Classes {
		r := rows[k]
		if k == "other" && r.Items == 0 {
			continue
		}
		r.ages(years[k], ref, inventory != "")
		c.Rows = append(c.Rows, *r)
	}
	tot.ages(all, ref, inventory != "")
	return c
}

func (r *ClassRow) ages(ys []int, ref int, inv bool) {
	if inv && r.Missing == nil {
		r.Missing, r.MissingValue = new(int), new(int64)
	}
	r.Dated = len(ys)
	if len(ys) == 0 {
		return
	}
	slices.Sort(ys)
	n := len(ys)
	m := float64(ys[n/2])
	if n%2 == 0 {
		m = float64(ys[n/2-1]+ys[n/2]) / 2
	}
	var o10, o20 int
	for _, y := range ys {
		if ref-y > 10 {
			o10++
		}
		if ref-y > 20 {
			o20++
		}
	}
	s10, s20 := float64(o10)/float64(n), float64(o20)/float64(n)
	r.MedianYear, r.Older10, r.Older20 = &m, &s10, &s20
}

// Table is the report as rows, for CSV.
func (c *Collection) Table() Table {
	t := Table{Name: "collection", Title: "Collection by class",
		Columns: []string{"class", "label", "items", "dated", "median_year", "share_older_10", "share_older_20"}}
	inv := c.Inventory != ""
	if inv {
		t.Columns = append(t.Columns, "missing", "missing_value", "missing_unpriced")
	}
	for _, r := range append(slices.Clone(c.Rows), c.Total) {
		row := []string{r.Class, r.Label, strconv.Itoa(r.Items), strconv.Itoa(r.Dated),
			year(r.MedianYear), share(r.Older10), share(r.Older20)}
		if inv {
			row = append(row, strconv.Itoa(deref(r.Missing)), money(deref(r.MissingValue)), strconv.Itoa(r.Unpriced))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func deref[T int | int64](p *T) T {
	if p == nil {
		return 0
	}
	return *p
}

func year(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// share is a fraction with three decimals ("0.125"), "" when unknown.
func share(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', 3, 64)
}

func pct(p *float64) string {
	if p == nil {
		return "–"
	}
	return strconv.FormatFloat(*p*100, 'f', 0, 64) + "%"
}

func money(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// Write renders the report as CSV (neutralized like every report), JSON
// (numbers as numbers, null for unknown) or a printable HTML page with two
// SVG bar charts.
func (c *Collection) Write(w io.Writer, f Format) error {
	switch f {
	case CSV:
		return WriteCSV(w, c.Table())
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	case HTML:
		return collectionPage.Execute(w, c.page())
	}
	return fmt.Errorf("report format %q: want csv, json or html", f)
}

// Charts returns the two charts as inline SVG, for a page that has its
// own layout (the web UI): median age, and share older than 20 years. The
// SVG carries its colours and fonts as attributes, so it needs no style
// sheet and passes a Content-Security-Policy without inline styles.
func (c *Collection) Charts() (age, older20 template.HTML, err error) {
	p := c.page()
	var a, o strings.Builder
	if err := collectionPage.ExecuteTemplate(&a, "svg", p.AgeChart); err != nil {
		return "", "", err
	}
	if err := collectionPage.ExecuteTemplate(&o, "svg", p.Old20); err != nil {
		return "", "", err
	}
	return template.HTML(a.String()), template.HTML(o.String()), nil
}

// bar is one bar of a chart, in SVG user units.
type bar struct {
	Y, W        float64
	Label, Text string
}

type chart struct {
	Title, Summary string
	W, H, LabelW   float64
	Bars           []bar
}

type pageData struct {
	C               *Collection
	At, Printed     string
	Inv             bool
	Table           Table
	AgeChart, Old20 chart
}

const (
	chartW    = 640.0
	chartLab  = 150.0
	chartText = 90.0 // room right of the longest bar for its value
	barH      = 18.0
	barGap    = 6.0
)

func (c *Collection) page() pageData {
	p := pageData{C: c, At: c.At.Format("2006-01-02"), Printed: time.Now().Format("2006-01-02 15:04"),
		Inv: c.Inventory != "", Table: c.Table()}
	ref := float64(c.At.Year())
	maxAge := 1.0
	for _, r := range c.Rows {
		if r.MedianYear != nil {
			maxAge = max(maxAge, ref-*r.MedianYear)
		}
	}
	mk := func(title string, val func(ClassRow) (float64, string, bool), full float64) chart {
		ch := chart{Title: title, W: chartW, LabelW: chartLab}
		span := chartW - chartLab - chartText
		for i, r := range c.Rows {
			b := bar{Y: float64(i) * (barH + barGap), Label: chartLabels[r.Class], Text: "no year"}
			if v, txt, ok := val(r); ok {
				b.W, b.Text = max(0, v)/full*span, txt
			}
			ch.Bars = append(ch.Bars, b)
		}
		ch.H = float64(len(c.Rows)) * (barH + barGap)
		return ch
	}
	p.AgeChart = mk("Median age (years)", func(r ClassRow) (float64, string, bool) {
		if r.MedianYear == nil {
			return 0, "", false
		}
		a := ref - *r.MedianYear
		return a, strconv.FormatFloat(a, 'f', -1, 64) + " y (" + year(r.MedianYear) + ")", true
	}, maxAge)
	p.Old20 = mk("Share older than 20 years", func(r ClassRow) (float64, string, bool) {
		if r.Older20 == nil {
			return 0, "", false
		}
		return *r.Older20, pct(r.Older20), true
	}, 1)
	p.AgeChart.Summary = "Median age of each class in years before " + p.At + "."
	p.Old20.Summary = "Share of each class's dated items published more than 20 years before " + p.At + "."
	return p
}

var collectionPage = template.Must(template.New("collection").Funcs(template.FuncMap{
	"f1":  func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"add": func(a, b float64) float64 { return a + b },
	"pct": pct, "year": year,
	"n": func(p *int) int { return deref(p) }, "money": func(p *int64) string { return money(deref(p)) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Collection report{{if .Inv}} — {{.C.Inventory}}{{end}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:1.5em;margin:0 0 .2em}
h2{font-size:1.15em;margin:1.6em 0 .3em;border-bottom:2px solid #333}
p.meta{color:#444;margin:.2em 0}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#eee}
tr.total td{font-weight:bold;border-top:2px solid #333}
svg{width:100%;max-width:640px;height:auto;display:block}
figure{margin:0 0 1em}
@media print{body{margin:0;font-size:11px}h2{break-after:avoid}tr,svg{break-inside:avoid}th{background:#ddd!important}svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
</style></head><body>
<h1>Collection report</h1>
<p class="meta">Ages counted from {{.At}}{{if .Inv}} · missing items of inventory “{{.C.Inventory}}”{{end}} · printed {{.Printed}}</p>
<p class="meta">{{.C.Total.Items}} items, {{.C.Total.Dated}} with a publication year. Median and shares are over the items with a year; “older than N years” means published more than N years before the reference year.</p>
<section class="charts">
{{template "chart" .AgeChart}}{{template "chart" .Old20}}
</section>
<section><h2>By class</h2>
<table><thead><tr><th scope="col">Class</th><th scope="col">Items</th><th scope="col">With year</th><th scope="col">Median year</th><th scope="col">Older than 10 y</th><th scope="col">Older than 20 y</th>{{if .Inv}}<th scope="col">Missing</th><th scope="col">Replacement value</th>{{end}}</tr></thead><tbody>
{{$inv := .Inv}}{{range .C.Rows}}<tr><th scope="row">{{.Label}}</th><td class="n">{{.Items}}</td><td class="n">{{.Dated}}</td><td class="n">{{year .MedianYear}}</td><td class="n">{{pct .Older10}}</td><td class="n">{{pct .Older20}}</td>{{if $inv}}<td class="n">{{n .Missing}}</td><td class="n">{{money .MissingValue}}{{if .Unpriced}} ({{.Unpriced}} unpriced){{end}}</td>{{end}}</tr>
{{end}}{{with .C.Total}}<tr class="total"><th scope="row">{{.Label}}</th><td class="n">{{.Items}}</td><td class="n">{{.Dated}}</td><td class="n">{{year .MedianYear}}</td><td class="n">{{pct .Older10}}</td><td class="n">{{pct .Older20}}</td>{{if $inv}}<td class="n">{{n .Missing}}</td><td class="n">{{money .MissingValue}}{{if .Unpriced}} ({{.Unpriced}} unpriced){{end}}</td>{{end}}</tr>{{end}}
</tbody></table></section>
</body></html>
{{define "chart"}}<figure><figcaption><h2>{{.Title}}</h2></figcaption>{{template "svg" .}}</figure>{{end}}
{{define "svg"}}<svg viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}: {{.Summary}}" font-family="system-ui,sans-serif" font-size="12" fill="#111">{{$lw := .LabelW}}
{{range .Bars}}<text x="{{f1 (add $lw -8)}}" y="{{f1 (add .Y 13)}}" text-anchor="end">{{.Label}}</text><rect x="{{$lw}}" y="{{f1 .Y}}" width="{{f1 .W}}" height="18" fill="#4a6fa5"><title>{{.Label}}: {{.Text}}</title></rect><text x="{{f1 (add (add $lw .W) 6)}}" y="{{f1 (add .Y 13)}}">{{.Text}}</text>
{{end}}</svg>{{end}}
`))

// Text forms of a row's figures, for pages: "2005.5", "75%", "–" when
// unknown, "32.00".

func (r ClassRow) MedianText() string  { return orDash(year(r.MedianYear)) }
func (r ClassRow) Older10Text() string { return pct(r.Older10) }
func (r ClassRow) Older20Text() string { return pct(r.Older20) }
func (r ClassRow) MissingN() int       { return deref(r.Missing) }
func (r ClassRow) ValueText() string   { return money(deref(r.MissingValue)) }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
