package profile

import (
	"fmt"
	"html/template"
	"image/color"
	"io"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
)

const fnc3 = code128.FNC3

// Barcode geometry. A 0.33 mm module (13 mil) and a 10-module quiet zone
// scan reliably from a laser print on any handheld scanner.
const (
	moduleMM = 0.33
	quiet    = 10
	barMM    = 12.0
)

// Bars returns the dark/light module pattern of the Code 128 symbol for
// data (as the library encodes it, check symbol and stop included).
func Bars(data string) ([]bool, error) {
	bc, err := code128.Encode(data)
	if err != nil {
		return nil, fmt.Errorf("encode %q as Code 128: %w", printable(data), err)
	}
	return modules(bc), nil
}

func modules(bc barcode.Barcode) []bool {
	w := bc.Bounds().Dx()
	out := make([]bool, w)
	for x := 0; x < w; x++ {
		g := color.Gray16Model.Convert(bc.At(x, 0)).(color.Gray16)
		out[x] = g.Y < 0x8000
	}
	return out
}

// SVG renders the modules as an inline SVG: one rect per bar, in module
// units, scaled to print at moduleMM per module. No raster image is
// involved, so the print is as sharp as the printer.
func SVG(mods []bool, title string) string {
	width := len(mods) + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="barcode" width="%.2fmm" height="%.0fmm" viewBox="0 0 %d 40" preserveAspectRatio="none" shape-rendering="crispEdges" role="img">`,
		float64(width)*moduleMM, barMM, width)
	fmt.Fprintf(&b, `<title>%s</title><rect x="0" y="0" width="%d" height="40" fill="#fff"/>`, template.HTMLEscapeString(title), width)
	for x := 0; x < len(mods); {
		if !mods[x] {
			x++
			continue
		}
		start := x
		for x < len(mods) && mods[x] {
			x++
		}
		fmt.Fprintf(&b, `<rect x="%d" y="0" width="%d" height="40"/>`, start+quiet, x-start)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// printable shows FNC3 as ⟨FNC3⟩ for people.
func printable(s string) string {
	return strings.ReplaceAll(s, string(fnc3), "⟨FNC3⟩")
}

type sheetRow struct {
	Step    int
	Label   string
	Explain string
	Code    string
	Symbol  string
	SVG     template.HTML
}

var sheetTmpl = template.Must(template.New("sheet").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Set up {{.P.Vendor}} {{.P.Model}} — tally</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #000; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.sub { margin-top: 0; color: #444; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: middle; padding: 0.6em 0.5em; border-bottom: 1px solid #999; }
td.step { font-size: 1.4em; font-weight: bold; width: 2em; }
.code { font-family: ui-monospace, monospace; font-size: 0.9em; color: #333; }
svg.barcode { display: block; }
.notes li { margin-bottom: 0.3em; }
@media print {
  @page { size: auto; margin: 15mm; }
  body { margin: 0; }
  tr { break-inside: avoid; page-break-inside: avoid; }
}
</style>
</head>
<body>
<h1>Set up {{.P.Vendor}} {{.P.Model}}</h1>
<p class="sub">Profile <code>{{.P.Name}}</code>{{with .P.Mode}} · mode {{.}}{{end}}{{with .P.Description}} · {{.}}{{end}}</p>
{{if .Rows}}<p>Scan each barcode in order, top to bottom. Wait for the scanner's beep after each one. Cover the other barcodes on the page if the scanner reads more than one.</p>
<table>
<thead><tr><th>#</th><th>Setting</th><th>Barcode</th></tr></thead>
<tbody>
{{range .Rows}}<tr>
<td class="step">{{.Step}}</td>
<td><strong>{{.Label}}</strong>{{with .Explain}}<br>{{.}}{{end}}</td>
<td>{{.SVG}}<div class="code">{{.Code}}</div></td>
</tr>
{{end}}</tbody>
</table>
{{else}}<p><strong>This profile has no setup barcodes.</strong></p>
{{end}}{{if .P.Notes}}<h2>Notes</h2>
<ul class="notes">
{{range .P.Notes}}<li>{{.}}</li>
{{end}}</ul>
{{end}}{{if eq .P.SetupFormat "honeywell-menu"}}<p class="sub">Each barcode is a Honeywell menu command in Code 128: FNC3, the command, then “.” to store it permanently.</p>
{{end}}</body>
</html>
`))

// Sheet writes a printable HTML setup sheet: one row per setting, each
// with its label, explanation and an inline SVG Code 128 barcode.
func (p *Profile) Sheet(w io.Writer) error {
	data := struct {
		P    *Profile
		Rows []sheetRow
	}{P: p}
	for i, s := range p.Setup {
		sym := p.Symbol(s)
		mods, err := Bars(sym)
		if err != nil {
			return fmt.Errorf("profile %s: setup step %d (%s): %w", p.Name, i+1, s.Label, err)
		}
		data.Rows = append(data.Rows, sheetRow{
			Step: i + 1, Label: s.Label, Explain: s.Explain, Code: s.Code, Symbol: sym,
			SVG: template.HTML(SVG(mods, s.Label)), // built from numbers and an escaped title
		})
	}
	if err := sheetTmpl.Execute(w, data); err != nil {
		return fmt.Errorf("render setup sheet for %s: %w", p.Name, err)
	}
	return nil
}
