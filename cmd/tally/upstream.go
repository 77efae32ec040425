package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/sync/koha"
	"github.com/tally-inventory/tally/sync/snipeit"
)

// The importers in sync/ return their own records (sync imports nothing
// from agent); these map them to catalog items.

// kohaItems fetches Koha's items and maps them through the catalog
// importer. When some cannot be used, none are returned: the error lists
// them (catalog.RowErrors).
func kohaItems(ctx context.Context, o koha.Opts) ([]catalog.Item, error) {
	t, err := koha.FetchItems(ctx, o, func(n int) { fmt.Fprintf(os.Stderr, "\rfetched %d items", n) })
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	recs, bad, err := catalog.ParseTable(t.Name, t.Columns, t.Rows, t.Lines, t.Notes)
	if err != nil {
		return nil, fmt.Errorf("koha: import items: %w", err)
	}
	if len(bad) > 0 {
		return nil, catalog.RowErrors(bad)
	}
	items := make([]catalog.Item, len(recs))
	for i, r := range recs {
		items[i] = r.Item
	}
	return items, nil
}

// cartItem is a device Snipe-IT lists in a cart, as an equipment item
// that belongs in that cart.
func cartItem(d snipeit.Device) catalog.Item {
	return catalog.Item{Barcode: catalog.NormalizeID(d.Tag), AssetTag: d.Tag, Serial: d.Serial, Title: d.Title,
		ItemType: d.Type, Kind: catalog.KindEquipment, Container: d.Cart, Location: d.Location,
		LastSeen: d.LastAudit, Status: catalog.Status(d.Status)}
}
