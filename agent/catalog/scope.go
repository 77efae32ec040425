package catalog

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tally-inventory/tally/agent/callnumber"
)

// Scope says which items an inventory expects to see. Empty lists mean
// "any". The home fields (libraries … call-number range, containers, kinds)
// decide where an item belongs; SkipStatuses and SkipSeenSince only decide
// whether an item that belongs is expected (Koha's rightplacelist versus its
// inventorylist). An item outside the home fields that is scanned is in the
// wrong place; an item inside them but skipped is simply not counted.
type Scope struct {
	Libraries   []string `json:"libraries,omitempty"`
	Locations   []string `json:"locations,omitempty"`
	Collections []string `json:"collections,omitempty"`
	ItemTypes   []string `json:"item_types,omitempty"`
	Containers  []string `json:"containers,omitempty"`
	Kinds       []Kind   `json:"kinds,omitempty"`
	CallFrom    string   `json:"call_from,omitempty"` // first call number, as a librarian types it
	CallTo      string   `json:"call_to,omitempty"`   // last call number, inclusive as a prefix ("599" takes in "599.75 ROW")
	// SkipStatuses are statuses whose items are not expected on the shelf,
	// e.g. checked_out, lost, withdrawn.
	SkipStatuses []Status `json:"skip_statuses,omitempty"`
	// SkipSeenSince skips items last seen on or after this date (seen by
	// circulation or an earlier inventory).
	SkipSeenSince time.Time `json:"skip_seen_since,omitempty"`
}

// Home reports whether the item belongs in the scope's place: the part of
// the scope that says where things are shelved.
func (s *Scope) Home(it *Item) bool {
	if !s.place(it.Library, it.Location, it.Collection, it.ItemType, it.Container, it.Kind) {
		return false
	}
	if s.CallFrom != "" || s.CallTo != "" {
		return s.callRange().Contains(callnumber.Key(it.CallNumber))
	}
	return true
}

// HomeHit is Home for a Hit; the index's sort key saves computing one.
func (s *Scope) HomeHit(h *Hit) bool {
	if !s.place(h.Library, h.Location, h.Collection, h.ItemType, h.Container, h.Kind) {
		return false
	}
	if s.CallFrom != "" || s.CallTo != "" {
		return s.callRange().Contains(h.SortKey)
	}
	return true
}

// lastRange is the call-number range built last: an inventory's reads all
// ask for the same one, and building it is four allocations.
var lastRange atomic.Pointer[scopeRange]

type scopeRange struct {
	from, to string
	r        callnumber.Range
}

func (s *Scope) callRange() callnumber.Range {
	if p := lastRange.Load(); p != nil && p.from == s.CallFrom && p.to == s.CallTo {
		return p.r
	}
	p := &scopeRange{s.CallFrom, s.CallTo, callnumber.NewRange(s.CallFrom, s.CallTo)}
	lastRange.Store(p)
	return p.r
}

func (s *Scope) place(lib, loc, coll, itype, cont string, kind Kind) bool {
	if !matchFold(s.Libraries, lib) || !matchFold(s.Locations, loc) ||
		!matchFold(s.Collections, coll) || !matchFold(s.ItemTypes, itype) ||
		!matchFold(s.Containers, cont) {
		return false
	}
	return len(s.Kinds) == 0 || slices.Contains(s.Kinds, kind)
}

// Expects reports whether the item is at home in the scope and not skipped
// by status or by a recent sighting: an expected item not seen is missing.
func (s *Scope) Expects(it *Item) bool {
	return s.Home(it) && s.Counts(it.Status, it.LastSeen)
}

// ExpectsHit is Expects for a Hit.
func (s *Scope) ExpectsHit(h *Hit) bool {
	return s.HomeHit(h) && s.Counts(h.Status, h.LastSeen())
}

// Counts is the part of Expects past Home: the status and last sighting
// do not skip the item.
func (s *Scope) Counts(st Status, seen time.Time) bool {
	if slices.Contains(s.SkipStatuses, st) {
		return false
	}
	return s.SkipSeenSince.IsZero() || seen.IsZero() || seen.Before(s.SkipSeenSince)
}

// HomeSummary says where the item belongs, in words, for the operator:
// "Main / Fiction / FIC ROW".
func HomeSummary(it *Item) string {
	return homeSummary(it.Library, it.Location, it.CallNumber, it.Container)
}

// HomeSummary is the package's HomeSummary for a Hit.
func (h *Hit) HomeSummary() string {
	return homeSummary(h.Library, h.Location, h.CallNumber, h.Container)
}

func homeSummary(lib, loc, call, cart string) string {
	n := len(lib) + len(loc) + len(call) + len(cart) + 16
	var b strings.Builder
	b.Grow(n)
	for _, p := range [...]string{lib, loc, call} {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(" / ")
		}
		b.WriteString(p)
	}
	if cart != "" {
		if b.Len() > 0 {
			b.WriteString(" / ")
		}
		b.WriteString("cart ")
		b.WriteString(cart)
	}
	return b.String()
}

// Validate checks the scope for contradictions before an inventory starts.
func (s *Scope) Validate() error {
	if s.CallFrom != "" && s.CallTo != "" && callnumber.Compare(s.CallFrom, s.CallTo) > 0 {
		return fmt.Errorf("call-number range %q–%q is backwards: the first must shelve before the last", s.CallFrom, s.CallTo)
	}
	for _, st := range s.SkipStatuses {
		if _, err := ParseStatus(string(st)); err != nil {
			return fmt.Errorf("skip status: %w", err)
		}
	}
	return nil
}

func matchFold(set []string, v string) bool {
	if len(set) == 0 {
		return true
	}
	for _, s := range set {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}
