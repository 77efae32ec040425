package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// snapFixture is a small index with every kind of field set somewhere:
// side identifiers, carts, dates, holds, a removed slot.
func snapFixture() *Index {
	x := NewIndex(0)
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	x.Put(Item{Barcode: "30234000517861", Title: "The Hobbit", Author: "Tolkien, J. R. R.", CallNumber: "FIC TOL",
		Library: "MAIN", Location: "Fiction", Collection: "FIC", ItemType: "BK", Status: StatusCheckedOut,
		DueDate: day, LastSeen: day.AddDate(-1, 0, 0), Price: 1299, Year: 1937, Kind: KindBook, HoldWaiting: true})
	x.Put(Item{Barcode: "DAB-0101", AssetTag: "DAB-0101", Serial: "5CD1234ABC", RFID: "E2801170000002",
		Kind: KindEquipment, Container: "Cart-01", Status: StatusAvailable, Library: "MAIN", Location: "Library office"})
	x.Put(Item{Barcode: "GONE", Title: "Removed", Kind: KindBook, Status: StatusAvailable})
	x.Put(Item{Barcode: "CIEN", Title: "Cien años de soledad", CallNumber: "SP FIC GAR", Location: "Fiction", Kind: KindBook, Status: StatusLost})
	x.Remove("GONE")
	return x
}

func snapBytes(t testing.TB, x *Index, stamp string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := x.WriteSnapshot(&b, []byte(stamp)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sameIndex fails unless a and b hold the same items, sort keys, side
// identifiers and carts.
func sameIndex(t testing.TB, a, b *Index) {
	t.Helper()
	if a.Len() != b.Len() {
		t.Fatalf("%d items, want %d", b.Len(), a.Len())
	}
	for _, bc := range a.Barcodes() {
		want, _ := a.Get(bc)
		got, ok := b.Get(bc)
		if !ok || got != want {
			t.Errorf("%s: %+v, want %+v", bc, got, want)
		}
		if a.SortKeyOf(bc) != b.SortKeyOf(bc) {
			t.Errorf("%s: sort key %q, want %q", bc, b.SortKeyOf(bc), a.SortKeyOf(bc))
		}
		for _, id := range []string{want.RFID, want.AssetTag, want.Serial} {
			if id == "" {
				continue
			}
			if it, ok := b.Get(id); !ok || it.Barcode != bc {
				t.Errorf("%s does not find %s", id, bc)
			}
		}
	}
	if fmt.Sprint(a.Containers()) != fmt.Sprint(b.Containers()) {
		t.Errorf("carts %v, want %v", b.Containers(), a.Containers())
	}
	for _, c := range a.Containers() {
		if len(a.Container(c)) != len(b.Container(c)) {
			t.Errorf("cart %s: %d members, want %d", c, len(b.Container(c)), len(a.Container(c)))
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	x := snapFixture()
	data := snapBytes(t, x, "db=1 rev=7")
	y, stamp, err := ReadSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if string(stamp) != "db=1 rev=7" {
		t.Errorf("stamp %q", stamp)
	}
	sameIndex(t, x, y)
	// The decoded index takes changes like any other.
	y.Put(Item{Barcode: "NEW", Title: "New", Kind: KindBook, Status: StatusAvailable})
	if _, ok := y.Get("NEW"); !ok || y.Len() != x.Len()+1 {
		t.Error("decoded index does not take a new item")
	}
	if !y.Remove("CIEN") {
		t.Error("decoded index cannot remove an item")
	}
	// Written again, it reads back the same.
	z, _, err := ReadSnapshot(snapBytes(t, y, ""))
	if err != nil {
		t.Fatal(err)
	}
	sameIndex(t, y, z)
}

// Any single flipped bit and any truncation is refused, never decoded into
// a wrong index.
func TestSnapshotDamageRefused(t *testing.T) {
	data := snapBytes(t, snapFixture(), "stamp")
	for i := range data {
		bad := bytes.Clone(data)
		bad[i] ^= 0x10
		if _, _, err := ReadSnapshot(bad); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("byte %d flipped: err = %v, want ErrSnapshot", i, err)
		}
	}
	for n := range len(data) {
		if _, _, err := ReadSnapshot(data[:n]); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("cut to %d bytes: err = %v, want ErrSnapshot", n, err)
		}
	}
}

// FuzzReadSnapshot: no panic on any input; what decodes writes back to a
// snapshot that decodes to the same index.
func FuzzReadSnapshot(f *testing.F) {
	seed := snapBytes(f, snapFixture(), "stamp")
	if *updateMARC {
		dir := filepath.Join("testdata", "fuzz", f.Name())
		os.MkdirAll(dir, 0o755)
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seed)
		if err := os.WriteFile(filepath.Join(dir, "fixture"), []byte(body), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	f.Add(seed)
	f.Add([]byte(snapMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		x, stamp, err := ReadSnapshot(data)
		if err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		y, stamp2, err := ReadSnapshot(snapBytes(t, x, string(stamp)))
		if err != nil || !bytes.Equal(stamp, stamp2) {
			t.Fatalf("a decoded snapshot written again: %v", err)
		}
		sameIndex(t, x, y)
	})
}
