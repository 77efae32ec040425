package catalog

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
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
