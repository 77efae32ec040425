// Package dedupe collapses the repeated reads an RFID wand makes of one tag
// into a single Read before they reach reconcile.
//
// A wand held over a shelf reads each tag many times a second; reconcile
// must see each tag once. The Filter is deliberately small: the first read
// of a tag passes at once (no added latency), repeats of the same tag on the
// same device are dropped while they keep arriving within the window, and a
// tag seen once is never dropped.
package dedupe

import (
	"sync"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// Filter drops repeated reads of one tag on one device. It is safe for
// concurrent use.
//
// The window slides: a repeat that arrives less than the window after the
// previous read of the same tag (passed or dropped) is dropped and extends
// the window, so a tag lying in the field for minutes yields one Read. A
// tag that leaves the field for longer than the window passes again when
// it comes back; reconcile counts that as a duplicate scan.
type Filter struct {
	// Now is the clock; tests replace it. Nil means time.Now.
	Now func() time.Time

	window time.Duration

	mu        sync.Mutex
	seen      map[key]time.Time // last time each tag was read
	lastSweep time.Time
	passed    uint64
	dropped   uint64
}

// key identifies one tag on one device. A struct key avoids building a
// string per read.
type key struct {
	device string
	id     string
}

// New returns a Filter with the given window. A window of zero or less
// disables deduplication: every read passes.
func New(window time.Duration) *Filter {
	return &Filter{window: window, seen: make(map[key]time.Time)}
}

// Window is the configured window.
func (f *Filter) Window() time.Duration { return f.window }

// Pass reports whether r should go on down the pipeline. The identity of a
// read is its Device plus its TagUID when set, else its Code.
func (f *Filter) Pass(r drivers.Read) bool {
	if f.window <= 0 {
		f.mu.Lock()
		f.passed++
		f.mu.Unlock()
		return true
	}
	k := key{device: r.Device, id: r.TagUID}
	if k.id == "" {
		k.id = r.Code
	}
	now := f.now()

	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweep(now)
	last, ok := f.seen[k]
	f.seen[k] = now
	if ok && now.Sub(last) < f.window {
		f.dropped++
		return false
	}
	f.passed++
	return true
}

// sweep expires entries not seen for a window, at most once per window, so
// memory is bounded by the tags seen in the last two windows and the cost
// is amortized over the reads of a window.
func (f *Filter) sweep(now time.Time) {
	if now.Sub(f.lastSweep) < f.window {
		return
	}
	f.lastSweep = now
	for k, t := range f.seen {
		if now.Sub(t) >= f.window {
			delete(f.seen, k)
		}
	}
}

func (f *Filter) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// Stats are the Filter's counters.
type Stats struct {
	Passed  uint64 // reads that went on
	Dropped uint64 // repeats that were dropped
	Tracked int    // tags currently remembered
}

// Stats returns the current counters.
func (f *Filter) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return Stats{Passed: f.passed, Dropped: f.dropped, Tracked: len(f.seen)}
}
