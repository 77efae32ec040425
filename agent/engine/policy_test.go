package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers"
)

// shelfLibrary is a section of n available books, some on loan, some
// already lost, missing or withdrawn, one in transit.
func shelfLibrary(n int) []catalog.Item {
	var items []catalog.Item
	for i := 0; i < n; i++ {
		st := catalog.StatusAvailable
		switch i % 20 {
		case 1:
			st = catalog.StatusCheckedOut
		case 2:
			st = catalog.StatusLost
		case 3:
			st = catalog.StatusMissing
		case 4:
			st = catalog.StatusWithdrawn
		case 5:
			st = catalog.StatusInTransit
		}
		items = append(items, catalog.Item{Barcode: fmt.Sprintf("B%04d", i), CallNumber: fmt.Sprintf("FIC %04d", i),
			Location: "Fiction", Status: st, Kind: catalog.KindBook})
	}
	return items
}

func summaryRow(t *testing.T, e *Engine, invID int64, key string) string {
	t.Helper()
	ts, err := e.Reports(context.Background(), invID, "summary")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ts[0].Rows {
		if r[0] == key {
			return r[1]
		}
	}
	t.Fatalf("summary has no %q: %v", key, ts[0].Rows)
	return ""
}

// The numbers: with "missing" among the statuses not expected,
// finalize marked the unseen missing, they dropped out of "expected", and
// the inventory said "3 of 3 seen (100%)" beside "missing 3818". Expected
// and progress now come from the scope as the inventory began.
func TestProgressDoesNotLieAfterFinalize(t *testing.T) {
	ctx := context.Background()
	items := shelfLibrary(200)
	e := newTestEngine(t, items)
	inv, err := e.DB.CreateInventory(ctx, "Fiction", WithDefaults(catalog.Scope{Locations: []string{"Fiction"}}), DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	for _, bc := range []string{"B0000", "B0020", "B0040"} {
		scan(t, e, s.ID, bc)
	}
	before, _ := e.InventoryProgress(ctx, inv.ID)
	const expected = 150 // 200 less 10 each on loan, lost, missing, withdrawn, in transit
	if before.Seen != 3 || before.Expected != expected {
		t.Fatalf("before finalize %d of %d, want 3 of %d", before.Seen, before.Expected, expected)
	}
	res, err := e.Finalize(ctx, inv.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Missing) != expected-3 || len(res.StillMissing) != 30 {
		t.Fatalf("finalize: %d missing, %d still missing; want %d and 30", len(res.Missing), len(res.StillMissing), expected-3)
	}
	for _, m := range res.Missing {
		if it, _ := e.Index.Get(m.Barcode); it.Status != catalog.StatusMissing {
			t.Fatalf("%s not marked missing in the index", m.Barcode)
		}
	}
	// A fresh engine (the CLI, a restart) counts from the store.
	for _, eng := range []*Engine{e, func() *Engine { x, _ := NewEngine(ctx, e.DB); t.Cleanup(func() { x.Close() }); return x }()} {
		p, err := eng.InventoryProgress(ctx, inv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Seen != 3 || p.Expected != expected {
			t.Errorf("after finalize: %d of %d seen, want 3 of %d (not 3 of 3)", p.Seen, p.Expected, expected)
		}
		if got := summaryRow(t, eng, inv.ID, "progress"); got != "2.0%" {
			t.Errorf("summary progress %s beside missing %s", got, summaryRow(t, eng, inv.ID, "missing"))
		}
		if got := summaryRow(t, eng, inv.ID, "missing"); got != fmt.Sprint(expected-3) {
			t.Errorf("summary missing %s, want %d", got, expected-3)
		}
	}
}

// One default policy: books on loan are accounted for (not expected) and,
// found on the shelf, counted apart — the expected count does not grow as
// they turn up; lost/missing/withdrawn books are still missing, never
// queued again as newly missing; in transit is not expected.
func TestDefaultPolicy(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, shelfLibrary(40))
	sc := WithDefaults(catalog.Scope{Locations: []string{"Fiction"}})
	for _, st := range []catalog.Status{catalog.StatusCheckedOut, catalog.StatusLost, catalog.StatusMissing, catalog.StatusWithdrawn, catalog.StatusInTransit} {
		if !strings.Contains(fmt.Sprint(sc.SkipStatuses), string(st)) {
			t.Errorf("default skips %v lack %s", sc.SkipStatuses, st)
		}
	}
	if got := WithDefaults(catalog.Scope{SkipStatuses: []catalog.Status{}}); len(got.SkipStatuses) != 0 {
		t.Errorf("an explicit empty list became %v", got.SkipStatuses)
	}
	inv, _ := e.DB.CreateInventory(ctx, "Fiction", sc, reconcile.DefaultPolicy)
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	var last *Result
	for _, bc := range []string{"B0000", "B0001", "B0021", "B0002"} { // available, two on loan, one lost
		r, err := e.Submit(ctx, s.ID, drivers.Read{Code: bc, Kind: drivers.KindScanner})
		if err != nil {
			t.Fatal(err)
		}
		last = r
	}
	if last.Expected != 30 || last.Seen != 1 || last.Also != 3 {
		t.Errorf("progress %d/%d +%d, want 1/30 +3 (on loan and found counted apart)", last.Seen, last.Expected, last.Also)
	}
	res, err := e.Finalize(ctx, inv.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Missing {
		it, _ := e.Index.Get(m.Barcode)
		if it.Status != catalog.StatusAvailable {
			t.Errorf("%s (%s) would be queued as newly missing", m.Barcode, it.Status)
		}
	}
	if len(res.Missing) != 29 || len(res.StillMissing) != 5 { // B0002 lost but found: neither
		t.Errorf("%d missing, %d still missing; want 29 and 5", len(res.Missing), len(res.StillMissing))
	}
}

// The out-of-order report names a missing left neighbour "(start of
// shelf)" — it said "(end of shelf)" for both ends.
func TestOutOfOrderShelfEnds(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, shelfLibrary(40))
	inv, _ := e.DB.CreateInventory(ctx, "Fiction", WithDefaults(catalog.Scope{Locations: []string{"Fiction"}}), DefaultPolicy())
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	// B0000 belongs before everything read; B0039 after.
	for _, bc := range []string{"B0006", "B0007", "B0000", "B0008", "B0009", "B0039", "B0010"} {
		scan(t, e, s.ID, bc)
	}
	ts, err := e.Reports(ctx, inv.ID, "out_of_order")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, r := range ts[0].Rows {
		got[r[0]] = [2]string{r[3], r[4]}
	}
	if g := got["B0000"]; g[0] != "(start of shelf)" || !strings.Contains(g[1], "B0006") {
		t.Errorf("B0000 belongs between %q and %q, want (start of shelf) and B0006", g[0], g[1])
	}
	if g := got["B0039"]; !strings.Contains(g[0], "B0010") || g[1] != "(end of shelf)" {
		t.Errorf("B0039 belongs between %q and %q, want B0010 and (end of shelf)", g[0], g[1])
	}
}
