package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/report"
)

// cmdReportCollection is `tally report collection`: the age of each part
// of the collection and, with an inventory, what it found missing.
func cmdReportCollection(ctx context.Context, args []string) error {
	fs := newFlags("report collection", "[--inventory ID] [--at DATE] [--format html|csv|json] [--out FILE]", `
Writes the collection report: per Dewey hundred (000-900), fiction, easy,
biography and equipment the item count, the median publication year and the
share older than 10 and 20 years (counted from --at, default today); with
--inventory, over that inventory's part of the collection, the items it
found missing and their replacement value. Publication years come from
the import (MARC 008/07-10 or 260/264 $c; a CSV year column).`)
	db := dbFlag(fs)
	inv := fs.Int64("inventory", 0, "inventory `id` whose missing items to count (default: none, the whole catalog)")
	at := fs.String("at", "", "reference `date` ages are counted from, YYYY-MM-DD (default today)")
	format := fs.String("format", "html", "html, csv or json")
	outPath := fs.String("out", "", "write to this `file` (atomically) instead of stdout")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return err
	}
	ref := time.Now()
	if *at != "" {
		if ref, err = catalog.ParseDate(*at); err != nil {
			return fmt.Errorf("--at %q: %w", *at, err)
		}
	}
	e, done, err := openEngineReadOnly(ctx, *db)
	if err != nil {
		return err
	}
	defer done()
	c, err := e.Collection(ctx, *inv, ref)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := c.Write(&b, f); err != nil {
		return err
	}
	return writeOut(*outPath, b.String())
}
