package engine

import (
	"context"

	"github.com/tally-inventory/tally/agent/store"
)

// StartSession opens a session of an open inventory (see
// store.DB.StartSession). Sessions of a running agent start here, so the
// engine sees each one it will decide reads for. It loads the session's
// state (the inventory's sightings and start-of-inventory statuses, counted
// over the whole index) now rather than at the first scan, which would
// otherwise wait a hundred milliseconds or more at 100k items while the
// reads behind it queue.
func (e *Engine) StartSession(ctx context.Context, invID int64, kind store.SessionKind, cart, operator, device string) (*store.Session, error) {
	s, err := e.DB.StartSession(ctx, invID, kind, cart, operator, device)
	if err != nil {
		return nil, err
	}
	// A failure to load is no failure to start: the first read loads again
	// and reports it with that read.
	_, _ = e.session(ctx, s.ID)
	return s, nil
}

// SetSessionState pauses, resumes or ends a session and drops the engine's
// cached copy, so the next read into it sees the new state. Every state
// change of a running agent goes through here: the UI's buttons, control
// barcodes, the demo.
func (e *Engine) SetSessionState(ctx context.Context, id int64, state store.SessionState) (*store.Session, error) {
	s, err := e.DB.SetSessionState(ctx, id, state)
	if err != nil {
		return nil, err
	}
	e.Forget(id, 0)
	return s, nil
}
