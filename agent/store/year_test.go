package store

import (
	"context"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
)

// The publication year is stored, loaded into the index and compared on
// re-import (a changed year is an update).
func TestImportKeepsYear(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	items := []catalog.Item{{Barcode: "1", Title: "A", Year: 1998}, {Barcode: "2", Title: "B"}}
	if _, err := db.Import(ctx, nil, "a.csv", "csv", items, true, 0); err != nil {
		t.Fatal(err)
	}
	x, err := db.LoadIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := x.Get("1"); a.Year != 1998 {
		t.Errorf("year %d after load, want 1998", a.Year)
	}
	items[1].Year = 2020
	res, err := db.Import(ctx, nil, "a.csv", "csv", items, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Updated != 1 || res.Unchanged != 1 {
		t.Errorf("re-import with a year set: %v", res)
	}
}
