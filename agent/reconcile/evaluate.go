package reconcile

import (
	"github.com/tally-inventory/tally/agent/catalog"
)

// Policy is how an inventory treats what it finds. It is fixed when the
// inventory is created and travels with the outbox rows, so a sink knows
// whether to change a status or only report it.
type Policy struct {
	// ClearLost: an item that was lost or missing and is found on the shelf
	// gets its lost status cleared upstream. Off: it is only reported
	// (Tech Logic and many librarians prefer to review first).
	ClearLost bool `json:"clear_lost"`
	// CheckIn: an item checked out but found on the shelf is checked in
	// upstream (Koha's default). Off: only reported (Koha's dont_checkin).
	CheckIn bool `json:"check_in"`
	// ShelfOrder: shelf sessions check call-number order.
	ShelfOrder bool `json:"shelf_order"`
	// MissingLostValue is the lost value to set on missing items at
	// finalize (Koha: 4 "Missing"); 0 only reports them.
	MissingLostValue int `json:"missing_lost_value"`
}

// DefaultPolicy reports everything and changes nothing it need not: lost
// status is cleared on sight, loans are left alone, shelf order is checked,
// missing items get Koha's "Missing" value.
var DefaultPolicy = Policy{ClearLost: true, CheckIn: false, ShelfOrder: true, MissingLostValue: 4}

// Check is what the barcode stage learned about a code before lookup.
type Check struct {
	Valid   bool
	Patron  bool   // a patron card, not an item
	ISBN    bool   // the book's ISBN rather than its library barcode
	Problem string // in words, when not valid
}

// Mode is the kind of session a read arrives in.
type Mode int

const (
	ShelfMode Mode = iota // inventory of a scope, walking the shelves
	CartMode              // checking one cart or kit
)

// Detail says where things belong, for the operator and the reports.
type Detail struct {
	Home     string `json:"home,omitempty"`      // where the item belongs, in words
	Cart     string `json:"cart,omitempty"`      // the item's own cart, for foreign reads
	Prev     string `json:"prev,omitempty"`      // out_of_order: belongs after this barcode
	PrevCall string `json:"prev_call,omitempty"` // … whose call number is this
	Next     string `json:"next,omitempty"`      // out_of_order: belongs before this barcode
	NextCall string `json:"next_call,omitempty"`
	Problem  string `json:"problem,omitempty"` // invalid: what is wrong
	Status   string `json:"status,omitempty"`  // the item's status when it matters
	// Swap: this read proved the two books read just before it shelved the
	// wrong way round (flag FlagSwap); SwapA was read first.
	Swap  string `json:"swap,omitempty"` // "swap: FIC BRO (title) ↔ FIC ADA (title)"
	SwapA string `json:"swap_a,omitempty"`
	SwapB string `json:"swap_b,omitempty"`
	Pull  string `json:"pull,omitempty"` // flag FlagPull: "pull: " and the list's reason
}

// Result is the meaning of one read.
type Result struct {
	Outcome Outcome
	Flags   Flags
	Detail  Detail
}

// Evaluate applies the outcome rules to one read. item is what the index's
// Find returned, nil when the code is not in the catalog; seenBefore says whether the inventory already
// counted this item; cart is the cart being checked in CartMode.
// Shelf order is decided separately (see Shelf), since it depends on the
// reads around this one.
func Evaluate(check Check, item *catalog.Hit, seenBefore bool, scope *catalog.Scope, mode Mode, cart string) Result {
	var r Result
	if !check.Valid {
		r.Outcome = Invalid
		r.Detail.Problem = check.Problem
		if check.Patron {
			r.Flags = append(r.Flags, "patron_card")
		}
		return r
	}
	if item == nil {
		r.Outcome = Unknown
		if check.ISBN {
			r.Flags = append(r.Flags, "isbn")
			r.Detail.Problem = "this is the book's ISBN: scan the library barcode instead"
		}
		return r
	}
	var buf [4]Outcome // at most a status, a hold and a place apply: no allocation
	all := buf[:0]
	switch item.Status {
	case catalog.StatusWithdrawn:
		all = append(all, WithdrawnOnShelf)
	case catalog.StatusLost, catalog.StatusMissing:
		all = append(all, Found)
	case catalog.StatusCheckedOut:
		all = append(all, CheckedOutOnShelf)
	case catalog.StatusOnHold:
		all = append(all, HoldPickup)
	}
	if item.HoldWaiting && item.Status != catalog.StatusOnHold {
		all = append(all, HoldPickup)
	}
	if item.Status != catalog.StatusAvailable && item.Status != "" {
		r.Detail.Status = string(item.Status)
	}
	switch mode {
	case CartMode:
		// The index keeps containers normalized.
		if cart != "" && item.Container == catalog.NormalizeID(cart) {
			all = append(all, Present)
		} else {
			all = append(all, Foreign)
			r.Detail.Cart = item.Container
			r.Detail.Home = item.HomeSummary()
		}
	default:
		if scope != nil && !scope.HomeHit(item) {
			all = append(all, WrongLocation)
			r.Detail.Home = item.HomeSummary()
		}
	}
	if seenBefore {
		// Counted once: the operator hears "already counted"; the rest were
		// reported at the first sighting and stay as flags.
		r.Outcome = Duplicate
		if len(all) > 0 {
			r.Flags = make(Flags, 0, len(all))
		}
		for _, o := range all {
			r.Flags = append(r.Flags, string(o))
		}
		return r
	}
	r.Outcome = OK
	if mode == CartMode {
		r.Outcome = Present
	}
	for _, o := range all {
		if priority[o] > priority[r.Outcome] {
			r.Outcome = o
		}
	}
	for _, o := range all {
		if o != r.Outcome {
			r.Flags = append(r.Flags, string(o))
		}
	}
	return r
}

// Promote adds outcome o to a result decided earlier (shelf order is known
// only after the read is placed in the sequence), keeping the most urgent
// as primary and the other as a flag.
func (r *Result) Promote(o Outcome) {
	if r.Outcome == o || r.Flags.Has(string(o)) {
		return
	}
	if priority[o] > priority[r.Outcome] {
		if r.Outcome != OK && r.Outcome != Present {
			r.Flags = append(r.Flags, string(r.Outcome))
		}
		r.Outcome = o
		return
	}
	r.Flags = append(r.Flags, string(o))
}
