package reconcile

import (
	"slices"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
)

func TestEvaluate(t *testing.T) {
	scope := &catalog.Scope{Libraries: []string{"MAIN"}, Locations: []string{"Fiction"}}
	fic := func(mod func(*catalog.Item)) *catalog.Item {
		it := &catalog.Item{Barcode: "30234000000017", Library: "MAIN", Location: "Fiction", CallNumber: "FIC ROW", Status: catalog.StatusAvailable}
		if mod != nil {
			mod(it)
		}
		return it
	}
	chromebook := func(cart string) *catalog.Item {
		return &catalog.Item{Barcode: "DAB-0101", Kind: catalog.KindEquipment, Container: cart, Status: catalog.StatusAvailable}
	}
	valid := Check{Valid: true}
	tests := []struct {
		name    string
		check   Check
		item    *catalog.Item
		seen    bool
		mode    Mode
		cart    string
		want    Outcome
		flags   []string
		home    bool // Detail.Home set
		cartDet string
	}{
		{name: "ok", check: valid, item: fic(nil), want: OK},
		{name: "invalid check digit", check: Check{Problem: "check digit is 3, expected 1"}, want: Invalid},
		{name: "patron card", check: Check{Patron: true, Problem: "patron card"}, want: Invalid, flags: []string{"patron_card"}},
		{name: "unknown", check: valid, want: Unknown},
		{name: "unknown isbn", check: Check{Valid: true, ISBN: true}, want: Unknown, flags: []string{"isbn"}},
		{name: "duplicate", check: valid, item: fic(nil), seen: true, want: Duplicate},
		{name: "duplicate keeps flags", check: valid, item: fic(func(i *catalog.Item) { i.Status = catalog.StatusLost }), seen: true, want: Duplicate, flags: []string{"found"}},
		{name: "wrong location", check: valid, item: fic(func(i *catalog.Item) { i.Location = "Nonfiction" }), want: WrongLocation, home: true},
		{name: "wrong library", check: valid, item: fic(func(i *catalog.Item) { i.Library = "WEST" }), want: WrongLocation, home: true},
		{name: "checked out", check: valid, item: fic(func(i *catalog.Item) { i.Status = catalog.StatusCheckedOut }), want: CheckedOutOnShelf},
		{name: "lost found", check: valid, item: fic(func(i *catalog.Item) { i.Status = catalog.StatusLost }), want: Found},
		{name: "missing found", check: valid, item: fic(func(i *catalog.Item) { i.Status = catalog.StatusMissing }), want: Found},
		{name: "withdrawn", check: valid, item: fic(func(i *catalog.Item) { i.Status = catalog.StatusWithdrawn }), want: WithdrawnOnShelf},
		{name: "hold waiting", check: valid, item: fic(func(i *catalog.Item) { i.HoldWaiting = true }), want: HoldPickup},
		{name: "hold shelf status", check: valid, item: fic(func(i *catalog.Item) { i.Status = catalog.StatusOnHold }), want: HoldPickup},
		{name: "found elsewhere: found wins, wrong location flagged", check: valid,
			item: fic(func(i *catalog.Item) { i.Status = catalog.StatusLost; i.Location = "Easy" }), want: Found, flags: []string{"wrong_location"}, home: true},
		{name: "withdrawn beats checked out hold", check: valid,
			item: fic(func(i *catalog.Item) { i.Status = catalog.StatusWithdrawn; i.HoldWaiting = true }), want: WithdrawnOnShelf, flags: []string{"hold_pickup"}},
		{name: "cart present", check: valid, item: chromebook("CART-01"), mode: CartMode, cart: "cart-01", want: Present},
		{name: "cart foreign", check: valid, item: chromebook("CART-02"), mode: CartMode, cart: "CART-01", want: Foreign, home: true, cartDet: "CART-02"},
		{name: "cart foreign no cart", check: valid, item: fic(nil), mode: CartMode, cart: "CART-01", want: Foreign, home: true},
		{name: "cart duplicate", check: valid, item: chromebook("CART-01"), seen: true, mode: CartMode, cart: "CART-01", want: Duplicate, flags: []string{"present"}},
		{name: "cart in repair present", check: valid, item: func() *catalog.Item { c := chromebook("CART-01"); c.Status = catalog.StatusInRepair; return c }(),
			mode: CartMode, cart: "CART-01", want: Present},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Evaluate(tc.check, found(t, tc.item), tc.seen, scope, tc.mode, tc.cart)
			if r.Outcome != tc.want {
				t.Errorf("outcome = %s, want %s (flags %v)", r.Outcome, tc.want, r.Flags)
			}
			if !slices.Equal([]string(r.Flags), tc.flags) && !(len(r.Flags) == 0 && len(tc.flags) == 0) {
				t.Errorf("flags = %v, want %v", r.Flags, tc.flags)
			}
			if (r.Detail.Home != "") != tc.home {
				t.Errorf("detail home = %q, want set=%v", r.Detail.Home, tc.home)
			}
			if r.Detail.Cart != tc.cartDet {
				t.Errorf("detail cart = %q, want %q", r.Detail.Cart, tc.cartDet)
			}
		})
	}
}

