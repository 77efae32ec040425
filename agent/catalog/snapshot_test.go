package catalog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"
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

// The decoded index's strings are the file's bytes, and changing the index
// afterwards never writes into them.
func TestSnapshotSharesFile(t *testing.T) {
	data := snapBytes(t, snapFixture(), "s")
	orig := bytes.Clone(data)
	x, _, err := ReadSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := x.Find("30234000517861")
	if p := unsafe.StringData(h.Title); uintptr(unsafe.Pointer(p)) < uintptr(unsafe.Pointer(&data[0])) ||
		uintptr(unsafe.Pointer(p)) >= uintptr(unsafe.Pointer(&data[0]))+uintptr(len(data)) {
		t.Error("the title was copied out of the file")
	}
	x.Put(Item{Barcode: "30234000517861", Title: "Changed", Kind: KindBook})
	for i := range 100 {
		x.Put(Item{Barcode: fmt.Sprint("N", i), Title: "new", Kind: KindBook})
	}
	x.Remove("CIEN")
	if !bytes.Equal(data, orig) {
		t.Error("changing the index wrote into the file's bytes")
	}
	if h.Title != "The Hobbit" {
		t.Errorf("a title read before the change is now %q", h.Title)
	}
}

// A snapshot of another version is refused, saying which.
func TestSnapshotOldVersion(t *testing.T) {
	data := withVersion(snapBytes(t, snapFixture(), "s"), 1)
	_, _, err := ReadSnapshot(data)
	if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "version 1 at byte 8, this tally reads version 2") {
		t.Fatalf("err = %v", err)
	}
}

// withCRC is data with its last four bytes the checksum of the rest.
func withCRC(data []byte) []byte {
	if len(data) < 4 {
		return data
	}
	data = bytes.Clone(data)
	binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.Checksum(data[:len(data)-4], snapCRC))
	return data
}

// withVersion rewrites a snapshot's version and checksum, as a snapshot of
// that version with the same body would be.
func withVersion(data []byte, v uint32) []byte {
	data = bytes.Clone(data)
	binary.LittleEndian.PutUint32(data[len(snapMagic):], v)
	return withCRC(data)
}

// Damage the checksum cannot see (the file was written by something else)
// is still refused with where it is: each kind the decoder checks.
func TestSnapshotBadRecords(t *testing.T) {
	data := snapBytes(t, snapFixture(), "s")
	x, _, _ := ReadSnapshot(data)
	recAt := len(data) - 4 - x.arena.size() - x.Len()*snapRec
	tests := []struct {
		name string
		at   int // byte offset within the first record
		b    byte
		want string
	}{
		{"flags", 31 + 4 + 2*nStr - 4 + 4, 0x80, "flags"},
		{"status", 30 + 4 + 2*nStr - 4 + 4, 77, "status code 77"},
		{"pool id", 4 + 2*nStr, 0xff, "pool string"},
		{"string length", 1, 0xff, "overrun their chunk"},
	}
	// The second item's strings made the first's: one barcode twice.
	bad := bytes.Clone(data)
	copy(bad[recAt+snapRec:recAt+snapRec+4+2*nStr], bad[recAt:])
	if _, _, err := ReadSnapshot(withCRC(bad)); !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a barcode twice: err = %v", err)
	}
	for _, tc := range tests {
		bad := bytes.Clone(data)
		bad[recAt+tc.at] = tc.b
		_, _, err := ReadSnapshot(withCRC(bad))
		if !errors.Is(err, ErrSnapshot) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "at byte") {
			t.Errorf("%s: err = %v, want %q and where", tc.name, err, tc.want)
		}
	}
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
		// As it is, and with its checksum made right, so that the fuzzer
		// reaches the records behind it.
		for _, data := range [][]byte{data, withCRC(data)} {
			x, stamp, err := ReadSnapshot(data)
			if err != nil {
				if !errors.Is(err, ErrSnapshot) {
					t.Fatalf("error %v does not wrap ErrSnapshot", err)
				}
				continue
			}
			y, stamp2, err := ReadSnapshot(snapBytes(t, x, string(stamp)))
			if err != nil || !bytes.Equal(stamp, stamp2) {
				t.Fatalf("a decoded snapshot written again: %v", err)
			}
			sameIndex(t, x, y)
		}
	})
}
