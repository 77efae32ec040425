package catalog

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

func TestIndexLookupByEveryIdentifier(t *testing.T) {
	x := NewIndex(0)
	x.Put(Item{Barcode: "30234000517861", Title: "The Hobbit", CallNumber: "FIC TOL"})
	x.Put(Item{Barcode: "dab-0101", AssetTag: "DAB-0101", Serial: "5cd1234abc", RFID: "e2801170000002", Kind: KindEquipment, Container: "Cart-01"})
	for _, id := range []string{"30234000517861", " 30234000517861\n"} {
		if it, ok := x.Get(id); !ok || it.Title != "The Hobbit" {
			t.Errorf("Get(%q) = %v, %v", id, it, ok)
		}
	}
	for _, id := range []string{"DAB-0101", "dab-0101", "5CD1234ABC", "E2801170000002", "e2801170000002"} {
		if it, ok := x.Get(id); !ok || it.Barcode != "DAB-0101" {
			t.Errorf("Get(%q) = %+v, %v", id, it, ok)
		}
	}
	if _, ok := x.Get("nope"); ok {
		t.Error("found an item that is not there")
	}
	if got := x.Container("CART-01"); len(got) != 1 || got[0].Barcode != "DAB-0101" {
		t.Errorf("Container = %v", got)
	}
	// Update in place moves the side identifiers and the cart.
	_, ch := x.Put(Item{Barcode: "DAB-0101", AssetTag: "DAB-0101", Serial: "NEW", Kind: KindEquipment, Container: "CART-02"})
	if ch != Updated {
		t.Fatalf("change = %v, want Updated", ch)
	}
	if _, ok := x.Get("5CD1234ABC"); ok {
		t.Error("old serial still finds the item")
	}
	if _, ok := x.Get("NEW"); !ok {
		t.Error("new serial does not find the item")
	}
	if len(x.Container("CART-01")) != 0 || len(x.Container("CART-02")) != 1 {
		t.Error("cart membership not moved")
	}
	if _, ch := x.Put(Item{Barcode: "DAB-0101", AssetTag: "DAB-0101", Serial: "NEW", Kind: KindEquipment, Container: "CART-02"}); ch != Unchanged {
		t.Errorf("same item again: change = %v, want Unchanged", ch)
	}
}

// The open-addressing table against a map, through random puts and removes.
func TestIndexAgainstMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := NewIndex(4)
	model := map[string]Item{}
	for i := 0; i < 20000; i++ {
		bc := fmt.Sprintf("B%04d", r.IntN(3000))
		if r.IntN(3) == 0 {
			_, had := model[bc]
			if x.Remove(bc) != had {
				t.Fatalf("op %d: Remove(%s) disagreed with the model", i, bc)
			}
			delete(model, bc)
			continue
		}
		it := Item{Barcode: bc, Title: fmt.Sprint(r.IntN(5)), Location: fmt.Sprint("L", r.IntN(4)),
			LastSeen: time.Date(2026, 1, 1+r.IntN(20), 0, 0, 0, 0, time.UTC), Kind: KindBook, Status: StatusAvailable}
		x.Put(it)
		model[bc] = it
	}
	if x.Len() != len(model) {
		t.Fatalf("Len = %d, model %d", x.Len(), len(model))
	}
	for bc, want := range model {
		got, ok := x.Get(bc)
		if !ok || got != want {
			t.Fatalf("Get(%s) = %+v %v, want %+v", bc, got, ok, want)
		}
	}
	n := 0
	x.Each(func(_ Ref, it *Item) bool { n++; return true })
	if n != len(model) {
		t.Fatalf("Each visited %d, want %d", n, len(model))
	}
}

func TestScope(t *testing.T) {
	it := Item{Library: "MAIN", Location: "Nonfiction", CallNumber: "599.75 ROW", Status: StatusCheckedOut,
		LastSeen: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Kind: KindBook}
	tests := []struct {
		name         string
		s            Scope
		home, expect bool
	}{
		{"empty scope takes all", Scope{}, true, true},
		{"library", Scope{Libraries: []string{"main"}}, true, true},
		{"other library", Scope{Libraries: []string{"WEST"}}, false, false},
		{"range by prefix", Scope{CallFrom: "500", CallTo: "599"}, true, true},
		{"range excludes", Scope{CallFrom: "600", CallTo: "699"}, false, false},
		{"status skipped", Scope{SkipStatuses: []Status{StatusCheckedOut}}, true, false},
		{"seen since skipped", Scope{SkipSeenSince: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}, true, false},
		{"seen before date", Scope{SkipSeenSince: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)}, true, true},
		{"kind", Scope{Kinds: []Kind{KindEquipment}}, false, false},
	}
	for _, tc := range tests {
		if got := tc.s.Home(&it); got != tc.home {
			t.Errorf("%s: Home = %v", tc.name, got)
		}
		if got := tc.s.Expects(&it); got != tc.expect {
			t.Errorf("%s: Expects = %v", tc.name, got)
		}
	}
	if err := (&Scope{CallFrom: "700", CallTo: "500"}).Validate(); err == nil {
		t.Error("backwards range accepted")
	}
}

