package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
)

// A finalize runs the same statements however many items are missing:
// their outbox rows and status changes are set-based, never one statement
// (or one round of Go JSON) per item.
func TestFinalizeStatementsFixed(t *testing.T) {
	sizes := []int{1, 40, 400}
	var items []catalog.Item
	for _, n := range sizes {
		for i := range n {
			it := catalog.Item{Barcode: fmt.Sprintf("L%d-%04d", n, i), Title: fmt.Sprintf("Book %d", i),
				CallNumber: fmt.Sprintf("FIC %04d", i), Location: fmt.Sprintf("L%d", n), Price: int64(i)}
			if i%3 == 1 {
				it.Container, it.Kind = fmt.Sprintf("cart-%d", n), catalog.KindEquipment
			}
			items = append(items, it)
		}
	}
	e := newTestEngine(t, items)
	ctx := context.Background()
	per := map[int]int64{}
	for _, n := range sizes {
		inv, err := e.DB.CreateInventory(ctx, fmt.Sprintf("L%d", n), catalog.Scope{Locations: []string{fmt.Sprintf("L%d", n)}},
			reconcile.Policy{MissingLostValue: 4})
		if err != nil {
			t.Fatal(err)
		}
		before := e.DB.Statements()
		res, err := e.Finalize(ctx, inv.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		per[n] = e.DB.Statements() - before
		if len(res.Missing) != n || res.Outbox["missing"]+res.Outbox["cart_missing"] != n {
			t.Fatalf("finalize of %d items: %d missing, outbox %v", n, len(res.Missing), res.Outbox)
		}
		for _, m := range res.Missing {
			if it, _ := e.Index.Get(m.Barcode); it.Status != catalog.StatusMissing || it.CallNumber != m.CallNumber {
				t.Fatalf("%s in the index after finalize: %+v", m.Barcode, it)
			}
		}
	}
	if per[1] != per[40] || per[1] != per[400] {
		t.Errorf("statements of a finalize by missing items: %v, want the same for every size", per)
	}
	if k := outboxKinds(t, e); k["missing"]+k["cart_missing"] != 441 {
		t.Errorf("outbox %v, want 441 missing in all", k)
	}
	// The catalog table has the statuses too: a fresh scan sees them.
	x, err := e.DB.ScanIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if got, _ := x.Get(it.Barcode); got.Status != catalog.StatusMissing {
			t.Fatalf("%s: status %s in the store after finalize", it.Barcode, got.Status)
		}
	}
}

// The missing report of a finalized inventory lists its items in shelf
// order, as the dry run did, though the outbox holds them in barcode order.
func TestFinalizedMissingInShelfOrder(t *testing.T) {
	var items []catalog.Item
	for i := range 30 {
		it := catalog.Item{Barcode: fmt.Sprintf("B%03d", 99-i), Title: fmt.Sprintf("Book %d", i),
			CallNumber: fmt.Sprintf("FIC %03d", i), Location: "Fiction"}
		if i%4 == 0 {
			it.Container, it.Kind = "cart-1", catalog.KindEquipment
		}
		items = append(items, it)
	}
	e := newTestEngine(t, items)
	ctx := context.Background()
	inv, err := e.DB.CreateInventory(ctx, "order", catalog.Scope{}, reconcile.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	dry, err := e.Finalize(ctx, inv.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Finalize(ctx, inv.ID, false); err != nil {
		t.Fatal(err)
	}
	tabs, err := e.Reports(ctx, inv.ID, "missing")
	if err != nil {
		t.Fatal(err)
	}
	if len(tabs) != 1 || len(tabs[0].Rows) != len(dry.Missing) {
		t.Fatalf("missing report: %+v, want %d rows", tabs, len(dry.Missing))
	}
	for i, row := range tabs[0].Rows {
		if m := dry.Missing[i]; row[0] != m.Barcode || row[5] != m.Container {
			t.Fatalf("row %d: %v, want %s (cart %q) as the dry run listed", i, row, m.Barcode, m.Container)
		}
	}
}
