package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"

	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/sample"
)

func init() {
	register("sample", "generate a sample collection (CSV) or a simulated shelf walk", sub("sample", map[string]func(context.Context, []string) error{
		"collection": cmdSampleCollection, "walk": cmdSampleWalk,
	}, "Sample data to try tally without a catalog or a scanner: `sample collection` writes a generated school\nlibrary as tally CSV; `sample walk` writes the barcodes a student assistant would scan along one section,\nwith realistic mistakes."))
}

func cmdSampleCollection(ctx context.Context, args []string) error {
	fs := newFlags("sample collection", "[--books N] [--carts N] > collection.csv", "Writes a generated collection as tally CSV.")
	o := sample.DefaultOpts
	fs.IntVar(&o.Books, "books", o.Books, "number of books")
	fs.IntVar(&o.Carts, "carts", o.Carts, "number of equipment carts")
	fs.IntVar(&o.PerCart, "per-cart", o.PerCart, "devices per cart")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed (the same seed gives the same collection)")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	w := csv.NewWriter(stdout)
	if err := w.Write(catalog.Columns); err != nil {
		return err
	}
	for _, it := range sample.Generate(o) {
		if err := w.Write(itemRow(it)); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

func itemRow(it catalog.Item) []string {
	d := func(t interface {
		IsZero() bool
		Format(string) string
	}) string {
		if t.IsZero() {
			return ""
		}
		return t.Format("2006-01-02")
	}
	price := ""
	if it.Price != 0 {
		price = fmt.Sprintf("%d.%02d", it.Price/100, it.Price%100)
	}
	hold, year := "", ""
	if it.HoldWaiting {
		hold = "yes"
	}
	if it.Year != 0 {
		year = fmt.Sprint(it.Year)
	}
	return []string{it.Barcode, it.Title, it.Author, it.CallNumber, it.Library, it.Location, it.Collection,
		it.ItemType, string(it.Status), d(it.DueDate), d(it.LastSeen), price, string(it.Kind), it.Container,
		it.AssetTag, it.Serial, it.RFID, hold, year, d(it.LastBorrowed), it.Condition}
}

func cmdSampleWalk(ctx context.Context, args []string) error {
	fs := newFlags("sample walk", "--location NAME > shelf.txt", `
Writes, one per line, the barcodes a student assistant scans walking one
shelving location of the catalog in the database, in shelf order, with
realistic mistakes: books missing, misshelved, strays from other sections,
unknown barcodes, misreads and double scans.`)
	db := dbFlag(fs)
	loc := fs.String("location", "", "shelving location to walk, e.g. Fiction")
	o := sample.DefaultWalk
	fs.IntVar(&o.Misshelve, "misshelve", o.Misshelve, "books moved out of order")
	fs.IntVar(&o.Strays, "strays", o.Strays, "books from other locations")
	fs.Float64Var(&o.Skip, "skip", o.Skip, "share of books not on the shelf")
	fs.IntVar(&o.Unknown, "unknown", o.Unknown, "unknown barcodes")
	fs.IntVar(&o.Misreads, "misreads", o.Misreads, "misread barcodes")
	fs.IntVar(&o.Rescans, "rescans", o.Rescans, "double scans")
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	if *loc == "" {
		return errors.New("--location is required (e.g. --location Fiction)")
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
	var section, others []catalog.Item
	x.Each(func(_ catalog.Ref, it *catalog.Item) bool {
		if it.Kind != catalog.KindBook {
			return true
		}
		if strings.EqualFold(it.Location, *loc) {
			section = append(section, *it)
		} else {
			others = append(others, *it)
		}
		return true
	})
	if len(section) == 0 {
		return fmt.Errorf("no books at location %q: import a catalog first (`tally sample collection > c.csv && tally import c.csv`)", *loc)
	}
	sortItems(section)
	sortItems(others)
	for _, bc := range sample.Walk(section, others, o) {
		fmt.Fprintln(stdout, bc)
	}
	return nil
}

func sortItems(items []catalog.Item) {
	keys := make(map[string]string, len(items))
	for _, it := range items {
		keys[it.Barcode] = callnumber.Key(it.CallNumber)
	}
	sortSlice(items, func(a, b catalog.Item) bool {
		if keys[a.Barcode] != keys[b.Barcode] {
			return keys[a.Barcode] < keys[b.Barcode]
		}
		return a.Barcode < b.Barcode
	})
}
