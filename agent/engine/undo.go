package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
)

// ErrNothingToUndo is returned when a session has no read left to undo.
// It wraps store.ErrNotFound.
var ErrNothingToUndo = fmt.Errorf("nothing to undo in this session: %w", store.ErrNotFound)

// Undo takes back the last read of a session that is not undone yet: the
// journal row is marked undone (never deleted), a first sighting is
// forgotten so the item counts again when it is rescanned, upstream effects
// not yet delivered are cancelled, and a status the read changed locally is
// restored. It returns the read that was undone.
func (e *Engine) Undo(ctx context.Context, sessionID int64) (*store.ReadRow, error) {
	ss, err := e.session(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	j := &undoJob{e: e, ss: ss}
	if err := e.w.Do(ctx, j); err != nil {
		return nil, err
	}
	return j.row, nil
}

type undoJob struct {
	e         *Engine
	ss        *sessState
	row       *store.ReadRow
	firstSeen bool
	restore   catalog.Status
}

func (j *undoJob) Run(tx *sql.Tx) error {
	var r store.ReadRow
	err := tx.QueryRow(`SELECT id, code, barcode, outcome, flags, detail, first FROM reads
		WHERE session_id = ? AND undone = 0 ORDER BY id DESC LIMIT 1`, j.ss.s.ID).
		Scan(&r.ID, &r.Code, &r.Barcode, &r.Outcome, &r.Flags, &r.Detail, &j.firstSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNothingToUndo
	}
	if err != nil {
		return fmt.Errorf("undo: %w", err)
	}
	r.SessionID, r.InventoryID = j.ss.s.ID, j.ss.inv.inv.ID
	// A first sighting undone is forgotten: the item counts again when it
	// is rescanned.
	if _, err := tx.Exec("UPDATE reads SET undone = 1, first = 0 WHERE id = ?", r.ID); err != nil {
		return fmt.Errorf("undo: %w", err)
	}
	inv := r.InventoryID
	if j.firstSeen || r.Outcome == string(reconcile.Unknown) {
		id := r.Barcode
		if id == "" {
			id = r.Code
		}
		if _, err := tx.Exec("UPDATE outbox SET state = 'cancelled' WHERE inventory_id = ? AND barcode = ? AND state = 'pending' AND kind NOT IN ('missing','cart_missing')", inv, id); err != nil {
			return fmt.Errorf("undo: %w", err)
		}
	}
	if j.firstSeen {
		var d reconcile.Detail
		_ = json.Unmarshal([]byte(r.Detail), &d)
		fl := reconcile.ParseFlags(r.Flags)
		changed := (r.Outcome == string(reconcile.Found) || fl.Has(string(reconcile.Found))) && j.ss.inv.inv.Policy.ClearLost ||
			(r.Outcome == string(reconcile.CheckedOutOnShelf) || fl.Has(string(reconcile.CheckedOutOnShelf))) && j.ss.inv.inv.Policy.CheckIn
		if changed && d.Status != "" {
			j.restore = catalog.Status(d.Status)
			if err := store.SetItemStatus(tx, r.Barcode, j.restore); err != nil {
				return fmt.Errorf("undo: %w", err)
			}
		}
	}
	j.row = &r
	return nil
}

func (j *undoJob) Committed() {
	inv := j.ss.inv
	if j.firstSeen {
		if it, ok := j.e.Index.Get(j.row.Barcode); ok && j.restore != "" {
			it.Status = j.restore
			j.e.Index.Put(it)
		}
		// Undo is rare: count again rather than mirror every rule.
		j.e.mu.Lock()
		delete(inv.seen, j.row.Barcode)
		j.e.countProgress(inv)
		j.e.mu.Unlock()
	}
	// Rebuild the shelf sequence from the journal: undo is rare, exactness matters.
	if j.ss.shelf != nil {
		if sh, err := j.e.shelfFromJournal(context.Background(), inv.inv.ID, j.ss.s.ID); err == nil {
			j.ss.shelf = sh
		}
	}
}

func (j *undoJob) Aborted(error) {}
