package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tally-inventory/tally/agent/catalog"
)

// PullItem is one entry of an inventory's pull list: an item to take off
// the shelf when the walk meets them, and why.
type PullItem struct {
	Barcode string `json:"barcode"`
	Reason  string `json:"reason"`
	Source  string `json:"source,omitempty"` // the file it came from, "koha", "weeding rules"
	Line    int    `json:"line,omitempty"`   // its line there; 0 when not from a file
}

// Pull lists an inventory carries side by side; attaching one replaces
// only the list of its kind.
const (
	ListFile    = "file"    // a CSV of barcodes and reasons
	ListWeeding = "weeding" // items chosen by weeding rules
)

// SetPullList replaces an inventory's list from a file (ListFile) with
// items, in one transaction: a list is attached whole or not at all.
func (db *DB) SetPullList(ctx context.Context, invID int64, items []PullItem) error {
	return db.SetPullListKind(ctx, invID, ListFile, items)
}

// SetPullListKind replaces an inventory's pull list of one kind with items,
// in one transaction; the other kinds stay.
func (db *DB) SetPullListKind(ctx context.Context, invID int64, list string, items []PullItem) error {
	if db.w == nil {
		return errors.New("set pull list: database opened read-only")
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set pull list: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM pull_items WHERE inventory_id = ? AND list = ?", invID, list); err != nil {
		return fmt.Errorf("set pull list: %w", err)
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO pull_items (inventory_id, list, barcode, reason, source, line) VALUES (?,?,?,?,?,?)")
	if err != nil {
		return fmt.Errorf("set pull list: %w", err)
	}
	defer st.Close()
	for _, it := range items {
		if _, err := st.ExecContext(ctx, invID, list, it.Barcode, it.Reason, it.Source, it.Line); err != nil {
			return fmt.Errorf("set pull list: %s: %w", it.Barcode, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set pull list: %w", err)
	}
	return nil
}

// PullList returns what an inventory pulls: its attached lists (a file's
// in the order of its lines, then the weeding list), then the holds to
// pull among the items it expects or has seen, then such items the catalog
// flags as held that no holds list names. An item on several lists comes
// once, its reasons joined with "; ".
func (db *DB) PullList(ctx context.Context, invID int64) ([]PullItem, error) {
	var out []PullItem
	at := map[string]int{}
	add := func(it PullItem) {
		if i, ok := at[it.Barcode]; ok {
			out[i].Reason = joinReason(out[i].Reason, it.Reason)
			return
		}
		at[it.Barcode] = len(out)
		out = append(out, it)
	}
	rows, err := db.SQL.QueryContext(ctx, `SELECT barcode, reason, source, line FROM pull_items WHERE inventory_id = ?
		ORDER BY list = 'weeding', source, line, barcode`, invID)
	if err != nil {
		return nil, fmt.Errorf("read pull list: %w", err)
	}
	if err := scanPulls(rows, add); err != nil {
		return nil, err
	}
	// Only holds on this inventory's ground: a hold on a book another
	// inventory covers is not "not found" here.
	rows, err = db.SQL.QueryContext(ctx, `SELECT h.barcode, h.pickup, h.placed, h.source, h.line FROM holds h
		WHERE h.barcode IN (SELECT barcode FROM inventory_items WHERE inventory_id = ?1 AND expected = 1
			UNION SELECT barcode FROM reads WHERE inventory_id = ?1 AND first = 1)
		ORDER BY h.source, h.line, h.barcode`, invID)
	if err != nil {
		return nil, fmt.Errorf("read holds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h catalog.Hold
		if err := rows.Scan(&h.Barcode, &h.Pickup, &h.Placed, &h.Source, &h.Line); err != nil {
			return nil, fmt.Errorf("read holds: %w", err)
		}
		add(PullItem{Barcode: h.Barcode, Reason: h.Reason(), Source: h.Source, Line: h.Line})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read holds: %w", err)
	}
	rows, err = db.SQL.QueryContext(ctx, `SELECT barcode, ?2, 'catalog hold flag', 0 FROM items
		WHERE hold = 1 AND barcode NOT IN (SELECT barcode FROM holds)
		AND barcode IN (SELECT barcode FROM inventory_items WHERE inventory_id = ?1 AND expected = 1
			UNION SELECT barcode FROM reads WHERE inventory_id = ?1 AND first = 1)
		ORDER BY barcode`, invID, catalog.HoldReason("", ""))
	if err != nil {
		return nil, fmt.Errorf("read held items: %w", err)
	}
	if err := scanPulls(rows, add); err != nil {
		return nil, err
	}
	return out, nil
}

func scanPulls(rows *sql.Rows, add func(PullItem)) error {
	defer rows.Close()
	for rows.Next() {
		var it PullItem
		if err := rows.Scan(&it.Barcode, &it.Reason, &it.Source, &it.Line); err != nil {
			return fmt.Errorf("read pull list: %w", err)
		}
		add(it)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read pull list: %w", err)
	}
	return nil
}

func joinReason(a, b string) string {
	switch {
	case b == "" || a == b || strings.Contains("; "+a+"; ", "; "+b+"; "):
		return a
	case a == "":
		return b
	}
	return a + "; " + b
}

// PullLists returns the inventories whose reads may pull, inside the
// transaction: those with a list attached, and every open one while holds
// wait (a read needs to look its item up only in those).
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

// PullReason looks an item up in its inventory's pull lists and in the
// holds to pull, inside the read's transaction, so a list attached or a
// holds list fetched while the agent runs counts from the next read on.
// The reasons are joined with "; "; ok with an empty reason means listed
// without one.
func (t TxWriter) PullReason(invID int64, barcode string) (reason string, ok bool, err error) {
	rows, err := t.query(qPullReason, invID, barcode)
	if err != nil {
		return "", false, fmt.Errorf("look up pull list: %w", err)
	}
	defer rows.Close()
	held := false
	for rows.Next() {
		var kind int
		var r, pickup, placed string
		if err := rows.Scan(&kind, &r, &pickup, &placed); err != nil {
			return "", false, fmt.Errorf("look up pull list: %w", err)
		}
		switch kind {
		case 0:
			reason = joinReason(reason, r)
		case 1:
			held = true
			reason = joinReason(reason, catalog.HoldReason(pickup, placed))
		case 2:
			if !held { // a holds list says more than the flag
				reason = joinReason(reason, catalog.HoldReason("", ""))
			}
		}
		ok = true
	}
	if err := rows.Err(); err != nil {
		return "", false, fmt.Errorf("look up pull list: %w", err)
	}
	return reason, ok, nil
}

// PullProgress counts an inventory's pull list (see PullList) and how many
// of its items the walk has met.
func (db *DB) PullProgress(ctx context.Context, invID int64) (listed, pulled int, err error) {
	list, err := db.PullList(ctx, invID)
	if err != nil {
		return 0, 0, err
	}
	for _, p := range list {
		var one int
		err := db.SQL.QueryRowContext(ctx, "SELECT 1 FROM reads WHERE inventory_id = ? AND barcode = ? AND first = 1", invID, p.Barcode).Scan(&one)
		switch {
		case err == nil:
			pulled++
		case !errors.Is(err, sql.ErrNoRows):
			return 0, 0, fmt.Errorf("count pulled: %w", err)
		}
	}
	return len(list), pulled, nil
}
