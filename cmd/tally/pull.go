package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/tally-inventory/tally/agent/engine"
)

func cmdInventoryPull(ctx context.Context, args []string) error {
	fs := newFlags("inventory pull", "ID FILE.csv", `
Attaches a pull list to an inventory: items to take off the shelf when the
walk meets them (holds to pull, weeding review). FILE.csv has the header
"barcode,reason"; a scan of a listed item plays the pull signal and shows
"pull: REASON". The list replaces the inventory's previous one; reports
"pulled" and "pull_not_found" show what the walk met and did not.`)
	db := dbFlag(fs)
	if err := parseArgs(fs, args, 2); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("give the inventory id and the CSV file, e.g. `tally inventory pull 1 holds.csv`")
	}
	file := fs.Arg(1)
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%q is not an inventory id (list them with `tally inventory list`)", fs.Arg(0))
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("pull list: %w", err)
	}
	defer f.Close()
	items, err := engine.ParsePullCSV(file, f)
	if err != nil {
		return err
	}
	d, err := openDB(ctx, *db)
	if err != nil {
		return err
	}
	defer d.Close()
	inv, err := d.Inventory(ctx, id)
	if err != nil {
		return err
	}
	if !inv.Open() {
		return fmt.Errorf("inventory %d (%s) is finalized: a pull list acts while the walk goes on; create a new inventory", inv.ID, inv.Name)
	}
	x, err := d.LoadIndex(ctx)
	if err != nil {
		return err
	}
	unknown := 0
	for _, it := range items {
		if _, ok := x.Get(it.Barcode); !ok {
			unknown++
			fmt.Fprintf(stdout, "%s:%d: %s is not in the catalog (kept: it counts once an import brings it)\n", it.Source, it.Line, it.Barcode)
		}
	}
	if err := d.SetPullList(ctx, id, items); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "inventory %d (%s): pull list of %d items from %s attached", id, inv.Name, len(items), file)
	if unknown > 0 {
		fmt.Fprintf(stdout, ", %d not in the catalog", unknown)
	}
	fmt.Fprintf(stdout, "\nreport: tally report --inventory %d pulled pull_not_found\n", id)
	return nil
}
