package store

import (
	"context"
	"fmt"
	"time"
)

// ControlRow is one control barcode scanned (`tally sheet control`): the
// command, who and where, and whether it was done.
type ControlRow struct {
	ID          int64     `json:"id"`
	At          time.Time `json:"at"`
	Device      string    `json:"device,omitempty"`
	Operator    string    `json:"operator,omitempty"`
	Command     string    `json:"command"`
	Code        string    `json:"code"`
	SessionID   int64     `json:"session_id,omitempty"`
	InventoryID int64     `json:"inventory_id,omitempty"`
	Refused     string    `json:"refused,omitempty"` // why it was not done
}

// InsertControl journals a control barcode.
func (db *DB) InsertControl(ctx context.Context, r *ControlRow) (int64, error) {
	res, err := db.w.ExecContext(ctx, `INSERT INTO controls (at, device, operator, command, code, session_id, inventory_id, refused)
		VALUES (?,?,?,?,?,?,?,?)`, r.At.UTC().Format(time.RFC3339Nano), r.Device, r.Operator, r.Command, r.Code, r.SessionID, r.InventoryID, r.Refused)
	if err != nil {
		return 0, fmt.Errorf("journal control %s: %w", r.Command, err)
	}
	return res.LastInsertId()
}

// Controls lists the journaled control barcodes, oldest first.
func (db *DB) Controls(ctx context.Context) ([]ControlRow, error) {
	rows, err := db.SQL.QueryContext(ctx, `SELECT id, at, device, operator, command, code, session_id, inventory_id, refused FROM controls ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("control journal: %w", err)
	}
	defer rows.Close()
	var out []ControlRow
	for rows.Next() {
		var c ControlRow
		var at string
		if err := rows.Scan(&c.ID, &at, &c.Device, &c.Operator, &c.Command, &c.Code, &c.SessionID, &c.InventoryID, &c.Refused); err != nil {
			return nil, fmt.Errorf("control journal: %w", err)
		}
		c.At, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, c)
	}
	return out, rows.Err()
}
