package engine

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"

	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/sync/outbox"
)

// MissingItem is an item the inventory expected and never saw.
type MissingItem struct {
	Barcode    string `json:"barcode"`
	Title      string `json:"title"`
	CallNumber string `json:"call_number"`
	Library    string `json:"library"`
	Location   string `json:"location"`
	Container  string `json:"container,omitempty"`
	Price      int64  `json:"price_cents"`
	Kind       string `json:"kind"` // missing | cart_missing
	sortKey    string
	ref        catalog.Ref
}

// Missing lists the items the inventory expects that no session of it has
// seen, in shelf order. An item seen anywhere in the inventory — in another
// session, another section, another cart — is never missing: misplaced
// books show up in the misplaced report instead. Items that were lost,
// missing or withdrawn already when the inventory began are not in it (see
// StillMissing).
func (e *Engine) Missing(ctx context.Context, invID int64) ([]MissingItem, error) {
	m, _, err := e.missingLists(ctx, invID)
	return m, err
}

// StillMissing lists the items at home in the scope that were lost,
// missing or withdrawn when the inventory began and have not turned up:
// known already, so never queued upstream again as newly missing.
func (e *Engine) StillMissing(ctx context.Context, invID int64) ([]MissingItem, error) {
	_, s, err := e.missingLists(ctx, invID)
	return s, err
}

func (e *Engine) missingLists(ctx context.Context, invID int64) (missing, still []MissingItem, err error) {
	inv, err := e.DB.Inventory(ctx, invID)
	if err != nil {
		return nil, nil, err
	}
	seen, err := e.DB.Seen(ctx, invID)
	if err != nil {
		return nil, nil, err
	}
	start, err := e.DB.InventoryStart(ctx, invID)
	if err != nil {
		return nil, nil, err
	}
	missing, still = e.missing(scopeView{sc: &inv.Scope, start: start, seen: seen})
	return missing, still, nil
}

// missing splits the unseen items at home in the scope into the missing
// (expected, and not gone already when the inventory began) and the still
// missing (lost, missing or withdrawn then), each in shelf order.
func (e *Engine) missing(v scopeView) (missing, still []MissingItem) {
	e.Index.EachUnless(func(bc string) bool { _, ok := v.seen[bc]; return ok }, func(ref catalog.Ref, it *catalog.Item) bool {
		gone := stillMissing(v.startStatus(it))
		if !gone && !v.expects(it) || gone && !v.sc.Home(it) {
			return true
		}
		kind := string(outbox.Missing)
		if it.Container != "" {
			kind = string(outbox.CartMissing)
		}
		m := MissingItem{Barcode: it.Barcode, Title: it.Title, CallNumber: it.CallNumber,
			Library: it.Library, Location: it.Location, Container: it.Container, Price: it.Price, Kind: kind,
			ref: ref}
		if gone {
			m.Kind = "still_missing"
			still = append(still, m)
		} else {
			missing = append(missing, m)
		}
		return true
	})
	// Sort keys are read after the pass: calling back into the index while
	// it holds its read lock could deadlock against a waiting writer.
	for _, l := range [][]MissingItem{missing, still} {
		for i := range l {
			l[i].sortKey = e.Index.SortKey(l[i].ref)
		}
		sort.Slice(l, func(a, b int) bool {
			if l[a].sortKey != l[b].sortKey {
				return l[a].sortKey < l[b].sortKey
			}
			return l[a].Barcode < l[b].Barcode
		})
	}
	return missing, still
}

// FinalizeResult is what finalizing did (or, with dry run, would do).
type FinalizeResult struct {
	Inventory *store.Inventory `json:"inventory"`
	Missing   []MissingItem    `json:"missing"`
	Value     int64            `json:"missing_value_cents"`
	// StillMissing were lost, missing or withdrawn before the inventory
	// began and did not turn up: reported, not queued again.
	StillMissing []MissingItem  `json:"still_missing"`
	Outbox       map[string]int `json:"outbox"` // upstream effects by kind, all of the inventory
	DryRun       bool           `json:"dry_run"`
}

// Finalize closes an inventory: it ends its sessions, computes the missing
// list and queues the missing items upstream, all in one transaction. With
// dryRun it only says what it would do — the confirmation a librarian sees.
func (e *Engine) Finalize(ctx context.Context, invID int64, dryRun bool) (*FinalizeResult, error) {
	inv, err := e.DB.Inventory(ctx, invID)
	if err != nil {
		return nil, err
	}
	if !inv.Open() {
		return nil, fmt.Errorf("inventory %d (%s) was finalized on %s already: see `tally report --inventory %d`",
			inv.ID, inv.Name, inv.FinalizedAt.Format("2006-01-02"), inv.ID)
	}
	res := &FinalizeResult{Inventory: inv, DryRun: dryRun, Outbox: map[string]int{}}
	job := store.Func(func(tx *sql.Tx) error {
		// The sightings in memory are exactly those committed or pending in
		// this transaction: every read is decided on this goroutine.
		st, err := e.inventory(ctx, invID)
		if err != nil {
			return err
		}
		res.Missing, res.StillMissing = e.missing(st.view())
		res.Value, res.Outbox = 0, map[string]int{} // as new, should the writer run the job again
		for _, m := range res.Missing {
			res.Value += m.Price
			res.Outbox[m.Kind]++
		}
		tw := e.DB.Tx(tx)
		kinds, err := tw.OutboxKinds(invID)
		if err != nil {
			return err
		}
		for k, n := range kinds {
			res.Outbox[k] += n
		}
		if dryRun {
			return nil
		}
		at := time.Now().UTC()
		if err := tw.CloseInventory(invID, at); err != nil {
			return err
		}
		// The events and status changes in a fixed number of statements,
		// built from the items table: one statement per item, or Go
		// encoding each event's JSON, was most of finalize's time.
		q := store.MissingQueue{Inventory: inv, At: at, Items: make([]store.MissingEvent, len(res.Missing))}
		for i, m := range res.Missing {
			q.Items[i] = store.MissingEvent{Barcode: m.Barcode}
			if m.Kind == string(outbox.CartMissing) {
				q.Items[i].Cart = m.Container
			}
		}
		if err := tw.QueueMissing(q); err != nil {
			return err
		}
		inv.FinalizedAt = at
		return nil
	})
	if err := e.w.Do(ctx, job); err != nil {
		return nil, fmt.Errorf("finalize inventory %d: %w", invID, err)
	}
	if !dryRun && len(res.Missing) > 0 && e.OnOutbox != nil {
		e.OnOutbox()
	}
	if !dryRun {
		if inv.Policy.MissingLostValue != 0 {
			// Under one lock, with the sort keys the missing list read: Put
			// would parse each call number again.
			changed := make([]catalog.Keyed, 0, len(res.Missing))
			for _, m := range res.Missing {
				if it, ok := e.Index.Get(m.Barcode); ok {
					it.Status = catalog.StatusMissing
					key := m.sortKey
					if it.CallNumber != m.CallNumber { // changed since, by an import
						key = callnumber.Key(it.CallNumber)
					}
					changed = append(changed, catalog.Keyed{Item: it, SortKey: key})
				}
			}
			e.Index.PutBatch(changed)
		}
		e.Forget(0, invID)
	}
	return res, nil
}
