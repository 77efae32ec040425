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
// restored — unless another read of the item in the inventory stands,
// which then becomes its first sighting and keeps it seen. It returns the
// read that was undone.
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
	// stands: another read of the item in the inventory (a duplicate, by
	// this session or another) was made its first sighting, so the item
	// stays seen; forgot: it was forgotten in memory by Run (for Aborted
	// to put back: its session of first sighting).
	stands   bool
	standsIn int64 // the session of that read
	forgot   int64
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
	if j.firstSeen {
		// Another read of the item still stands — someone else scanned it
		// after this read, or this session did again: it becomes the first
		// sighting, and the item stays seen with what its sighting queued
		// upstream. Forgetting it would have reported a book on the shelf
		// missing at finalize.
		var other, otherSession int64
		err := tx.QueryRow(`SELECT id, session_id FROM reads WHERE inventory_id = ? AND barcode = ? AND undone = 0 AND id != ?
			ORDER BY id LIMIT 1`, inv, r.Barcode, r.ID).Scan(&other, &otherSession)
		switch {
		case err == nil:
			if _, err := tx.Exec("UPDATE reads SET first = 1 WHERE id = ?", other); err != nil {
				return fmt.Errorf("undo: %w", err)
			}
			j.stands, j.standsIn = true, otherSession
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("undo: %w", err)
		}
	}
	if j.firstSeen && !j.stands || r.Outcome == string(reconcile.Unknown) {
		id := r.Barcode
		if id == "" {
			id = r.Code
		}
		if _, err := tx.Exec("UPDATE outbox SET state = 'cancelled' WHERE inventory_id = ? AND barcode = ? AND state = 'pending' AND kind NOT IN ('missing','cart_missing')", inv, id); err != nil {
			return fmt.Errorf("undo: %w", err)
		}
	}
	if j.firstSeen && !j.stands {
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
	if j.stands {
		j.e.mu.Lock()
		j.forgot = j.ss.inv.seen[r.Barcode]
		j.ss.inv.seen[r.Barcode] = j.standsIn
		j.e.mu.Unlock()
	}
	if j.firstSeen && !j.stands {
		// Forgotten now, not at commit: a rescan in the same batch, after
		// this undo, is then a first sighting again rather than a
		// duplicate of a sighting that no longer exists. Undo is rare:
		// count again rather than mirror every rule.
		inv := j.ss.inv
		j.e.mu.Lock()
		j.forgot = inv.seen[r.Barcode]
		delete(inv.seen, r.Barcode)
		j.e.countProgress(inv)
		j.e.mu.Unlock()
	}
	return nil
}

func (j *undoJob) Committed() {
	inv := j.ss.inv
	if j.firstSeen && j.restore != "" {
		if it, ok := j.e.Index.Get(j.row.Barcode); ok {
			it.Status = j.restore
			j.e.Index.Put(it)
		}
	}
	// Rebuild the shelf sequence from the journal: undo is rare, exactness matters.
	if j.ss.shelf != nil {
		if sh, err := j.e.shelfFromJournal(context.Background(), inv.inv.ID, j.ss.s.ID); err == nil {
			j.ss.shelf = sh
		}
	}
}

func (j *undoJob) Aborted(error) {
	if j.row != nil && j.stands {
		j.e.mu.Lock()
		j.ss.inv.seen[j.row.Barcode] = j.forgot
		j.e.mu.Unlock()
	}
	if j.row != nil && j.firstSeen && !j.stands {
		inv := j.ss.inv
		j.e.mu.Lock()
		inv.seen[j.row.Barcode] = j.forgot
		j.e.countProgress(inv)
		j.e.mu.Unlock()
	}
}
