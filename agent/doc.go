// Package agent is tally's runtime, the long-running object `tally run` and
// `tally demo` start: New checks the configuration and opens the store and
// the read engine (package engine); Start opens the devices (each through
// the factory its protocol registered in drivers/readers), the feedback
// pins, the metrics and UI listeners and the relay to the sinks (registered
// in sync/sinks); Run waits and drains; Close closes the store.
//
// A read goes: driver → engine.Devices (dedupe, tag data, control codes,
// routing) → engine.Engine (reconcile, journal and outbox rows in one
// commit) → after commit, the hub (live UI) and metrics here, the feedback
// in the device's order of reads, and the relay that sends the outbox on.
package agent
