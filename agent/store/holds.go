package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/tally-inventory/tally/agent/catalog"
)

// SetHolds replaces the holds to pull with holds, in one transaction. The
// table is catalog data like the items: an import may write it beside the
// running agent, which looks holds up inside each read's transaction.
func (db *DB) SetHolds(ctx context.Context, holds []catalog.Hold) error {
	if db.w == nil {
		return errors.New("set holds: database opened read-only")
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set holds: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM holds"); err != nil {
		return fmt.Errorf("set holds: %w", err)
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO holds (barcode, pickup, placed, source, line) VALUES (?,?,?,?,?)")
	if err != nil {
		return fmt.Errorf("set holds: %w", err)
	}
	defer st.Close()
	for _, h := range holds {
		if _, err := st.ExecContext(ctx, h.Barcode, h.Pickup, h.Placed, h.Source, h.Line); err != nil {
			return fmt.Errorf("set holds: %s: %w", h.Barcode, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set holds: %w", err)
	}
	return nil
}

// Holds returns the holds to pull, by barcode.
func (db *DB) Holds(ctx context.Context) ([]catalog.Hold, error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT barcode, pickup, placed, source, line FROM holds ORDER BY barcode")
	if err != nil {
		return nil, fmt.Errorf("read holds: %w", err)
	}
	defer rows.Close()
	var out []catalog.Hold
	for rows.Next() {
		var h catalog.Hold
		if err := rows.Scan(&h.Barcode, &h.Pickup, &h.Placed, &h.Source, &h.Line); err != nil {
			return nil, fmt.Errorf("read holds: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Candidates calls fn with every book, with the columns weeding rules read
// (the index leaves last checkout and condition out: a read never needs
// them).
func (db *DB) Candidates(ctx context.Context, fn func(catalog.Item) error) error {
	rows, err := db.SQL.QueryContext(ctx, "SELECT "+itemCols+", "+weedCols+" FROM items WHERE kind = 'book' ORDER BY sort_key, barcode")
	if err != nil {
		return fmt.Errorf("read items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var lastOut int64
		var cond string
		it, err := scanItem(rows, &lastOut, &cond)
		if err != nil {
			return fmt.Errorf("read items: %w", err)
		}
		it.LastBorrowed, it.Condition = fromDays(lastOut), cond
		if err := fn(it); err != nil {
			return err
		}
	}
	return rows.Err()
}
