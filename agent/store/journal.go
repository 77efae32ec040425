package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
)

// ReadRow is one journal row.
type ReadRow struct {
	ID          int64     `json:"id"`
	SessionID   int64     `json:"session_id"`
	InventoryID int64     `json:"inventory_id"`
	At          time.Time `json:"at"`
	Device      string    `json:"device,omitempty"`
	DeviceKind  string    `json:"device_kind,omitempty"`
	Raw         []byte    `json:"-"`
	Code        string    `json:"code"`
	Barcode     string    `json:"barcode,omitempty"`
	Outcome     string    `json:"outcome"`
	Flags       string    `json:"flags,omitempty"`
	Detail      string    `json:"detail,omitempty"`
	Undone      bool      `json:"undone,omitempty"`
}

// OutboxRow is one upstream effect waiting for the relay.
type OutboxRow struct {
	ID          int64           `json:"id"`
	Key         string          `json:"key"`
	Kind        string          `json:"kind"`
	InventoryID int64           `json:"inventory_id"`
	Barcode     string          `json:"barcode"`
	Payload     json.RawMessage `json:"payload"`
	CreatedAt   time.Time       `json:"created_at"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	NextAt      time.Time       `json:"next_at,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
}

// OutboxKey is the idempotency key of an upstream effect: one per
// inventory, item and kind, so a rescan or a retry never makes a second
// upstream change.
func OutboxKey(invID int64, barcode, kind string) string {
	return fmt.Sprintf("inv%d/%s/%s", invID, barcode, kind)
}

// InsertRead appends a journal row inside tx and returns its id.
func InsertRead(tx *sql.Tx, r *ReadRow) (int64, error) {
	res, err := tx.Exec(`INSERT INTO reads (session_id, inventory_id, at, device, device_kind, raw, code, barcode, outcome, flags, detail)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`, r.SessionID, r.InventoryID, r.At.UTC().Format(time.RFC3339Nano),
		r.Device, r.DeviceKind, r.Raw, r.Code, r.Barcode, r.Outcome, r.Flags, r.Detail)
	if err != nil {
		return 0, fmt.Errorf("journal read: %w", err)
	}
	return res.LastInsertId()
}

// InsertSeen records the first sighting of an item in an inventory. A
// second sighting violates the primary key: the caller decided "duplicate"
// from memory, and this keeps the store honest if memory was wrong.
func InsertSeen(tx *sql.Tx, invID int64, barcode string, readID, sessionID int64, day time.Time) error {
	if _, err := tx.Exec("INSERT INTO seen (inventory_id, barcode, read_id, session_id) VALUES (?,?,?,?)",
		invID, barcode, readID, sessionID); err != nil {
		return fmt.Errorf("record sighting of %s: %w", barcode, err)
	}
	if err := markSeen(tx, barcode, day); err != nil {
		return fmt.Errorf("update last seen of %s: %w", barcode, err)
	}
	return nil
}

// SetItemStatus changes an item's status in the catalog table (a lost item
// found, with the policy to clear it).
func SetItemStatus(tx *sql.Tx, barcode string, st catalog.Status) error {
	_, err := tx.Exec("UPDATE items SET status = ?, due_date = CASE WHEN ? = 'checked_out' THEN due_date ELSE 0 END WHERE barcode = ?", string(st), string(st), barcode)
	return err
}

// InsertOutbox adds an upstream effect inside tx. A row with the same key
// is left as it is — the effect is already queued or done — unless it was
// cancelled (an undone read), in which case it is queued again.
func InsertOutbox(tx *sql.Tx, key, kind string, invID int64, barcode string, payload any) error {
	pj, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("outbox %s: %w", key, err)
	}
	if _, err := tx.Exec(`INSERT INTO outbox (key, kind, inventory_id, barcode, payload, created_at)
		VALUES (?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET state = 'pending', payload = excluded.payload,
		attempts = 0, next_at = '', last_error = '' WHERE outbox.state = 'cancelled'`, key, kind, invID, barcode, string(pj), now()); err != nil {
		return fmt.Errorf("outbox %s: %w", key, err)
	}
	return nil
}

// Seen returns, for each inventory id given, the barcodes seen and the
// session of their first sighting.
func (db *DB) Seen(ctx context.Context, invID int64) (map[string]int64, error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT barcode, session_id FROM seen WHERE inventory_id = ?", invID)
	if err != nil {
		return nil, fmt.Errorf("load sightings: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var bc string
		var s int64
		if err := rows.Scan(&bc, &s); err != nil {
			return nil, err
		}
		out[bc] = s
	}
	return out, rows.Err()
}

const readCols = "id, session_id, inventory_id, at, device, device_kind, raw, code, barcode, outcome, flags, detail, undone"

func scanRead(sc interface{ Scan(...any) error }) (*ReadRow, error) {
	var r ReadRow
	var at string
	if err := sc.Scan(&r.ID, &r.SessionID, &r.InventoryID, &at, &r.Device, &r.DeviceKind, &r.Raw, &r.Code,
		&r.Barcode, &r.Outcome, &r.Flags, &r.Detail, &r.Undone); err != nil {
		return nil, err
	}
	r.At, _ = time.Parse(time.RFC3339Nano, at)
	return &r, nil
}

// Reads returns journal rows of a session (or of an inventory when
// sessionID is 0), oldest first; undone rows are included and marked.
func (db *DB) Reads(ctx context.Context, invID, sessionID int64, fn func(*ReadRow) error) error {
	q := "SELECT " + readCols + " FROM reads WHERE inventory_id = ?"
	args := []any{invID}
	if sessionID != 0 {
		q += " AND session_id = ?"
		args = append(args, sessionID)
	}
	rows, err := db.SQL.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRead(rows)
		if err != nil {
			return fmt.Errorf("read journal: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountReads is the number of journal rows (for tests and status).
func (db *DB) CountReads(ctx context.Context) (int64, error) {
	var n int64
	err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM reads").Scan(&n)
	return n, err
}
