package main

// tally sheet control, tally sheet operators: printable Code 128 sheets of
// control barcodes, so a scanner with no screen nearby runs an inventory.

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/drivers/barcode"
	"github.com/tally-inventory/tally/drivers/profile"
)

// isControlSheet says whether `tally sheet` was asked for a control sheet
// rather than a scanner profile's setup sheet.
func isControlSheet(args []string) bool {
	return len(args) > 0 && (args[0] == "control" || args[0] == "operators")
}

type controlCard struct {
	Label, Explain, Code string
	SVG                  template.HTML
}

type controlSection struct {
	Title string
	Cards []controlCard
}

var controlTmpl = template.Must(template.New("control").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}} — tally</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #000; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
h2 { font-size: 1.1em; margin-top: 1.5em; }
p.sub { margin-top: 0; color: #444; }
.card { display: inline-block; vertical-align: top; border: 1px dashed #999; padding: 0.6em 0.8em; margin: 0 0.6em 0.8em 0; break-inside: avoid; page-break-inside: avoid; }
.card strong { font-size: 1.2em; }
.code { font-family: ui-monospace, monospace; font-size: 0.85em; color: #333; }
svg.barcode { display: block; margin: 0.4em 0; }
@media print { @page { size: auto; margin: 15mm; } body { margin: 0; } }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">{{.Sub}}</p>
{{range .Sections}}<h2>{{.Title}}</h2>
{{range .Cards}}<div class="card"><strong>{{.Label}}</strong>{{with .Explain}}<br>{{.}}{{end}}{{.SVG}}<div class="code">{{.Code}}</div></div>
{{end}}{{end}}</body>
</html>
`))

func card(c engine.Control, label, explain string) (controlCard, error) {
	code := c.Code()
	mods, err := profile.Bars(code)
	if err != nil {
		return controlCard{}, fmt.Errorf("%s: %w", label, err)
	}
	return controlCard{Label: label, Explain: explain, Code: code, SVG: template.HTML(profile.SVG(mods, label))}, nil
}

func cmdSheetControl(ctx context.Context, args []string) error {
	which := args[0]
	var fs = newFlags("sheet "+which, "[--db PATH] [--out FILE]", `
Writes a printable page of control barcodes (Code 128): scanned on any
scanner the agent reads, each does what the UI's button does — start a shelf
session for an open inventory or a cart check, pause, resume, end, undo the
last read — with its own beep and light, and is journaled. Scanned anywhere
else they are refused as items. Print at 100% scale.`)
	if which == "operators" {
		fs = newFlags("sheet operators", "NAME... [--out FILE]", `
Writes a printable page of operator badges (Code 128), one per name: a
student scans "I am Ana" once on the scanner, and every read after it on that
scanner records Ana as its operator (sessions started after it too). Names
are printable ASCII, at most 40 characters (a scanner types no accents).`)
	}
	out := fs.String("out", "", "write to this `file` (atomically) instead of stdout")
	var db *string
	if which == "control" {
		db = dbFlag(fs)
	}
	if err := parseArgs(fs, args[1:], -1); err != nil {
		return err
	}
	var page struct {
		Title, Sub string
		Sections   []controlSection
	}
	n := 0
	add := func(title string, cards ...controlCard) {
		page.Sections = append(page.Sections, controlSection{title, cards})
		n += len(cards)
	}
	switch which {
	case "operators":
		if fs.NArg() == 0 {
			fs.Usage()
			return fmt.Errorf("name the operators, e.g. `tally sheet operators Ana Ben`")
		}
		page.Title, page.Sub = "Operator badges", "Scan your badge once on the scanner you pick up; your reads carry your name until another badge is scanned on it."
		var cards []controlCard
		for _, name := range fs.Args() {
			if err := engine.CheckControlName("operator", name); err != nil {
				return err
			}
			c, err := card(engine.Control{Cmd: engine.CmdOperator, Operator: name}, "I am "+name, "")
			if err != nil {
				return err
			}
			cards = append(cards, c)
		}
		add("Badges", cards...)
	default:
		if fs.NArg() != 0 {
			return fmt.Errorf("tally sheet control takes no names (got %q); operator badges: `tally sheet operators NAME...`", strings.Join(fs.Args(), " "))
		}
		d, err := openReadOnly(ctx, *db)
		if err != nil {
			return err
		}
		defer d.Close()
		x, err := d.LoadIndex(ctx)
		if err != nil {
			return err
		}
		// A catalog identifier that reads as a command would never be
		// counted: refuse to print a sheet until it is renamed.
		var clash []string
		x.Each(func(_ catalog.Ref, it *catalog.Item) bool {
			for _, id := range []string{it.Barcode, it.AssetTag, it.RFID} {
				if id != "" && barcode.IsControl(catalog.NormalizeID(id)) {
					clash = append(clash, id)
				}
			}
			return len(clash) < 5
		})
		if len(clash) > 0 {
			return fmt.Errorf("the catalog has identifiers starting %s (%s): a scanner would read them as commands; renumber them before printing control barcodes", barcode.ControlPrefix, strings.Join(clash, ", "))
		}
		invs, err := d.Inventories(ctx)
		if err != nil {
			return err
		}
		page.Title = "Control barcodes"
		page.Sub = "Scan a start code with the scanner you will use: the scanner is put in the new session. Pause, resume, end and undo act on the session of the scanner that reads them."
		var starts []controlCard
		carts := x.Containers()
		sort.Strings(carts)
		for _, inv := range invs {
			if !inv.Open() {
				continue
			}
			c, err := card(engine.Control{Cmd: engine.CmdShelf, Inventory: inv.ID}, "Start shelf: "+inv.Name, fmt.Sprintf("inventory %d", inv.ID))
			if err != nil {
				return err
			}
			starts = append(starts, c)
			for _, cart := range carts {
				if engine.CheckControlName("cart", cart) != nil {
					continue
				}
				c, err := card(engine.Control{Cmd: engine.CmdCart, Inventory: inv.ID, Cart: cart}, "Check cart "+cart, fmt.Sprintf("inventory %d: %s", inv.ID, inv.Name))
				if err != nil {
					return err
				}
				starts = append(starts, c)
			}
		}
		if len(starts) == 0 {
			return fmt.Errorf("no open inventory in %s: create one first (`tally inventory create --name ...`), then print the sheet", *db)
		}
		add("Start", starts...)
		var cmds []controlCard
		for _, c := range []struct{ cmd, label, explain string }{
			{engine.CmdPause, "Pause", "a break: reads are refused until resume"},
			{engine.CmdResume, "Resume", "go on after a pause"},
			{engine.CmdUndo, "Undo last read", "takes back the last read of this scanner's session"},
			{engine.CmdEnd, "End session", "done for the day; the inventory stays open"},
		} {
			cc, err := card(engine.Control{Cmd: c.cmd}, c.label, c.explain)
			if err != nil {
				return err
			}
			cmds = append(cmds, cc)
		}
		add("Session", cmds...)
	}
	var b bytes.Buffer
	if err := controlTmpl.Execute(&b, page); err != nil {
		return fmt.Errorf("render the sheet: %w", err)
	}
	if *out == "" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	if err := writeAtomic(*out, b.Bytes()); err != nil {
		return fmt.Errorf("write the sheet: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s: %d barcodes; print it at 100%% scale\n", *out, n)
	return nil
}
