package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestImportCountsAndReplace(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	items := []catalog.Item{
		{Barcode: "a1", Title: "A", CallNumber: "FIC A", Status: catalog.StatusAvailable, Kind: catalog.KindBook},
		{Barcode: "B2", Title: "B", CallNumber: "599.75 ROW", Status: catalog.StatusAvailable, Kind: catalog.KindBook},
	}
	x := catalog.NewIndex(0)
	res, err := db.Import(ctx, x, "f", "csv", items, false, 0)
	if err != nil || res.Added != 2 {
		t.Fatalf("first import: %v %v", res, err)
	}
	items[1].Title = "B, second edition"
	items = append(items, catalog.Item{Barcode: "C3", Status: catalog.StatusAvailable, Kind: catalog.KindBook})
	res, err = db.Import(ctx, x, "f", "csv", items, false, 0)
	if err != nil || res.Added != 1 || res.Updated != 1 || res.Unchanged != 1 || res.Removed != 0 {
		t.Fatalf("second import: %v %v", res, err)
	}
	res, err = db.Import(ctx, x, "f", "csv", items[1:], true, 0)
	if err != nil || res.Removed != 1 || res.Unchanged != 2 {
		t.Fatalf("replace: %v %v", res, err)
	}
	if _, ok := x.Get("A1"); ok {
		t.Error("removed item still in the index")
	}
	// The index built from the store equals the one kept up to date in place.
	y, err := db.LoadIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != x.Len() {
		t.Fatalf("loaded %d items, in-place index has %d", y.Len(), x.Len())
	}
	for _, bc := range x.Barcodes() {
		a, _ := x.Get(bc)
		b, _ := y.Get(bc)
		if a != b {
			t.Errorf("%s: in place %+v, loaded %+v", bc, a, b)
		}
	}
	if y.SortKeyOf("B2") != callnumber.Key("599.75 ROW") {
		t.Error("stored sort key differs from callnumber.Key")
	}
}

func TestSortKeysRefreshedWhenVersionChanges(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	if _, err := db.Import(ctx, nil, "f", "csv", []catalog.Item{{Barcode: "X", CallNumber: "QA76.73 .P98 2020", Status: "available", Kind: "book"}}, false, 0); err != nil {
		t.Fatal(err)
	}
	db.w.Exec("UPDATE items SET sort_key = 'stale'")
	db.w.Exec("UPDATE meta SET value = 'old' WHERE key = 'sort_key_version'")
	db.Close()
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var k string
	db2.SQL.QueryRow("SELECT sort_key FROM items").Scan(&k)
	if k != callnumber.Key("QA76.73 .P98 2020") {
		t.Errorf("sort key %q not refreshed", k)
	}
}

type testJob struct {
	run                func(tx *sql.Tx) error
	committed, aborted int
}

func (j *testJob) Run(tx *sql.Tx) error { return j.run(tx) }
func (j *testJob) Committed()           { j.committed++ }
func (j *testJob) Aborted(error)        { j.aborted++ }

// A job that fails rolls back alone; the others in its transaction commit.
func TestWriterSavepoints(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	w := db.NewWriter(64)
	defer w.Close()
	if _, err := db.w.Exec("CREATE TABLE t (v INTEGER UNIQUE)"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	jobs := make([]*testJob, 40)
	errs := make([]error, 40)
	for i := range jobs {
		v := i % 20 // each value twice: one of the two must fail
		jobs[i] = &testJob{run: func(tx *sql.Tx) error { _, err := tx.Exec("INSERT INTO t VALUES (?)", v); return err }}
		wg.Add(1)
		go func(i int) { defer wg.Done(); errs[i] = w.Do(ctx, jobs[i]) }(i)
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if jobs[i].committed+jobs[i].aborted != 0 {
				t.Errorf("job %d failed in Run but got Committed/Aborted", i)
			}
		} else if jobs[i].committed != 1 {
			t.Errorf("job %d succeeded but Committed was called %d times", i, jobs[i].committed)
		}
	}
	var n int
	db.SQL.QueryRow("SELECT count(*) FROM t").Scan(&n)
	if failed != 20 || n != 20 {
		t.Errorf("%d failed, %d rows; want 20 and 20", failed, n)
	}
	w.Close()
	if err := w.Do(ctx, &testJob{run: func(*sql.Tx) error { return nil }}); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close: %v", err)
	}
}

func TestSessionsLifecycle(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inv, err := db.CreateInventory(ctx, "Spring", catalog.Scope{}, defaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateInventory(ctx, "Spring", catalog.Scope{}, defaultPolicy()); err == nil {
		t.Error("two inventories with one name")
	}
	if _, err := db.StartSession(ctx, inv.ID, "cart", "", "", ""); err == nil {
		t.Error("cart session without a cart")
	}
	s, _ := db.StartSession(ctx, inv.ID, "shelf", "", "ana", "")
	for _, st := range []SessionState{SessionPaused, SessionOpen, SessionEnded} {
		got, err := db.SetSessionState(ctx, s.ID, st)
		if err != nil || got.State != st {
			t.Fatalf("→ %s: %v %v", st, got, err)
		}
	}
	if _, err := db.SetSessionState(ctx, s.ID, "open"); err == nil {
		t.Error("an ended session was reopened")
	}
	if _, err := db.Session(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing session: %v", err)
	}
}
