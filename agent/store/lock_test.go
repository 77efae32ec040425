package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
)

// The lock's message names the holder and what to do; opens in one process
// share the lock, and closing the last releases it.
func TestWriterLockInProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tally.db")
	a, err := OpenWith(ctx, path, Opts{Holder: Holder{Command: "tally run", Agent: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetUI("http://127.0.0.1:8080/"); err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, path) // the same process: shared
	if err != nil {
		t.Fatalf("a second open in the same process: %v", err)
	}
	b.Close()
	// Another process sees the lock held and who holds it (WriteHolder uses
	// its own file description, as another process would).
	h, ok := WriteHolder(path)
	if !ok || h.PID != os.Getpid() || !h.Agent || h.UI != "http://127.0.0.1:8080/" || h.Command != "tally run" {
		t.Fatalf("holder %+v %v", h, ok)
	}
	msg := (&LockedError{Path: path, Holder: h}).Error()
	for _, want := range []string{"running agent", "tally run", "UI http://127.0.0.1:8080/", "stop the agent"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	if !errors.Is(&LockedError{}, ErrLocked) {
		t.Error("LockedError is not ErrLocked")
	}
	a.Close()
	if _, ok := WriteHolder(path); ok {
		t.Error("lock still held after the last close")
	}
}

// An import records what it changed under a new catalog revision; a writer
// that loaded the index at an earlier one gets exactly the changes.
func TestCatalogChangesSinceRevision(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	items := []catalog.Item{
		{Barcode: "A1", Title: "A", Status: catalog.StatusAvailable, Kind: catalog.KindBook},
		{Barcode: "B2", Title: "B", Status: catalog.StatusAvailable, Kind: catalog.KindBook},
		{Barcode: "C3", Title: "C", Status: catalog.StatusAvailable, Kind: catalog.KindBook},
	}
	if _, err := db.Import(ctx, nil, "f", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	rev1, _ := db.CatalogRev(ctx)
	// Unchanged rows do not move the revision.
	if _, err := db.Import(ctx, nil, "f", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	if r, _ := db.CatalogRev(ctx); r != rev1 {
		t.Fatalf("an import that changed nothing moved the revision %d → %d", rev1, r)
	}
	items[1].Title = "B, revised"
	items = append(items[1:], catalog.Item{Barcode: "D4", Title: "D", Status: catalog.StatusAvailable, Kind: catalog.KindBook})
	if _, err := db.Import(ctx, nil, "f", "csv", items, true, 0); err != nil {
		t.Fatal(err)
	}
	var removed, changed []string
	w := db.NewWriter(0)
	defer w.Close()
	err := w.Do(ctx, Func(func(tx *sql.Tx) error {
		return db.Tx(tx).CatalogChanges(rev1, func(bc string) { removed = append(removed, bc) },
			func(k catalog.Keyed) { changed = append(changed, k.Item.Barcode+"="+k.Item.Title) })
	}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(removed, ",") != "A1" || len(changed) != 2 || !strings.Contains(strings.Join(changed, ","), "B2=B, revised") {
		t.Errorf("changes since %d: removed %v, changed %v", rev1, removed, changed)
	}
}