// The layout the per-read lookup counts on: a rec is one cache line with
// no pointers (the collector never scans a million of them), a slot a
// quarter of one.
func TestRecLayout(t *testing.T) {
	if n := unsafe.Sizeof(rec{}); n != 64 {
		t.Errorf("rec is %d bytes, want 64 (one cache line)", n)
	}
	if n := unsafe.Sizeof(slot{}); n != 16 {
		t.Errorf("slot is %d bytes, want 16", n)
	}
	// What the index holds per item besides its strings' bytes, at 1M
	// items: the rec, the price beside it, its share of the hash table.
	const n = 1_000_000
	if per := float64(unsafe.Sizeof(rec{})+8) + float64(unsafe.Sizeof(slot{}))*float64(tableSize(n))/n; per > 120 {
		t.Errorf("%.1f bytes per item at 1M, want at most 120", per)
	}
	for _, typ := range []reflect.Type{reflect.TypeFor[rec](), reflect.TypeFor[slot]()} {
		for i := range typ.NumField() {
			switch k := typ.Field(i).Type.Kind(); k {
			case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Int16, reflect.Int32, reflect.Array:
			default:
				t.Errorf("%s.%s is a %s: a rec holds no pointers", typ.Name(), typ.Field(i).Name, k)
			}
		}
	}
}

// Find, the read path's lookup, builds no Item and allocates nothing; what
// it returns matches Get's whole item.
func TestFindLean(t *testing.T) {
	x := snapFixture()
	for _, id := range []string{"30234000517861", "E2801170000002", "CIEN", "NOPE"} {
		var h Hit
		var ok bool
		if a := testing.AllocsPerRun(50, func() { h, ok = x.Find(id) }); a != 0 {
			t.Errorf("Find(%s): %v allocations", id, a)
		}
		it, known := x.Get(id)
		if ok != known {
			t.Fatalf("Find(%s) found=%v, Get %v", id, ok, known)
		}
		if !ok {
			continue
		}
		want := Hit{Ref: h.Ref, Barcode: it.Barcode, CallNumber: it.CallNumber, SortKey: x.SortKeyOf(it.Barcode), Title: it.Title,
			Library: it.Library, Location: it.Location, Collection: it.Collection, ItemType: it.ItemType, Container: it.Container,
			Status: it.Status, Kind: it.Kind, HoldWaiting: it.HoldWaiting, DueDay: toDays(it.DueDate), SeenDay: toDays(it.LastSeen), warm: h.warm}
		if h != want {
			t.Errorf("Find(%s) = %+v\nwant %+v", id, h, want)
		}
		if !h.DueDate().Equal(it.DueDate) || !h.LastSeen().Equal(it.LastSeen) {
			t.Errorf("Find(%s): dates %v %v, want %v %v", id, h.DueDate(), h.LastSeen(), it.DueDate, it.LastSeen)
		}
	}
}

// Saw changes the sighting's fields only, even when the catalog changed the
// item since the read looked it up.
func TestSaw(t *testing.T) {
	x := snapFixture()
	x.Put(Item{Barcode: "30234000517861", Title: "The Hobbit (2nd ed.)", CallNumber: "FIC TOL", Status: StatusCheckedOut,
		DueDate: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), Kind: KindBook})
	day := time.Date(2026, 9, 1, 10, 30, 0, 0, time.UTC)
	x.Saw("30234000517861", day, StatusAvailable)
	it, _ := x.Get("30234000517861")
	if it.Title != "The Hobbit (2nd ed.)" || it.Status != StatusAvailable || !it.DueDate.IsZero() ||
		!it.LastSeen.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("after Saw: %+v", it)
	}
	x.Saw("30234000517861", day.AddDate(0, 0, 1), "")
	if it2, _ := x.Get("30234000517861"); it2.Status != StatusAvailable || it2.LastSeen.Day() != 2 {
		t.Errorf("Saw without a status: %+v", it2)
	}
	x.Saw("NOPE", day, StatusAvailable) // not there: nothing happens
}

// Strings handed out stay valid and unchanged when the item changes or the
// arena grows; long barcodes (past the rec's inline bytes) and statuses
// outside Statuses keep working.
func TestArenaStrings(t *testing.T) {
	x := NewIndex(0)
	long := "EPC-E28011700000020A1B2C3D4E5F60718"
	x.Put(Item{Barcode: long, Title: "first", Status: "odd_one"})
	h, ok := x.Find(long)
	if !ok || h.Title != "first" || h.Status != "odd_one" {
		t.Fatalf("Find(long) = %+v %v", h, ok)
	}
	title := h.Title
	x.Put(Item{Barcode: long, Title: "second", Status: StatusLost})
	for i := range 20000 {
		x.Put(Item{Barcode: fmt.Sprintf("B%06d", i), Title: strings.Repeat("t", i%300)})
	}
	if title != "first" {
		t.Errorf("a handed-out title changed to %q", title)
	}
	if it, _ := x.Get(long); it.Title != "second" || it.Status != StatusLost {
		t.Errorf("updated item: %+v", it)
	}
	if _, ok := x.Find(long[:len(long)-1]); ok {
		t.Error("a barcode's prefix finds it")
	}
	big := strings.Repeat("é", 40000)
	x.Put(Item{Barcode: "BIG", Title: big})
	if it, _ := x.Get("BIG"); len(it.Title) > maxStr || !strings.HasPrefix(big, it.Title) || !utf8.ValidString(it.Title) {
		t.Errorf("a title past 64 KiB: %d bytes, valid %v", len(it.Title), utf8.ValidString(it.Title))
	}
}
