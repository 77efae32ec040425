package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
)

// Import writes rows in chunks of importChunk: every row of full chunks,
// of the last partial one, and a barcode repeated within one statement
// must end up stored as one statement per row would store them.
func TestImportChunks(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{1, importChunk - 1, importChunk, importChunk + 1, 3*importChunk + 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			db, _ := openTest(t)
			var items []catalog.Item
			for i := range n {
				items = append(items, catalog.Item{Barcode: fmt.Sprintf("b%05d", i), Title: fmt.Sprint("T", i),
					CallNumber: fmt.Sprintf("FIC %03d", i), Status: catalog.StatusAvailable, Kind: catalog.KindBook, Price: int64(i)})
			}
			// The first item again at the end, changed: the later copy wins.
			dup := items[0]
			dup.Title = "last copy"
			items = append(items, dup)
			res, err := db.Import(ctx, nil, "f", "csv", items, false, 0)
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != n+1 {
				t.Errorf("added %d, want %d (the repeated barcode counts as it did)", res.Added, n+1)
			}
			x, err := db.LoadIndex(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if x.Len() != n {
				t.Fatalf("stored %d items, want %d", x.Len(), n)
			}
			for i, want := range items[:n] {
				got, ok := x.Get(want.Barcode)
				if i == 0 {
					want.Title = "last copy"
				}
				want.Barcode = catalog.NormalizeID(want.Barcode)
				if !ok || got != want {
					t.Fatalf("item %d: stored %+v, want %+v", i, got, want)
				}
			}
		})
	}
}
