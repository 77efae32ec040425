package engine

import (
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers/feedback"
)

// swapped tells the swap the latest shelf Add proved, on the read that
// proved it: the flag, both books and "swap: A ↔ B", while the operator
// is still beside them.
func (e *Engine) swapped(sh *reconcile.Shelf, r *reconcile.Result) {
	p, ok := sh.Swap()
	if !ok {
		return
	}
	a, b := sh.ID(p), sh.ID(p+1)
	r.Flags = append(r.Flags, reconcile.FlagSwap)
	r.Detail.SwapA, r.Detail.SwapB = a, b
	r.Detail.Swap = "swap: " + e.bookLabel(a) + " ↔ " + e.bookLabel(b)
}

// bookLabel names a book on the shelf: its call number and title, or its
// barcode when the catalog has neither.
func (e *Engine) bookLabel(bc string) string {
	it, _ := e.Index.Get(bc)
	switch {
	case it.CallNumber != "" && it.Title != "":
		return it.CallNumber + " (" + it.Title + ")"
	case it.CallNumber != "":
		return it.CallNumber
	}
	return bc
}

// Signal is the feedback pattern a read plays. A read that is itself
// routine (ok, present) but proved earlier books out of order plays that
// instead — a swap of the two books just read, or an earlier book that
// moved — since the operator is still beside them and the screen may be
// out of sight. A read with a problem of its own plays its own pattern.
func (r *Result) Signal() string {
	if r.Flags.Has("patron_card") {
		return feedback.PatronCard
	}
	if r.Flags.Has(reconcile.FlagPull) && r.Outcome != reconcile.Invalid && r.Outcome != reconcile.Unknown {
		return feedback.Pull // the list's reason is why the operator came
	}
	if r.Outcome == reconcile.OK || r.Outcome == reconcile.Present {
		switch {
		case r.Flags.Has(reconcile.FlagSwap):
			return feedback.Swap
		case len(r.Retro) > 0:
			return feedback.OutOfOrder
		}
	}
	return string(r.Outcome)
}
