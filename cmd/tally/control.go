package main

import (
	"context"
	"fmt"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/store"
)

// newController acts on control barcodes scanned on the runtime's devices:
// through the UI's own actions when the UI runs, the engine's otherwise;
// patterns on the buzzer and LEDs.
func (rt *runtime) newController() *engine.Controller {
	return &engine.Controller{DB: rt.db, Devs: rt.devs, Actions: rtControls{rt},
		Signal: func(device, pattern string) {
			if rt.signals != nil {
				_ = rt.signals.Signal(context.Background(), pattern)
			}
			if rt.verbose {
				fmt.Fprintf(rt.log, "%-12s %-20s control\n", device, pattern)
			}
		}}
}

// rtControls picks the UI's actions once the UI has started.
type rtControls struct{ rt *runtime }

func (c rtControls) pick() engine.Controls {
	if c.rt.uiControls != nil {
		return c.rt.uiControls
	}
	return engine.EngineControls{E: c.rt.e, Devs: c.rt.devs}
}

func (c rtControls) StartSession(ctx context.Context, invID int64, kind, cart, operator, device string) (*store.Session, error) {
	return c.pick().StartSession(ctx, invID, kind, cart, operator, device)
}

func (c rtControls) SetState(ctx context.Context, id int64, state string) (*store.Session, error) {
	return c.pick().SetState(ctx, id, state)
}

func (c rtControls) Undo(ctx context.Context, id int64) error { return c.pick().Undo(ctx, id) }
