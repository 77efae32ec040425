package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/sync/koha"
)

func init() {
	register("holds", "holds to pull: every inventory's walk pulls them automatically", sub("holds", map[string]func(context.Context, []string) error{
		"import": cmdHoldsImport, "fetch": cmdHoldsFetch, "list": cmdHoldsList,
	}, `Holds waiting to be pulled from the shelf. Once imported (from Koha's holds
queue report, or a CSV of barcode,pickup,placed) or fetched from Koha's API,
every open inventory pulls them: a scan of a held copy plays the pull signal
and shows "pull: hold for pickup at LIBRARY, placed DATE" — never who placed
it. Each import or fetch replaces the list. It may run beside the agent.`))
}

func cmdHoldsImport(ctx context.Context, args []string) error {
	fs := newFlags("holds import", "FILE.csv", `
Replaces the holds to pull with FILE.csv: a header naming a barcode column,
and optionally the pickup library and the day the hold was placed. Koha's
holds queue as a report on tmp_holdsqueue (SELECT * FROM tmp_holdsqueue) is
read as it comes: barcode, pickbranch, reservedate; the patron's columns are
never read. Rows without a barcode (a record-level hold not yet matched to
a copy) are skipped and counted. Bad rows are listed as FILE:LINE and
nothing is taken.`)
	db := dbFlag(fs)
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("name the holds list, e.g. `tally holds import holdsqueue.csv`")
	}
	file := fs.Arg(0)
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("holds: %w", err)
	}
	defer f.Close()
	holds, skipped, err := catalog.ReadHolds(file, f)
	if err != nil {
		return err
	}
	note := ""
	if skipped > 0 {
		note = fmt.Sprintf(" (%d rows without a barcode skipped: holds not yet matched to a copy)", skipped)
	}
	return setHolds(ctx, *db, file, holds, note)
}

func cmdHoldsFetch(ctx context.Context, args []string) error {
	fs := newFlags("holds fetch", "[--config tally.yaml]", `
Replaces the holds to pull with Koha's current holds (REST API GET
/api/v1/holds, with the sync.koha settings of the config file): pending,
not suspended holds whose copy is on the shelf. An item-level hold pulls its
copy; a record-level hold pulls one available copy, its pickup library's
first. The API user needs the reserveforothers permission to list holds.`)
	db := dbFlag(fs)
	cfgPath := fs.String("config", "tally.yaml", "config `file` with the sync.koha settings")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	cfg, err := agent.LoadConfig(*cfgPath)
	if err != nil {
		return err
	}
	o, err := kohaFromConfig(cfg, *cfgPath)
	if err != nil {
		return err
	}
	kh, sk, err := koha.FetchHolds(ctx, o)
	if err != nil {
		return fmt.Errorf("fetch holds from koha: %w (the holds list is unchanged)", err)
	}
	holds := make([]catalog.Hold, len(kh))
	for i, h := range kh {
		holds[i] = catalog.Hold{Barcode: catalog.NormalizeID(h.Barcode), Pickup: h.Pickup, Placed: h.Placed, Source: "koha"}
	}
	holds = catalog.MergeHolds(holds)
	note := fmt.Sprintf(" (not to pull: %d waiting, in transit or in processing, %d suspended, %d with no copy on the shelf)", sk.Found, sk.Suspended, sk.NoCopy)
	return setHolds(ctx, *db, "koha", holds, note)
}

// setHolds stores the list in one transaction, beside the agent if it runs
// (holds are catalog data, looked up inside each read's transaction).
func setHolds(ctx context.Context, dbPath, from string, holds []catalog.Hold, note string) error {
	d, err := openCatalog(ctx, dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	x, err := d.LoadIndex(ctx)
	if err != nil {
		return err
	}
	unknown := 0
	for _, h := range holds {
		if _, ok := x.Get(h.Barcode); !ok {
			unknown++
		}
	}
	if err := d.SetHolds(ctx, holds); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "holds to pull: %d from %s%s", len(holds), from, note)
	if unknown > 0 {
		fmt.Fprintf(stdout, "; %d not in the catalog (they count once an import brings them)", unknown)
	}
	fmt.Fprintln(stdout, "\nlist them: tally holds list")
	return nil
}

func cmdHoldsList(ctx context.Context, args []string) error {
	fs := newFlags("holds list", "", "Lists the holds to pull, with each copy's title and call number.")
	db := dbFlag(fs)
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	d, err := openReadOnly(ctx, *db)
	if err != nil {
		return err
	}
	defer d.Close()
	holds, err := d.Holds(ctx)
	if err != nil {
		return err
	}
	if len(holds) == 0 {
		fmt.Fprintln(stdout, "no holds to pull: import Koha's holds queue with `tally holds import FILE.csv`, or `tally holds fetch`")
		return nil
	}
	x, err := d.LoadIndex(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BARCODE\tCALL NUMBER\tTITLE\tPICKUP\tPLACED")
	for _, h := range holds {
		it, ok := x.Get(h.Barcode)
		title := it.Title
		if !ok {
			title = "(not in the catalog)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Barcode, it.CallNumber, title, h.Pickup, h.Placed)
	}
	return tw.Flush()
}
