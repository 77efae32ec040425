package agent

import (
	"context"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/store"
)

// newController acts on control barcodes scanned on the agent's devices:
// through the UI's own actions when the UI runs (so open screens follow),
// the engine's otherwise; each pattern on the buzzer and LEDs.
func (a *Agent) newController(d *engine.Devices) *engine.Controller {
	return &engine.Controller{DB: a.db, Devs: d, Actions: agentControls{a},
		Signal: func(device, pattern string) {
			if a.signals != nil {
				_ = a.signals.Signal(context.Background(), pattern)
			}
			if a.opts.OnControl != nil {
				a.opts.OnControl(device, pattern)
			}
		}}
}

// agentControls picks the UI's actions once the UI has started.
type agentControls struct{ a *Agent }

func (c agentControls) pick() engine.Controls {
	if c.a.ui != nil {
		return c.a.ui
	}
	return engine.EngineControls{E: c.a.e, Devs: c.a.devs}
}

func (c agentControls) StartSession(ctx context.Context, invID int64, kind store.SessionKind, cart, operator, device string) (*store.Session, error) {
	return c.pick().StartSession(ctx, invID, kind, cart, operator, device)
}

func (c agentControls) SetState(ctx context.Context, id int64, state store.SessionState) (*store.Session, error) {
	return c.pick().SetState(ctx, id, state)
}

func (c agentControls) Undo(ctx context.Context, id int64) error { return c.pick().Undo(ctx, id) }
