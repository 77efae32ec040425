package catalog

import (
	"fmt"
	"slices"
	"strings"
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
	if !matchFold(s.Libraries, it.Library) || !matchFold(s.Locations, it.Location) ||
		!matchFold(s.Collections, it.Collection) || !matchFold(s.ItemTypes, it.ItemType) ||
		!matchFold(s.Containers, it.Container) {
		return false
	}
	if len(s.Kinds) > 0 && !slices.Contains(s.Kinds, it.Kind) {
		return false
	}
	if s.CallFrom != "" || s.CallTo != "" {
		return callnumber.InRange(callnumber.Key(it.CallNumber), s.CallFrom, s.CallTo)
	}
	return true
}

// Expects reports whether the item is at home in the scope and not skipped
// by status or by a recent sighting: an expected item not seen is missing.
func (s *Scope) Expects(it *Item) bool {
	if !s.Home(it) {
		return false
	}
	if slices.Contains(s.SkipStatuses, it.Status) {
		return false
	}
	if !s.SkipSeenSince.IsZero() && !it.LastSeen.IsZero() && !it.LastSeen.Before(s.SkipSeenSince) {
		return false
	}
	return true
}

// HomeSummary says where the item belongs, in words, for the operator:
// "Main / Fiction / FIC ROW".
func HomeSummary(it *Item) string {
	parts := make([]string, 0, 3)
	for _, p := range []string{it.Library, it.Location, it.CallNumber} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if it.Container != "" {
		parts = append(parts, "cart "+it.Container)
	}
	return strings.Join(parts, " / ")
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
