package web

import (
	"context"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/store"
)

// The scan screen's buttons, for control barcodes scanned on a scanner
// (`tally sheet control`): the functions the handlers call, so a scanned
// command and a tapped one do the same and open screens follow live.
var _ engine.Controls = (*Server)(nil)

// StartSession is the "Start session" button.
func (s *Server) StartSession(ctx context.Context, invID int64, kind store.SessionKind, cart, operator, device string) (*store.Session, error) {
	return s.startSession(ctx, invID, kind, cart, operator, device)
}

// SetState is the pause, resume and end buttons.
func (s *Server) SetState(ctx context.Context, id int64, state store.SessionState) (*store.Session, error) {
	return s.setState(ctx, id, state)
}

// Undo is the undo button.
func (s *Server) Undo(ctx context.Context, id int64) error {
	if _, err := s.b.Undo(ctx, id); err != nil {
		return err
	}
	s.notify(id)
	return nil
}
