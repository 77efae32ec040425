package agent_test

import (
	"context"
	"testing"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
)

// shelfSession imports items into the agent's catalog, creates an
// inventory of the Fiction location and starts a shelf session there
// through the engine, bound to device.
func shelfSession(t *testing.T, ctx context.Context, a *agent.Agent, device string, items []catalog.Item) (*store.Inventory, *store.Session) {
	t.Helper()
	e := a.Engine()
	if _, err := e.DB.Import(ctx, e.Index, "test", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := e.StartSession(ctx, inv.ID, store.SessionShelf, "", "ana", device)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Devices().Bind(ctx, device, sess.ID); err != nil {
		t.Fatal(err)
	}
	return inv, sess
}

// runAgent runs a until the test ends, and fails the test if Run fails.
func runAgent(t *testing.T, ctx context.Context, a *agent.Agent) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
