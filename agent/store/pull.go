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

// Pulls is every reason to pull an item, read whole from the store and kept
// by the writer while the pull revision (PullRev) stays put: a read looks
// its item up in memory instead of running a query of its own.
type Pulls struct {
	Rev   int64
	lists map[int64]map[string]string // inventory → barcode → its lists' reasons, joined
	holds map[string]string           // barcode → the hold's reason
}

// PullRev is the pull revision, which triggers move on every change to the
// pull lists and the holds, by this process or another.
func (t TxWriter) PullRev() (int64, error) {
	var rev int64
	if err := t.queryRow(qPullRev).Scan(&rev); err != nil {
		return 0, fmt.Errorf("read pull revision: %w", err)
	}
	return rev, nil
}

// LoadPulls reads the pull lists and the holds inside the transaction, at
// revision rev.
func (t TxWriter) LoadPulls(rev int64) (*Pulls, error) {
	return loadPulls(rev, func(q string) (*sql.Rows, error) { return t.query(q) })
}

// Pulls reads the pull lists and the holds with their revision, in one
// read transaction, as the writer starts.
func (db *DB) Pulls(ctx context.Context) (*Pulls, error) {
	tx, err := db.SQL.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("read pull lists: %w", err)
	}
	defer tx.Rollback()
	var rev int64
	if err := tx.QueryRowContext(ctx, qPullRev).Scan(&rev); err != nil {
		return nil, fmt.Errorf("read pull revision: %w", err)
	}
	return loadPulls(rev, func(q string) (*sql.Rows, error) { return tx.QueryContext(ctx, q) })
}

func loadPulls(rev int64, query func(q string) (*sql.Rows, error)) (*Pulls, error) {
	p := &Pulls{Rev: rev, lists: map[int64]map[string]string{}, holds: map[string]string{}}
	rows, err := query(qPullItems)
	if err != nil {
		return nil, fmt.Errorf("read pull lists: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var inv int64
		var bc, reason string
		if err := rows.Scan(&inv, &bc, &reason); err != nil {
			return nil, fmt.Errorf("read pull lists: %w", err)
		}
		m := p.lists[inv]
		if m == nil {
			m = map[string]string{}
			p.lists[inv] = m
		}
		m[bc] = joinReason(m[bc], reason)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pull lists: %w", err)
	}
	rows.Close()
	if rows, err = query(qHolds); err != nil {
		return nil, fmt.Errorf("read holds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var bc, pickup, placed string
		if err := rows.Scan(&bc, &pickup, &placed); err != nil {
			return nil, fmt.Errorf("read holds: %w", err)
		}
		p.holds[bc] = catalog.HoldReason(pickup, placed)
	}
	return p, rows.Err()
}

// Reason is why a read of barcode in inventory invID pulls it: its lists'
// reasons, then its hold's, or the catalog's hold flag (held) when no hold
// says more. Reasons are joined with "; "; ok with an empty reason means
// listed without one.
func (p *Pulls) Reason(invID int64, barcode string, held bool) (reason string, ok bool) {
	if p == nil {
		return "", false
	}
	reason, ok = p.lists[invID][barcode]
	if h, hold := p.holds[barcode]; hold {
		return joinReason(reason, h), true
	}
	if held {
		return joinReason(reason, catalog.HoldReason("", "")), true
	}
	return reason, ok
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
