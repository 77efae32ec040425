// Package relay drains the outbox (a Store; agent/store keeps it in SQLite)
// to the configured upstream sinks: batches, several requests in flight where the upstream
// takes them, a retry budget per sink that tells "some requests fail" (the
// failed event is retried soon, alone) from "the upstream is down or
// throttling" (the whole sink backs off, capped exponential with full
// jitter, or as long as Retry-After says), a rate limit per sink, and dead
// letters a person can see and retry. A row is marked done only after its
// sink confirms it.
//
// Every row goes to every sink, each with its own delivery state (see
// Store): a slow or broken upstream does not hold up the
// others, and the row's own state is done once all sinks are done with it.
//
// Lifecycle: New queues what is pending for each sink; Run(ctx) delivers
// until ctx ends, then lets the batch in flight finish (Opts.StopGrace) and
// records it; Once(ctx) is one pass for cron and for tests that drive the
// clock by hand. Delivery is at least once: after a crash the unrecorded
// batch is sent again, and sinks make that harmless (see Sink).
package relay

import (
	"context"
	"errors"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
)

// Verdict is a sink's answer for one event (Telegraf/Fluent Bit style).
type Verdict int

const (
	Accept Verdict = iota // delivered (or already true upstream): mark done
	Retry                 // transient: try again later (network, 5xx, 429, timeout)
	Reject                // permanent: dead letter with the upstream's message
	Skip                  // this sink does not handle this kind: done for this sink
)

// ErrNotSent marks a Retry outcome for an event the sink did not try to
// send (it stopped the batch after an earlier event failed). Wrap it in
// Outcome.Err: the row is not charged an attempt and does not count against
// the retry budget; it goes again in the next batch, or when the sink's
// back-off ends. An event that failed waits on its own schedule, so it
// cannot hold up the rest of the queue.
var ErrNotSent = errors.New("not sent")

// Outcome is the verdict for one event of a batch.
type Outcome struct {
	Verdict    Verdict
	Err        error         // the upstream's message for Retry and Reject
	RetryAfter time.Duration // from a Retry-After header; 0 lets the relay back off
}

// Sink delivers events (outbox.Event: one typed event for every sink)
// upstream. A row whose kind or payload cannot be decoded never reaches a
// sink: the relay makes it a dead letter that says why.
//
// Lifecycle: the relay calls Deliver from one goroutine at a time per sink,
// or up to InFlight at once for a Concurrent sink; Deliver returns one Outcome per event, in order, and must return when ctx
// ends. A sink that cannot reach its upstream at all returns Retry for every
// event. Sinks make resends harmless: they use the event's Key as an
// idempotency key or check the upstream's state before changing it.
type Sink interface {
	// Name is the configured sink name (metrics label, status pages).
	Name() string
	// Deliver sends a batch.
	Deliver(ctx context.Context, events []outbox.Event) []Outcome
}
