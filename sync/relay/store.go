package relay

import (
	"context"
	"errors"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
)

// Store is the outbox as the relay consumes it: per-sink delivery rows,
// written durably (agent/store implements it over SQLite). Every row is
// delivered to every configured sink; a row's own state follows its
// deliveries: done once every sink is done with it (or skipped it), dead
// while any sink holds it as a dead letter, pending otherwise.
type Store interface {
	// Queue gives every row added since the last call a pending delivery
	// for each sink, and revives deliveries of rows cancelled and queued
	// again; with all, every pending row is checked (once, at start, for
	// sinks new to the configuration). It returns the deliveries added.
	Queue(ctx context.Context, sinks []string, all bool) (int, error)
	// Settle recomputes every pending or dead row's state against sinks,
	// so rows no longer wait for a sink removed from the configuration.
	Settle(ctx context.Context, sinks []string, at time.Time) (int, error)
	// Due returns up to limit deliveries due for sink at now, oldest first,
	// including those of cancelled rows (State "cancelled"), to settle.
	Due(ctx context.Context, sink string, limit int, now time.Time) ([]Delivery, error)
	// Mark records what sink said about rows and settles their state
	// against sinks, in one transaction.
	Mark(ctx context.Context, sink string, sinks []string, at time.Time, results []Result) error
	// Backlog is sink's pending and dead counts, oldest pending row,
	// earliest retry and last success and error (Done and Skipped unset).
	Backlog(ctx context.Context, sink string) (SinkStats, error)
	// Status is Backlog with Done and Skipped, for each sink (every sink
	// the store has seen when none is given).
	Status(ctx context.Context, sinks []string) ([]SinkStats, error)
	// Dead lists dead letters of sinks (all when none), newest first, up
	// to limit per sink.
	Dead(ctx context.Context, sinks []string, limit int) ([]Delivery, error)
	// RetryDead puts dead letters (all when no ids are given; ids are
	// outbox row ids) back in the queue for every sink that had them, and
	// returns how many rows were revived.
	RetryDead(ctx context.Context, ids ...int64) (int, error)
}

// ErrStoreClosed is wrapped by a Store's errors once it can no longer
// write: Run then ends with that error instead of retrying.
var ErrStoreClosed = errors.New("outbox store is closed")

// Delivery is an outbox row as one sink has it.
type Delivery struct {
	outbox.Row             // the row; its State is the overall state
	Sink         string    `json:"sink"`
	SinkState    string    `json:"sink_state"` // pending, done, skipped, dead, cancelled
	SinkAttempts int       `json:"sink_attempts"`
	SinkNextAt   time.Time `json:"sink_next_at,omitzero"`
	SinkError    string    `json:"sink_error,omitempty"`
}

// Result is what a sink said about one row.
type Result struct {
	OutboxID int64
	State    string    // done, skipped (the sink does not handle the kind), pending (retry at Next), dead, cancelled (the row was undone before delivery)
	Next     time.Time // for pending
	Error    string    // the upstream's message, for pending and dead
	NotTried bool      // pending without an attempt: the sink did not send it
}

// SinkStats is one sink's backlog and health, for status pages and metrics.
type SinkStats struct {
	Sink          string    `json:"sink"`
	Pending       int       `json:"pending"` // including rows not yet queued for the sink
	Dead          int       `json:"dead"`
	Done          int       `json:"done"`
	Skipped       int       `json:"skipped"`                 // kinds the sink does not handle
	OldestPending time.Time `json:"oldest_pending,omitzero"` // created_at of the oldest row waiting; zero when none
	NextDue       time.Time `json:"next_due,omitzero"`       // earliest retry time of a pending row; zero = now
	LastOK        time.Time `json:"last_ok,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorAt   time.Time `json:"last_error_at,omitzero"`
}
