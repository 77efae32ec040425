package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
)

func fill(t *testing.T, path string, n int) {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var items []catalog.Item
	for i := 0; i < n; i++ {
		items = append(items, catalog.Item{Barcode: fmt.Sprintf("B%06d", i), Title: strings.Repeat("t", 60),
			CallNumber: fmt.Sprintf("FIC %06d", i), Status: catalog.StatusAvailable, Kind: catalog.KindBook})
	}
	if _, err := db.Import(ctx, nil, "f", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// "(is the directory writable?)" only when the directory is the cause.
func TestOpenErrorHints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, err := Open(ctx, filepath.Join(dir, "no", "such", "tally.db"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 500), 0o644)
	_, err = Open(ctx, junk)
	if err == nil || strings.Contains(err.Error(), "writable") || strings.Contains(err.Error(), "directory") {
		t.Errorf("a file that is not a database blames the directory: %v", err)
	}
	_, err = Open(ctx, dir)
	if err == nil || strings.Contains(err.Error(), "writable") {
		t.Errorf("a directory given as the database: %v", err)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o555)
		defer os.Chmod(ro, 0o755)
		if _, err = Open(ctx, filepath.Join(ro, "tally.db")); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("read-only directory: %v", err)
		}
	}
}

// A database that fails SQLite's check is refused for writing, with a
// clear message, and left exactly as it was; reading it is still allowed.
func TestDamagedDatabaseRefusedForWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tally.db")
	fill(t, path, 3000)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Scribble over a page in the middle of the items table.
	const page = 4096
	mid := len(b) / page / 2 * page
	copy(b[mid+100:mid+page-100], bytes.Repeat([]byte{0x5a}, page-200))
	os.WriteFile(path, b, 0o644)
	_, err = Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("open of a damaged database: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, b) {
		t.Error("the damaged file was changed")
	}
	if _, ok := WriteHolder(path); ok {
		t.Error("the writer lock is still held after the refused open")
	}
}

// The integrity check runs at an open only when no clean close checked the
// file as it is; a damaged file is refused however it got damaged — after
// a clean close (even with its modification time set back), in a copy, or
// during a session (the close's own check then records nothing) — and
// nothing is written to it.
func TestIntegrityCheckSkippedOnlyForTheFileChecked(t *testing.T) {
	ctx := context.Background()
	scribble := func(t *testing.T, path string) []byte {
		t.Helper()
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fi, _ := f.Stat()
		const page = 4096
		mid := fi.Size() / page / 2 * page
		if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, page-200), mid+100); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		return b
	}
	refused := func(t *testing.T, path string, want []byte) {
		t.Helper()
		db, err := Open(ctx, path)
		if err == nil {
			db.Close()
			t.Fatal("a damaged database was opened for writing")
		}
		if !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "nothing was written") {
			t.Fatalf("open of a damaged database: %v", err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, want) {
			t.Error("the damaged file was changed")
		}
	}
	opens := func(t *testing.T, path string, wantCheck bool) {
		t.Helper()
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if db.checkedAtOpen != wantCheck {
			t.Errorf("integrity check at open: %v, want %v", db.checkedAtOpen, wantCheck)
		}
		if _, err := os.Stat(db.checkedPath()); err == nil {
			t.Error("the clean-close record is still there while the database is open")
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("clean close", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tally.db")
		fill(t, path, 3000)
		opens(t, path, false)
		opens(t, path, false)
	})
	t.Run("damaged after a clean close, times set back", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "tally.db")
		fill(t, path, 3000)
		fi, _ := os.Stat(path)
		b := scribble(t, path)
		os.Chtimes(path, fi.ModTime(), fi.ModTime())
		refused(t, path, b)
	})
	t.Run("copied", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "tally.db")
		fill(t, path, 3000)
		cp := filepath.Join(dir, "copy.db")
		for _, ext := range []string{"", ".checked"} {
			b, _ := os.ReadFile(path + ext)
			os.WriteFile(cp+ext, b, 0o644)
		}
		opens(t, cp, true)
	})
	// Damaged during a session: the close's own check then records
	// nothing. cached: the writer read the pages before another program
	// wrote them, and a check on the writer's connection read its cached,
	// undamaged copies.
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("damaged during a session, pages in the writer's cache %v", cached), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tally.db")
			fill(t, path, 3000)
			db, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.w.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				t.Fatal(err)
			}
			if cached {
				var n, l int
				if err := db.w.QueryRow("SELECT count(*), sum(length(title)) FROM items").Scan(&n, &l); err != nil {
					t.Fatal(err)
				}
			}
			scribble(t, path)
			db.Close()
			if _, err := os.Stat(db.checkedPath()); err == nil {
				t.Fatal("a close recorded a damaged file as checked")
			}
			b, _ := os.ReadFile(path)
			refused(t, path, b)
		})
	}
	t.Run("left by a crash", func(t *testing.T) {
		// The files as a crash leaves them: copied while open.
		dir := t.TempDir()
		path := filepath.Join(dir, "tally.db")
		fill(t, path, 3000)
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.w.Exec("UPDATE items SET title = 'x' WHERE barcode = 'B000001'"); err != nil {
			t.Fatal(err)
		}
		cp := filepath.Join(dir, "crash.db")
		for _, ext := range []string{"", "-wal"} {
			b, _ := os.ReadFile(path + ext)
			os.WriteFile(cp+ext, b, 0o644)
		}
		db.Close()
		opens(t, cp, true)
	})
}

