package benchdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/sample"
)

// A kept database is made once per key, read-only; a new generator
// option, schema or recipe makes another; copies are the caller's own.
func TestPathKeepsOnePerKey(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	made := 0
	mk := func(_ context.Context, path string, items []catalog.Item) error {
		made++
		return os.WriteFile(path, []byte(items[0].Barcode), 0o644)
	}
	o := sample.DefaultOpts
	o.Books = 500
	p1, err := Path(o, 7, "r1", mk)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Path(o, 7, "r1", mk)
	if err != nil || p2 != p1 || made != 1 {
		t.Fatalf("second Path: %s %v, made %d times", p2, err, made)
	}
	if fi, err := os.Stat(p1); err != nil || fi.Mode().Perm()&0o222 != 0 {
		t.Errorf("kept database is writable: %v %v", fi.Mode(), err)
	}
	// One no run has used for long is removed; the one in use is kept.
	stale := filepath.Join(Dir(), "db-stale")
	os.MkdirAll(stale, 0o755)
	old := time.Now().Add(-3 * unusedFor)
	os.Chtimes(stale, old, old)
	os.Chtimes(filepath.Dir(p1), old, old)
	if p3, err := Path(o, 7, "r1", mk); err != nil || p3 != p1 || made != 1 {
		t.Fatalf("third Path: %s %v, made %d times", p3, err, made)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("an unused kept database was not removed")
	}
	if _, err := os.Stat(p1); err != nil {
		t.Errorf("the database in use was removed: %v", err)
	}
	o2 := o
	o2.Seed++
	for _, c := range []struct {
		o      sample.Opts
		schema int
		recipe string
	}{{o2, 7, "r1"}, {o, 8, "r1"}, {o, 7, "r2"}} {
		if Key(c.o, c.schema, c.recipe) == Key(o, 7, "r1") {
			t.Errorf("same key for %+v", c)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(Dir(), "*.tmp*")); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	os.WriteFile(p1+".index", []byte("snap"), 0o644)
	c1, err := RunCopy(p1)
	if err != nil {
		t.Fatal(err)
	}
	if c2, _ := RunCopy(p1); c2 != c1 {
		t.Errorf("second RunCopy %s, first %s", c2, c1)
	}
	if err := os.WriteFile(c1, []byte("changed"), 0o644); err != nil {
		t.Fatalf("the copy is not writable: %v", err)
	}
	if b, _ := os.ReadFile(c1 + ".index"); string(b) != "snap" {
		t.Errorf("the file beside it was not copied: %q", b)
	}
	if b, _ := os.ReadFile(p1); string(b) == "changed" {
		t.Error("writing the copy changed the kept database")
	}
}
