package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers"
)

// The statements a read costs, counted by the store: none of its own — its
// journal row, a first sighting flagged in it, goes with the batch's others
// in one statement — and each batch six for first sightings (catalog
// revision, pull lists and the next journal id before, journal rows, outbox
// rows and last-seen dates after) and four for repeats (no outbox rows or
// dates). A change that adds a statement per read fails here before it
// shows in a benchmark.
func TestStatementsPerRead(t *testing.T) {
	const n = 300
	var items []catalog.Item
	for i := range n {
		items = append(items, catalog.Item{Barcode: fmt.Sprintf("S%04d", i), CallNumber: fmt.Sprintf("FIC %04d", i), Location: "Fiction"})
	}
	e := newTestEngine(t, items)
	ctx := context.Background()
	inv, err := e.DB.CreateInventory(ctx, "count", catalog.Scope{}, reconcile.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	var batches atomic.Int64
	e.Writer().OnBatch = func(int, time.Duration, error) { batches.Add(1) }
	pass := func(name string, perRead, perBatch int64) {
		t.Helper()
		batches.Store(0)
		before := e.DB.Statements()
		submitAll(t, e, s.ID, items)
		got, b := e.DB.Statements()-before, batches.Load()
		if want := perRead*n + perBatch*b; got != want {
			t.Errorf("%s: %d reads in %d batches ran %d statements, want %d (%d a read, %d a batch)", name, n, b, got, want, perRead, perBatch)
		}
	}
	pass("first sightings", 0, 6)
	pass("duplicates", 0, 4)
	// The journal holds every read; the outbox a "seen" row per item.
	if c, _ := e.DB.CountReads(ctx); c != 2*n {
		t.Errorf("%d journal rows, want %d", c, 2*n)
	}
	if k := outboxKinds(t, e); k["seen"] != n {
		t.Errorf("outbox %v, want %d seen", k, n)
	}
	// The last-seen dates the batches wrote are in the store.
	x, err := e.DB.ScanIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if got, _ := x.Get(it.Barcode); got.LastSeen.IsZero() {
			t.Fatalf("%s has no last-seen date in the store", it.Barcode)
		}
	}
}

// An import through the engine puts the items in the index itself: the
// next read's batch does not read the catalog back from the store. An
// import by anyone else still is read back.
func TestEngineImportNotReadBack(t *testing.T) {
	e := newTestEngine(t, nil)
	ctx := context.Background()
	reloaded := 0
	e.OnCatalog = func(changed, removed int) { reloaded += changed }
	items := []catalog.Item{{Barcode: "I1", Status: catalog.StatusAvailable, Kind: catalog.KindBook}, {Barcode: "I2", Status: catalog.StatusAvailable, Kind: catalog.KindBook}}
	if _, err := e.Import(ctx, "f", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	inv, _ := e.DB.CreateInventory(ctx, "i", catalog.Scope{}, reconcile.Policy{})
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	if r := scan(t, e, s.ID, "I1"); r.Barcode != "I1" || reloaded != 0 {
		t.Fatalf("read %q; %d items read back after the engine's own import", r.Barcode, reloaded)
	}
	items[1].Title = "changed elsewhere"
	if _, err := e.DB.Import(ctx, nil, "f", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	scan(t, e, s.ID, "I2")
	if it, _ := e.Index.Get("I2"); reloaded == 0 || it.Title != "changed elsewhere" {
		t.Errorf("another import: %d read back, title %q", reloaded, it.Title)
	}
}

// The allocations a read costs on the way through the engine — decision,
// journal row, outbox rows, commit, result — with a holds list in the store
// (so every read asks whether to pull its item) and reads sharing batches
// as the device runners keep them. A per-read query or a copy of an Item
// shows here as a jump, before it shows in a benchmark.
func TestAllocsPerRead(t *testing.T) {
	const n = 2000
	var items []catalog.Item
	for i := range n {
		items = append(items, catalog.Item{Barcode: fmt.Sprintf("S%05d", i), CallNumber: fmt.Sprintf("FIC %05d", i), Location: "Fiction",
			HoldWaiting: i%100 == 0})
	}
	e := newTestEngine(t, items)
	ctx := context.Background()
	if err := e.DB.SetHolds(ctx, []catalog.Hold{{Barcode: "S00001", Pickup: "MPL", Source: "koha"}}); err != nil {
		t.Fatal(err)
	}
	inv, _ := e.DB.CreateInventory(ctx, "count", catalog.Scope{}, reconcile.Policy{})
	s, _ := e.StartSession(ctx, inv.ID, "shelf", "", "", "")
	run := func(from int) float64 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		submitAll(t, e, s.ID, items[from:from+n/2])
		runtime.ReadMemStats(&m1)
		return float64(m1.Mallocs-m0.Mallocs) / float64(n/2)
	}
	run(0) // warm: the inventory's state, prepared statements, buffers
	// First sightings: a journal row and a "seen" outbox row each.
	const most = 30
	if got := run(n / 2); got > most {
		t.Errorf("%.1f allocations a read, want at most %d", got, most)
	} else {
		t.Logf("%.1f allocations a read", got)
	}
}

// submitAll reads each item's barcode into the session with all the reads
// in flight at once, as the device runners keep them, so they share
// batches, and waits until every one is committed.
func submitAll(t *testing.T, e *Engine, sessionID int64, items []catalog.Item) {
	t.Helper()
	waits := make([]func() (*Result, error), 0, len(items))
	for _, it := range items {
		w, err := e.SubmitAsync(context.Background(), sessionID, drivers.Read{Code: it.Barcode, Kind: drivers.KindScanner})
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	for _, w := range waits {
		if _, err := w(); err != nil {
			t.Fatal(err)
		}
	}
}