// A writer's Close checkpoints the WAL: tally.db alone is then a complete
// copy. The read pool closing last used to leave the WAL behind, since a
// read-only connection cannot checkpoint.
func TestCloseLeavesCompleteFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "tally.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Import(ctx, nil, "f", "csv", []catalog.Item{{Barcode: "A1", Status: catalog.StatusAvailable, Kind: catalog.KindBook}}, false, 0); err != nil {
		t.Fatal(err)
	}
	// Readers in the pool, as every command leaves them.
	for i := 0; i < 3; i++ {
		if _, err := db.Inventories(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	db.SQL.QueryRow("SELECT count(*) FROM items").Scan(&n)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("%d bytes left in the WAL after Close", fi.Size())
	}
	// Only the main file, copied elsewhere, has everything.
	b, _ := os.ReadFile(path)
	cp := filepath.Join(t.TempDir(), "copy.db")
	os.WriteFile(cp, b, 0o644)
	c, err := OpenWith(ctx, cp, Opts{Mode: ReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got int
	if err := c.SQL.QueryRow("SELECT count(*) FROM items").Scan(&got); err != nil || got != 1 {
		t.Errorf("the copied file has %d items (%v), want 1", got, err)
	}
}

// Read-only opens take no lock and write nothing: they work beside a
// writer, and on a file this user may not write.
func TestReadOnlyOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "tally.db")
	fill(t, path, 10)
	w, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenWith(ctx, path, Opts{Mode: ReadOnly})
	if err != nil {
		t.Fatalf("read-only open beside the writer: %v", err)
	}
	var n int
	if err := r.SQL.QueryRow("SELECT count(*) FROM items").Scan(&n); err != nil || n != 10 {
		t.Errorf("read %d items (%v)", n, err)
	}
	if _, err := r.CreateInventory(ctx, "x", catalog.Scope{}, reconcile.DefaultPolicy); err == nil {
		t.Error("a read-only open wrote")
	}
	r.Close()
	w.Close()
	if _, err := OpenWith(ctx, filepath.Join(dir, "absent.db"), Opts{Mode: ReadOnly}); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("read-only open of a missing file: %v", err)
	}
}

// A read-only open checks the schema version it read when opening: a newer
// database asks for a newer tally, an older one for a writing command first.
func TestReadOnlyOpenSchemaVersion(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		version int
		want    string
	}{
		{len(migrations) + 1, "newer than this tally"},
		{len(migrations) - 1, "written by an older tally"},
		{len(migrations), ""},
	} {
		path := filepath.Join(t.TempDir(), "tally.db")
		fill(t, path, 1)
		w, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.w.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", tc.version)); err != nil {
			t.Fatal(err)
		}
		w.Close()
		r, err := OpenWith(ctx, path, Opts{Mode: ReadOnly})
		if tc.want == "" {
			if err != nil {
				t.Errorf("schema %d: %v", tc.version, err)
			} else {
				r.Close()
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), fmt.Sprintf("%d", tc.version)) {
			t.Errorf("read-only open of schema %d: %v; want %q", tc.version, err, tc.want)
		}
		if err == nil {
			r.Close()
		}
	}
}
