// Package sinktest is the contract every relay.Sink keeps, as one suite run
// against each sink and its loopback upstream — in the manner of
// Litestream's integration suite run against every replica client. A sink
// package's test supplies a Harness; Run checks:
//
//   - as many outcomes as events, in order;
//   - a cancelled context: nothing is sent, every outcome is Retry;
//   - the same key twice (in one batch, and again later): one upstream change;
//   - a rejection: a Reject carrying the upstream's message, the rest of the
//     batch delivered;
//   - a 429 honours Retry-After: a Retry with that RetryAfter, then delivery;
//   - a connection dropped mid-request after the upstream applied it: the
//     event is not lost, and sending it again makes no second change.
//
// A case the upstream cannot stage (an export folder has no 429) is skipped
// with the reason.
package sinktest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
)

// Upstream is the loopback upstream a sink delivers to.
type Upstream interface {
	// Changes is how many changes the upstream made to barcode's item.
	Changes(barcode string) int
}

// Rejecter is an upstream that rejects an event for barcode (an item it
// does not have); message is a piece of the upstream's answer the sink's
// error must carry.
type Rejecter interface {
	Reject(barcode string) (message string)
}

// Throttler is an upstream that answers the next request 429 with
// Retry-After: after (whole seconds).
type Throttler interface {
	ThrottleNext(after time.Duration)
}

// Dropper is an upstream that applies the next changing request and then
// drops the connection before the sink reads the reply.
type Dropper interface {
	DropNextAfterApply()
}

// Harness is what a sink's test gives Run.
type Harness struct {
	// Start starts a fresh upstream holding items with these barcodes and
	// returns a sink delivering to it; both are cleaned up with t.
	Start func(t *testing.T, barcodes []string) (relay.Sink, Upstream)
	// Event is an event the sink changes the upstream for (a sighting),
	// for barcode; the same id gives the same key.
	Event func(id int64, barcode string) outbox.Event
}

var items = []string{"30001001", "30001002", "30001003", "30001004", "30001005"}

// Run runs the contract.
func Run(t *testing.T, h Harness) {
	events := func(ids ...int) []outbox.Event {
		var evs []outbox.Event
		for _, i := range ids {
			evs = append(evs, h.Event(int64(i+1), items[i]))
		}
		return evs
	}
	deliver := func(t *testing.T, s relay.Sink, ctx context.Context, evs []outbox.Event) []relay.Outcome {
		t.Helper()
		out := s.Deliver(ctx, evs)
		if len(out) != len(evs) {
			t.Fatalf("%d outcomes for %d events", len(out), len(evs))
		}
		return out
	}
	want := func(t *testing.T, out []relay.Outcome, v ...relay.Verdict) {
		t.Helper()
		for i := range v {
			if out[i].Verdict != v[i] {
				t.Errorf("outcome %d: %v (%v), want %v", i, name(out[i].Verdict), out[i].Err, name(v[i]))
			}
		}
	}
	changes := func(t *testing.T, up Upstream, want ...int) {
		t.Helper()
		for i, n := range want {
			if got := up.Changes(items[i]); got != n {
				t.Errorf("%s: %d upstream changes, want %d", items[i], got, n)
			}
		}
	}

	t.Run("outcome per event", func(t *testing.T) {
		s, up := h.Start(t, items)
		out := deliver(t, s, context.Background(), events(0, 1, 2, 3, 4))
		want(t, out, relay.Accept, relay.Accept, relay.Accept, relay.Accept, relay.Accept)
		changes(t, up, 1, 1, 1, 1, 1)
	})

	t.Run("cancelled context sends nothing", func(t *testing.T) {
		s, up := h.Start(t, items)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		out := deliver(t, s, ctx, events(0, 1, 2))
		want(t, out, relay.Retry, relay.Retry, relay.Retry)
		changes(t, up, 0, 0, 0)
	})

	t.Run("same key twice is one change", func(t *testing.T) {
		s, up := h.Start(t, items)
		ev := events(0)[0]
		out := deliver(t, s, context.Background(), []outbox.Event{ev, ev})
		want(t, out, relay.Accept, relay.Accept)
		out = deliver(t, s, context.Background(), []outbox.Event{ev}) // resent after a crash
		want(t, out, relay.Accept)
		changes(t, up, 1)
	})

	t.Run("rejection carries the upstream's message", func(t *testing.T) {
		s, up := h.Start(t, items)
		r, ok := up.(Rejecter)
		if !ok {
			t.Skip("this upstream never rejects an event")
		}
		msg := r.Reject(items[1])
		out := deliver(t, s, context.Background(), events(0, 1, 2))
		want(t, out, relay.Accept, relay.Reject, relay.Accept)
		if out[1].Err == nil || !strings.Contains(out[1].Err.Error(), msg) {
			t.Errorf("rejection %v: want the upstream's %q", out[1].Err, msg)
		}
		changes(t, up, 1, 0, 1)
	})

	t.Run("429 honours Retry-After", func(t *testing.T) {
		s, up := h.Start(t, items)
		th, ok := up.(Throttler)
		if !ok {
			t.Skip("this upstream has no 429")
		}
		th.ThrottleNext(time.Second)
		out := deliver(t, s, context.Background(), events(0))
		want(t, out, relay.Retry)
		if out[0].RetryAfter != time.Second {
			t.Errorf("RetryAfter %v, want the upstream's 1s", out[0].RetryAfter)
		}
		changes(t, up, 0)
		time.Sleep(out[0].RetryAfter) // as the relay waits
		out = deliver(t, s, context.Background(), events(0))
		want(t, out, relay.Accept)
		changes(t, up, 1)
	})

	t.Run("dropped connection is retried without a second change", func(t *testing.T) {
		s, up := h.Start(t, items)
		d, ok := up.(Dropper)
		if !ok {
			t.Skip("this upstream has no connection to drop")
		}
		d.DropNextAfterApply()
		out := deliver(t, s, context.Background(), events(0, 1))
		// The sink may have found out by itself (a safe resend); if not, it
		// must not call the event delivered or dead.
		if v := out[0].Verdict; v != relay.Accept && v != relay.Retry {
			t.Errorf("after a dropped connection: %v (%v), want Retry or Accept", name(v), out[0].Err)
		}
		if out[0].Verdict == relay.Retry && errors.Is(out[0].Err, relay.ErrNotSent) {
			t.Errorf("the dropped request is marked not sent: %v", out[0].Err)
		}
		// The relay sends what was not accepted again.
		var again []outbox.Event
		for i, o := range out {
			if o.Verdict == relay.Retry {
				again = append(again, events(i)...)
			}
		}
		if len(again) > 0 {
			out = deliver(t, s, context.Background(), again)
			for i, o := range out {
				if o.Verdict != relay.Accept {
					t.Errorf("resend %d: %v (%v), want Accept", i, name(o.Verdict), o.Err)
				}
			}
		}
		changes(t, up, 1, 1)
	})
}

func name(v relay.Verdict) string {
	switch v {
	case relay.Accept:
		return "Accept"
	case relay.Retry:
		return "Retry"
	case relay.Reject:
		return "Reject"
	case relay.Skip:
		return "Skip"
	}
	return "verdict?"
}