// found is what the read path hands Evaluate: the item as the index's Find
// returns it, nil when there is no item.
func found(t *testing.T, it *catalog.Item) *catalog.Hit {
	t.Helper()
	if it == nil {
		return nil
	}
	x := catalog.NewIndex(1)
	x.Put(*it)
	h, ok := x.Find(catalog.NormalizeID(it.Barcode))
	if !ok {
		t.Fatalf("%s not found", it.Barcode)
	}
	return &h
}

// Deciding a read allocates nothing unless the result carries words (a
// home summary, flags).
func TestEvaluateAllocs(t *testing.T) {
	x := catalog.NewIndex(2)
	x.Put(catalog.Item{Barcode: "30234000000017", Library: "MAIN", Location: "Fiction", CallNumber: "FIC ROW",
		Status: catalog.StatusCheckedOut, HoldWaiting: true})
	scope := &catalog.Scope{Libraries: []string{"main"}, Locations: []string{"fiction"}, CallFrom: "FIC A", CallTo: "FIC Z"}
	var r Result
	allocs := testing.AllocsPerRun(100, func() {
		h, ok := x.Find("30234000000017")
		if !ok {
			t.Fatal("not found")
		}
		r = Evaluate(Check{Valid: true}, &h, true, scope, ShelfMode, "")
	})
	if r.Outcome != Duplicate {
		t.Fatalf("outcome %s", r.Outcome)
	}
	// The duplicate's two flags are one slice.
	if allocs > 1 {
		t.Errorf("%v allocations per read, want at most 1 (the flags)", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		h, _ := x.Find("30234000000017")
		h.Status, h.HoldWaiting = catalog.StatusAvailable, false
		r = Evaluate(Check{Valid: true}, &h, false, scope, ShelfMode, "")
	})
	if r.Outcome != OK || allocs != 0 {
		t.Errorf("ok read: %s with %v allocations, want ok with 0", r.Outcome, allocs)
	}
}

func TestPromote(t *testing.T) {
	r := Result{Outcome: OK}
	r.Promote(OutOfOrder)
	if r.Outcome != OutOfOrder || len(r.Flags) != 0 {
		t.Fatalf("ok+out_of_order = %s %v", r.Outcome, r.Flags)
	}
	r = Result{Outcome: Found}
	r.Promote(OutOfOrder)
	if r.Outcome != Found || !r.Flags.Has("out_of_order") {
		t.Fatalf("found+out_of_order = %s %v", r.Outcome, r.Flags)
	}
	r = Result{Outcome: Duplicate}
	r.Promote(OutOfOrder)
	if r.Outcome != OutOfOrder || !r.Flags.Has("duplicate") {
		t.Fatalf("duplicate+out_of_order = %s %v", r.Outcome, r.Flags)
	}
}
