// Package report renders tally's reports — tables of rows — as CSV, JSON
// and printable HTML. The agent gathers the rows; this package only knows
// how to write them safely: CSV cells that a spreadsheet would run as a
// formula are neutralized, HTML is escaped by html/template.
package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Percent is seen of expected to a tenth of a percent, rounded down (so
// 100.0% means all), and "<0.1%" for a few items rather than "0.0%". The UI
// and the summary report say progress the same way.
func Percent(seen, expected int) string {
	if expected <= 0 {
		return "0.0%"
	}
	p := float64(int(1000*float64(seen)/float64(expected))) / 10
	if seen > 0 && p < 0.1 {
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", p)
}

// Table is one report.
type Table struct {
	Name    string     `json:"name"`  // machine name: missing, misplaced, …
	Title   string     `json:"title"` // for people
	Note    string     `json:"note,omitempty"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

// Format is an output format.
type Format string

const (
	CSV  Format = "csv"
	JSON Format = "json"
	HTML Format = "html"
)

// ParseFormat accepts csv, json or html.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, JSON, HTML:
		return f, nil
	case "":
		return CSV, nil
	}
	return "", fmt.Errorf("report format %q: want csv, json or html", s)
}

// Write renders tables in format f. CSV takes one table at a time; several
// tables are written one after another with a blank line between.
func Write(w io.Writer, f Format, heading string, tables ...Table) error {
	switch f {
	case CSV:
		for i, t := range tables {
			if i > 0 {
				if _, err := io.WriteString(w, "\r\n"); err != nil {
					return err
				}
			}
			if err := WriteCSV(w, t); err != nil {
				return err
			}
		}
		return nil
	case JSON:
		out := make([]map[string]any, 0, len(tables))
		for _, t := range tables {
			rows := make([]map[string]string, len(t.Rows))
			for i, r := range t.Rows {
				m := make(map[string]string, len(t.Columns))
				for j, c := range t.Columns {
					if j < len(r) {
						m[c] = r[j]
					}
				}
				rows[i] = m
			}
			out = append(out, map[string]any{"name": t.Name, "title": t.Title, "note": t.Note, "rows": rows})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case HTML:
		return page.Execute(w, struct {
			Heading string
			At      string
			Tables  []Table
		}{heading, time.Now().Format("2006-01-02 15:04"), tables})
	}
	return fmt.Errorf("report format %q: want csv, json or html", f)
}

// WriteCSV writes one table as CSV with a header row.
func WriteCSV(w io.Writer, t Table) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	row := make([]string, len(t.Columns))
	for _, r := range t.Rows {
		for i := range row {
			row[i] = ""
			if i < len(r) {
				row[i] = Neutralize(r[i])
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Neutralize keeps a spreadsheet from running a cell as a formula (CSV
// injection): a cell that begins with =, +, -, @, tab or CR (OWASP's list),
// or with their fullwidth forms ＝ ＋ － ＠ (which spreadsheets with East
// Asian input fold to the ASCII ones), also after leading spaces, gets a
// leading apostrophe. A barcode or title is data, never a formula.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	t := strings.TrimLeft(s, " \u00a0\u3000\n")
	r, _ := utf8.DecodeRuneInString(t)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '\uff1d', '\uff0b', '\uff0d', '\uff20':
		return "'" + s
	}
	return s
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{.Heading}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}
h1{font-size:1.5em;margin:0 0 .2em}
h2{font-size:1.15em;margin:1.6em 0 .3em;border-bottom:2px solid #333}
p.meta,p.note{color:#444;margin:.2em 0}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}
tr:nth-child(even) td{background:#f7f7f7}
.empty{color:#666;font-style:italic}
@media print{body{margin:0;font-size:11px}h2{break-after:avoid}tr{break-inside:avoid}th{background:#ddd!important;-webkit-print-color-adjust:exact;print-color-adjust:exact}}
</style></head><body>
<h1>{{.Heading}}</h1><p class="meta">Printed {{.At}}</p>
{{range .Tables}}<section id="{{.Name}}"><h2>{{.Title}} ({{len .Rows}})</h2>
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
{{if .Rows}}<table><thead><tr>{{range .Columns}}<th scope="col">{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>{{else}}<p class="empty">None.</p>{{end}}</section>
{{end}}</body></html>
`))
