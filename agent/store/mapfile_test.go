package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The loaded snapshot reads as the file did and keeps its bytes when a new
// snapshot replaces the file (by rename, as writeSnapshot does) and when
// something rewrites the file in place.
func TestMapFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.index")
	want := bytes.Repeat([]byte("tally snapshot bytes "), 5000)
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	data, keep, _, err := mapFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatal("mapped bytes differ from the file")
	}
	keep()
	tmp := filepath.Join(dir, "new")
	os.WriteFile(tmp, bytes.Repeat([]byte("X"), len(want)), 0o644)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Error("the bytes changed when the file was replaced")
	}
	// Truncated and rewritten in place (a backup copied over it): a
	// mapping of the file would fault on the next read and end the
	// process, or show the new bytes.
	replaced := bytes.Repeat([]byte("X"), len(want))
	data2, _, drop2, err := mapFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer drop2()
	if err := os.WriteFile(path, []byte("TALLYIDX"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data2, replaced) {
		t.Error("the bytes changed when the file was rewritten in place")
	}
	if _, _, _, err := mapFile(filepath.Join(dir, "none")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	if b, _, drop, err := mapFile(empty); err != nil || len(b) != 0 {
		t.Errorf("empty file: %q %v", b, err)
	} else {
		drop()
	}
}
