package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PullItem is one entry of an inventory's pull list: an item to take off
// the shelf when the walk meets it, and why.
type PullItem struct {
	Barcode string `json:"barcode"`
	Reason  string `json:"reason"`
	Source  string `json:"source,omitempty"` // the file it came from
	Line    int    `json:"line,omitempty"`   // its line there
}

// SetPullList replaces an inventory's pull list with items, in one
// transaction: a list is attached whole or not at all.
func (db *DB) SetPullList(ctx context.Context, invID int64, items []PullItem) error {
	if db.w == nil {
		return errors.New("set pull list: database opened read-only")
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set pull list: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM pull_items WHERE inventory_id = ?", invID); err != nil {
		return fmt.Errorf("set pull list: %w", err)
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO pull_items (inventory_id, barcode, reason, source, line) VALUES (?,?,?,?,?)")
	if err != nil {
		return fmt.Errorf("set pull list: %w", err)
	}
	defer st.Close()
	for _, it := range items {
		if _, err := st.ExecContext(ctx, invID, it.Barcode, it.Reason, it.Source, it.Line); err != nil {
			return fmt.Errorf("set pull list: %s: %w", it.Barcode, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set pull list: %w", err)
	}
	return nil
}

// PullList returns an inventory's pull list in the order of its file.
func (db *DB) PullList(ctx context.Context, invID int64) ([]PullItem, error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT barcode, reason, source, line FROM pull_items WHERE inventory_id = ? ORDER BY source, line", invID)
	if err != nil {
		return nil, fmt.Errorf("read pull list: %w", err)
	}
	defer rows.Close()
	var out []PullItem
	for rows.Next() {
		var it PullItem
		if err := rows.Scan(&it.Barcode, &it.Reason, &it.Source, &it.Line); err != nil {
			return nil, fmt.Errorf("read pull list: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// PullLists returns the inventories that have a pull list, inside the
// transaction: a read needs to look its item up only in those.
func (t TxWriter) PullLists() (map[int64]bool, error) {
	rows, err := t.query(qPullLists)
	if err != nil {
		return nil, fmt.Errorf("look up pull lists: %w", err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("look up pull lists: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// PullReason looks an item up in its inventory's pull list inside the
// read's transaction, so a list attached while the agent runs counts from
// the next read on.
func (t TxWriter) PullReason(invID int64, barcode string) (reason string, ok bool, err error) {
	err = t.queryRow(qPullReason, invID, barcode).Scan(&reason)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("look up pull list: %w", err)
	}
	return reason, true, nil
}
