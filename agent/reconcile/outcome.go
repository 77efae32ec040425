// Package reconcile decides what a read means: the outcome rules of an
// inventory, shelf-order analysis and cart checks. It is pure — no I/O, no
// clock — so every rule is tested with tables and the agent can run it on
// the writer goroutine in well under a microsecond.
package reconcile

import (
	"strings"
)

// Outcome is the primary meaning of a read: the one the operator hears.
type Outcome string

const (
	OK                Outcome = "ok"
	Duplicate         Outcome = "duplicate"            // already seen in this inventory: counted once
	Unknown           Outcome = "unknown"              // not in the catalog: kept for follow-up
	Invalid           Outcome = "invalid"              // fails its check digit or format, or a patron card
	WrongLocation     Outcome = "wrong_location"       // belongs outside the inventory's scope
	OutOfOrder        Outcome = "out_of_order"         // in scope, shelved out of call-number order
	CheckedOutOnShelf Outcome = "checked_out_on_shelf" // the library system thinks it is on loan
	Found             Outcome = "found"                // was lost or missing
	WithdrawnOnShelf  Outcome = "withdrawn_on_shelf"   // withdrawn but still here: pull it
	HoldPickup        Outcome = "hold_pickup"          // a hold is waiting: pull it
	Present           Outcome = "present"              // cart check: belongs in this cart
	Foreign           Outcome = "foreign"              // cart check: belongs in another cart
	Missing           Outcome = "missing"              // at finalize / cart close: expected, never seen
)

// Outcomes lists every outcome, for metrics labels and UI legends.
var Outcomes = []Outcome{OK, Duplicate, Unknown, Invalid, WrongLocation, OutOfOrder,
	CheckedOutOnShelf, Found, WithdrawnOnShelf, HoldPickup, Present, Foreign, Missing}

// priority orders outcomes when several apply: the most urgent for the
// person at the shelf wins and the rest become flags.
var priority = map[Outcome]int{
	Invalid: 100, Unknown: 90, WithdrawnOnShelf: 80, Foreign: 75, Found: 70,
	CheckedOutOnShelf: 60, HoldPickup: 50, WrongLocation: 40, OutOfOrder: 30,
	Duplicate: 20, Present: 10, OK: 0,
}

// FlagSwap marks a read that proved the two books before it swapped
// (see Shelf.Swap); Detail names them. The read itself is in order.
const FlagSwap = "swap"

// FlagPull marks a read of an item on the inventory's pull list; Detail.Pull
// says why ("pull: hold for Ana").
const FlagPull = "pull"

// Flags is a set of outcomes that also apply besides the primary one, plus
// a few notes that are not outcomes (such as "patron_card").
type Flags []string

func (f Flags) Has(s string) bool {
	for _, x := range f {
		if x == s {
			return true
		}
	}
	return false
}

// String joins the flags with commas, as the journal stores them.
func (f Flags) String() string { return strings.Join(f, ",") }

// ParseFlags splits a stored flag list.
func ParseFlags(s string) Flags {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Meaning says in words what an outcome asks of the operator.
func Meaning(o Outcome) string {
	switch o {
	case OK:
		return "On the shelf where it belongs"
	case Duplicate:
		return "Already counted"
	case Unknown:
		return "Not in the catalog — set it aside"
	case Invalid:
		return "Not a valid item barcode — rescan or set aside"
	case WrongLocation:
		return "Belongs somewhere else"
	case OutOfOrder:
		return "Misshelved"
	case CheckedOutOnShelf:
		return "Checked out, but on the shelf"
	case Found:
		return "Was lost or missing — found"
	case WithdrawnOnShelf:
		return "Withdrawn — pull it"
	case HoldPickup:
		return "A hold is waiting — pull it"
	case Present:
		return "In its cart"
	case Foreign:
		return "Belongs to another cart"
	case Missing:
		return "Missing"
	}
	return string(o)
}
