package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
)

// sameAsStore fails unless x holds exactly what a scan of the store gives.
func sameAsStore(t *testing.T, db *DB, x *catalog.Index, step string) {
	t.Helper()
	y, err := db.ScanIndex(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if x.Len() != y.Len() {
		t.Fatalf("%s: index has %d items, the store %d", step, x.Len(), y.Len())
	}
	for _, bc := range y.Barcodes() {
		want, _ := y.Get(bc)
		got, ok := x.Get(bc)
		if !ok || got != want || x.SortKeyOf(bc) != y.SortKeyOf(bc) {
			t.Fatalf("%s: %s is %+v in the index, %+v in the store", step, bc, got, want)
		}
	}
	if fmt.Sprint(x.Containers()) != fmt.Sprint(y.Containers()) {
		t.Fatalf("%s: carts %v, the store has %v", step, x.Containers(), y.Containers())
	}
}

func randomItem(r *rand.Rand) catalog.Item {
	it := catalog.Item{Barcode: fmt.Sprintf("B%03d", r.IntN(120)), Title: fmt.Sprint("Title ", r.IntN(5)),
		CallNumber: fmt.Sprintf("FIC %c%c", 'A'+r.IntN(26), 'A'+r.IntN(26)), Location: []string{"Fiction", "Reference"}[r.IntN(2)],
		Status: catalog.StatusAvailable, Kind: catalog.KindBook, Price: int64(r.IntN(3000))}
	if r.IntN(5) == 0 {
		it.Kind, it.AssetTag, it.Container = catalog.KindEquipment, "AT"+it.Barcode, fmt.Sprint("CART-", r.IntN(3))
	}
	return it
}

// inPlace changes items the way the agent does outside an import: a
// read's last-seen date, a found item's status, finalize's missing.
func inPlace(t *testing.T, db *DB, r *rand.Rand) {
	t.Helper()
	tx, err := db.w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	bc := fmt.Sprintf("B%03d", r.IntN(120))
	switch r.IntN(3) {
	case 0:
		_, err = tx.Exec(qMarkSeen, 20000+r.IntN(100), bc, 20000+r.IntN(100))
	case 1:
		err = db.Tx(tx).SetItemStatus(bc, catalog.StatusAvailable)
	case 2:
		_, err = tx.Exec("UPDATE items SET status = 'missing', due_date = 0 WHERE barcode IN (?, ?)", bc, fmt.Sprintf("B%03d", r.IntN(120)))
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Through random imports, in-place changes, restarts, damaged and foreign
// snapshot files, the index LoadIndex builds always equals a scan of the
// store: a stale snapshot is never used.
func TestIndexSnapshotNeverStale(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	other := filepath.Join(dir, "other.db")
	// Another database with its own snapshot, to be copied in by mistake.
	odb, err := Open(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	odb.Import(ctx, nil, "f", "csv", []catalog.Item{{Barcode: "X1", Status: "available", Kind: "book"}}, false, 0)
	if _, err := odb.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	odb.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	r := rand.New(rand.NewPCG(3, 4))
	used, caught := 0, 0
	for step := range 300 {
		name := fmt.Sprint("step ", step)
		switch op := r.IntN(8); op {
		case 0, 1: // import: adds and updates, sometimes a full replace
			var items []catalog.Item
			for range 1 + r.IntN(40) {
				items = append(items, randomItem(r))
			}
			if _, err := db.Import(ctx, nil, "f", "csv", items, op == 1, 0); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		case 2, 3:
			inPlace(t, db, r)
		case 4: // restart
			db.Close()
			if db, err = Open(ctx, path); err != nil {
				t.Fatal(err)
			}
		case 5: // a damaged snapshot
			if data, err := os.ReadFile(db.SnapshotPath()); err == nil && len(data) > 0 {
				data[r.IntN(len(data))] ^= 1 << r.IntN(8)
				os.WriteFile(db.SnapshotPath(), data, 0o644)
			}
		case 6: // another database's snapshot
			data, _ := os.ReadFile(other + ".index")
			os.WriteFile(db.SnapshotPath(), data, 0o644)
		}
		x, info, err := db.LoadIndexInfo(ctx)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		db.bg.Wait()
		sameAsStore(t, db, x, name)
		if info.FromSnapshot {
			used++
			if info.CaughtUp > 0 {
				caught++
			}
		}
	}
	// The test means something only if both paths ran often.
	if used < 50 || caught < 20 {
		t.Fatalf("snapshot used %d times, caught up %d times: too few to trust the test", used, caught)
	}
}

// A backup restored under a newer snapshot, which then changes as far as
// the snapshot's counters: the counters match, the items do not; the
// snapshot's nonce, never recorded in the backup, refuses it.
func TestIndexSnapshotRefusedAfterRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "t.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a := []catalog.Item{{Barcode: "A", Title: "first", Status: "available", Kind: "book"}}
	db.Import(ctx, nil, "f", "csv", a, false, 0)
	db.Close()
	backup, _ := os.ReadFile(path)

	db, _ = Open(ctx, path)
	a[0].Title = "second"
	db.Import(ctx, nil, "f", "csv", a, false, 0)
	if _, err := db.LoadIndex(ctx); err != nil { // writes the snapshot at rev 2
		t.Fatal(err)
	}
	db.Close()

	os.WriteFile(path, backup, 0o644) // the backup, at rev 1
	db, _ = Open(ctx, path)
	defer db.Close()
	a[0].Title = "third"
	db.Import(ctx, nil, "f", "csv", a, false, 0) // rev 2 again, other items
	x, info, err := db.LoadIndexInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.FromSnapshot {
		t.Error("the snapshot of a history the restored database never had was used")
	}
	if it, _ := x.Get("A"); it.Title != "third" {
		t.Errorf("title %q, want third", it.Title)
	}
}

// The common start: nothing changed since the snapshot, or a few reads.
func TestIndexSnapshotUsed(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	var items []catalog.Item
	for i := range 50 {
		items = append(items, catalog.Item{Barcode: fmt.Sprint("I", i), CallNumber: "FIC X", Status: "available", Kind: "book"})
	}
	db.Import(ctx, nil, "f", "csv", items, false, 0)
	if _, info, _ := db.LoadIndexInfo(ctx); info.FromSnapshot || info.Why != "no index snapshot yet" {
		t.Fatalf("first load: %+v", info)
	}
	db.Close()
	if fi, err := os.Stat(path + ".index"); err != nil || fi.Size() == 0 {
		t.Fatalf("no snapshot written: %v", err)
	}
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	x, info, err := db2.LoadIndexInfo(ctx)
	if err != nil || !info.FromSnapshot || info.CaughtUp != 0 {
		t.Fatalf("second load: %+v, %v", info, err)
	}
	sameAsStore(t, db2, x, "unchanged")
	tx, _ := db2.w.Begin()
	if err := db2.Tx(tx).SetItemStatus("I3", catalog.StatusLost); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	x, info, _ = db2.LoadIndexInfo(ctx)
	if !info.FromSnapshot || info.CaughtUp == 0 {
		t.Fatalf("after a change: %+v", info)
	}
	sameAsStore(t, db2, x, "changed")
	// A process that only imports (Catalog mode) never writes one.
	os.Remove(path + ".index")
	c, err := OpenWith(ctx, path, Opts{Mode: Catalog})
	if err != nil {
		t.Fatal(err)
	}
	c.LoadIndex(ctx)
	c.Close()
	if _, err := os.Stat(path + ".index"); err == nil {
		t.Error("a catalog-mode process wrote a snapshot")
	}
}

// A snapshot another tally version wrote (its checksum right, its version
// not this one's) is not read: the index is rebuilt from the items table,
// saying why, and the snapshot written again in this version.
func TestIndexSnapshotOtherVersionRebuilt(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	var items []catalog.Item
	for i := range 20 {
		items = append(items, catalog.Item{Barcode: fmt.Sprint("V", i), Title: "T", CallNumber: "FIC X", Status: "available", Kind: "book"})
	}
	db.Import(ctx, nil, "f", "csv", items, false, 0)
	db.LoadIndex(ctx)
	db.bg.Wait()
	data, err := os.ReadFile(path + ".index")
	if err != nil {
		t.Fatal(err)
	}
	// Version 1, the varint-per-field format before this one.
	binary.LittleEndian.PutUint32(data[8:], 1)
	binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.Checksum(data[:len(data)-4], crc32.MakeTable(crc32.Castagnoli)))
	if err := os.WriteFile(path+".index", data, 0o600); err != nil {
		t.Fatal(err)
	}
	x, info, err := db.LoadIndexInfo(ctx)
	if err != nil || info.FromSnapshot || !strings.Contains(info.Why, "version 1") {
		t.Fatalf("old version: %+v, %v", info, err)
	}
	sameAsStore(t, db, x, "rebuilt")
	db.bg.Wait()
	if _, info, err := db.LoadIndexInfo(ctx); err != nil || !info.FromSnapshot {
		t.Fatalf("after the rebuild: %+v, %v", info, err)
	}
}
