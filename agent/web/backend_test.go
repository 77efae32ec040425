package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
)

// testBackend is a real engine on a temporary SQLite database, with the
// few things the runtime adds (devices, sinks, undo) done simply.
type testBackend struct {
	*engine.Engine
	mu      sync.Mutex
	devices []DeviceStatus
	sinks   []SinkStatus
}

var _ Backend = (*testBackend)(nil)

func (b *testBackend) Store() *store.DB        { return b.DB }
func (b *testBackend) Catalog() *catalog.Index { return b.Index }
func (b *testBackend) Sinks() []SinkStatus     { return b.sinks }

func (b *testBackend) Devices() []DeviceStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.devices)
}

func (b *testBackend) Bind(device string, sessionID int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.devices {
		if b.devices[i].Name == device {
			b.devices[i].SessionID = sessionID
			return nil
		}
	}
	return fmt.Errorf("device %q: %w", device, store.ErrNotFound)
}

// Undo marks the session's last read undone and takes back its first
// sighting and pending upstream effects, then lets the engine reload.
// (The runtime's Engine.Undo replaces this.)
func (b *testBackend) Undo(ctx context.Context, sessionID int64) (*engine.Result, error) {
	var res engine.Result
	err := b.Writer().Do(ctx, store.Func(func(tx *sql.Tx) error {
		var outcome string
		err := tx.QueryRow(`SELECT id, inventory_id, code, barcode, outcome FROM reads
			WHERE session_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1`, sessionID).
			Scan(&res.ReadID, &res.InventoryID, &res.Code, &res.Barcode, &outcome)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("session %d has no read to undo: %w", sessionID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		res.SessionID, res.Outcome = sessionID, reconcile.Outcome(outcome)
		r, err := tx.Exec("UPDATE reads SET undone = 1, first = 0 WHERE id = ? AND first = 1", res.ReadID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			_, err = tx.Exec("UPDATE reads SET undone = 1 WHERE id = ?", res.ReadID)
		} else {
			_, err = tx.Exec("DELETE FROM outbox WHERE inventory_id = ? AND barcode = ? AND state = 'pending'", res.InventoryID, res.Barcode)
		}
		return err
	}))
	if err != nil {
		return nil, err
	}
	b.Forget(0, res.InventoryID)
	return &res, nil
}

func newBackend(t testing.TB, items []catalog.Item) *testBackend {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range items {
		if items[i].Status == "" {
			items[i].Status = catalog.StatusAvailable
		}
		if items[i].Kind == "" {
			items[i].Kind = catalog.KindBook
		}
	}
	if _, err := db.Import(ctx, nil, "fixture", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	e, err := engine.NewEngine(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(); db.Close() })
	return &testBackend{Engine: e, devices: []DeviceStatus{
		{Name: "desk-scanner", Kind: "scanner", State: "connected"},
		{Name: "wand", Kind: "rfid", State: "failing", Error: "no reply to inventory command"},
	}}
}
