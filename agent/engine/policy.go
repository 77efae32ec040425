package engine

import (
	"slices"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
)

// The default policy of a new inventory, the one place the CLI, the UI and
// the API take it from. Items on loan are accounted for, not expected on
// the shelf (as Follett Destiny counts checked-out copies "accounted for"
// before the first scan); items already lost, missing or withdrawn are not
// expected either — they are listed as still missing and never queued
// upstream again as newly missing; items in transit are not expected.
var defaultSkips = []catalog.Status{catalog.StatusCheckedOut, catalog.StatusLost, catalog.StatusMissing,
	catalog.StatusWithdrawn, catalog.StatusInTransit}

// DefaultSkipStatuses returns the statuses a new inventory does not expect
// on the shelf unless it says otherwise.
func DefaultSkipStatuses() []catalog.Status { return slices.Clone(defaultSkips) }

// DefaultPolicy is what a new inventory does with what it finds, unless it
// says otherwise.
func DefaultPolicy() reconcile.Policy { return reconcile.DefaultPolicy }

// WithDefaults fills in a scope's skip statuses when none were given (nil);
// an empty, non-nil list means "expect every status".
func WithDefaults(sc catalog.Scope) catalog.Scope {
	if sc.SkipStatuses == nil {
		sc.SkipStatuses = DefaultSkipStatuses()
	}
	return sc
}

// stillMissing reports whether an item's status when the inventory began
// says it was gone already: such an item, unseen, is "still missing", never
// newly missing.
func stillMissing(st catalog.Status) bool {
	return st == catalog.StatusLost || st == catalog.StatusMissing || st == catalog.StatusWithdrawn
}

// scopeView is an inventory's scope as it began (see store.CreateInventory)
// plus what it has seen: it says what is expected, never moved by statuses
// the inventory itself set.
type scopeView struct {
	sc    *catalog.Scope
	start map[string]store.StartItem
	seen  map[string]int64
}

// expects reports whether the inventory expects the item on the shelf.
// Items at home when it began count as they were then; items added to the
// catalog since count as they are now (an item seen here keeps counting: its
// last-seen date is this inventory's own).
func (v scopeView) expects(it *catalog.Item) bool {
	return v.sc.Home(it) && v.counts(it.Barcode, it.Status, it.LastSeen)
}

// expectsHit is expects on the read path.
func (v scopeView) expectsHit(h *catalog.Hit) bool {
	return v.sc.HomeHit(h) && v.counts(h.Barcode, h.Status, h.LastSeen())
}

// counts is expects for an item at home.
func (v scopeView) counts(barcode string, st catalog.Status, seen time.Time) bool {
	if s, ok := v.start[barcode]; ok {
		return s.Expected
	}
	if _, ok := v.seen[barcode]; ok {
		seen = time.Time{}
	}
	return v.sc.Counts(st, seen)
}

// startStatus is the item's status when the inventory began (now, for an
// item added since).
func (v scopeView) startStatus(it *catalog.Item) catalog.Status {
	if s, ok := v.start[it.Barcode]; ok {
		return s.Status
	}
	return it.Status
}
