package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
)

// The outbox is at-least-once delivery: the relay reads pending rows,
// hands them to a sink, and marks each done only after the sink confirms.
// Rows are keyed per inventory, item and kind, so upstream sees one change
// per key however often the key is sent.

// NewEvent is the row that queues the upstream effect of kind on barcode
// (for unknown, the code read), keyed outbox.Key(invID, barcode, kind).
func NewEvent(invID int64, barcode string, kind outbox.Kind, data outbox.Data) (NewOutbox, error) {
	key := outbox.Key(invID, barcode, kind)
	if !kind.Valid() {
		_, err := outbox.ParseKind(string(kind))
		return NewOutbox{}, fmt.Errorf("outbox %s: %w", key, err)
	}
	p, err := json.Marshal(data)
	if err != nil {
		return NewOutbox{}, fmt.Errorf("outbox %s: %w", key, err)
	}
	return NewOutbox{Key: key, Kind: string(kind), InvID: invID, Barcode: barcode, Payload: p}, nil
}

// PendingOutbox returns up to limit rows that are due (pending and whose
// next attempt time has come), oldest first. kinds, when given, filters.
func (db *DB) PendingOutbox(ctx context.Context, limit int, now time.Time, kinds ...string) ([]outbox.Row, error) {
	q := "SELECT " + outboxCols + " FROM outbox WHERE state = 'pending' AND next_at <= ?"
	args := []any{now.UTC().Format(time.RFC3339Nano)}
	if len(kinds) > 0 {
		q += " AND kind IN (?" + strings.Repeat(",?", len(kinds)-1) + ")"
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, limit)
	return db.queryOutbox(ctx, q, args...)
}

// OutboxRows lists rows in a state ("pending", "done", "dead"), newest first.
func (db *DB) OutboxRows(ctx context.Context, state string, limit int) ([]outbox.Row, error) {
	return db.queryOutbox(ctx, "SELECT "+outboxCols+" FROM outbox WHERE state = ? ORDER BY id DESC LIMIT ?", state, limit)
}

const outboxCols = "id, key, kind, inventory_id, barcode, payload, created_at, state, attempts, next_at, last_error"

func (db *DB) queryOutbox(ctx context.Context, q string, args ...any) ([]outbox.Row, error) {
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	var out []outbox.Row
	for rows.Next() {
		var r outbox.Row
		var payload, created, next string
		if err := rows.Scan(&r.ID, &r.Key, &r.Kind, &r.InventoryID, &r.Barcode, &payload, &created, &r.State,
			&r.Attempts, &next, &r.LastError); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		r.Payload = json.RawMessage(payload)
		r.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
		r.NextAt, _ = time.Parse(time.RFC3339Nano, next)
		out = append(out, r)
	}
	return out, rows.Err()
}

// OutboxResult is what a sink said about one row.
type OutboxResult struct {
	ID    int64
	State string    // "done", "pending" (retry at NextAt) or "dead"
	Next  time.Time // for retries
	Error string    // the upstream's message, for retries and dead letters
}

// MarkOutbox records what happened to rows, in one transaction through
// the writer (the relay runs beside the read pipeline).
func (db *DB) MarkOutbox(ctx context.Context, w *Writer, results []OutboxResult) error {
	if len(results) == 0 {
		return nil
	}
	return w.Do(ctx, Func(func(tx *sql.Tx) error {
		st, err := tx.Prepare(`UPDATE outbox SET state = ?, attempts = attempts + 1, next_at = ?, last_error = ?,
			done_at = CASE WHEN ? = 'done' THEN ? ELSE done_at END WHERE id = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		at := now()
		for _, r := range results {
			switch r.State {
			case "done", "pending", "dead":
			default:
				return fmt.Errorf("outbox row %d: state %q: want done, pending or dead", r.ID, r.State)
			}
			next := ""
			if !r.Next.IsZero() {
				next = r.Next.UTC().Format(time.RFC3339Nano)
			}
			if _, err := st.Exec(r.State, next, r.Error, r.State, at, r.ID); err != nil {
				return fmt.Errorf("outbox row %d: %w", r.ID, err)
			}
		}
		return nil
	}))
}

// RetryDead puts dead letters back in the queue (all of them when ids is
// empty) and returns how many.
func (db *DB) RetryDead(ctx context.Context, w *Writer, ids ...int64) (int, error) {
	var n int64
	err := w.Do(ctx, Func(func(tx *sql.Tx) error {
		q := "UPDATE outbox SET state = 'pending', next_at = '', attempts = 0 WHERE state = 'dead'"
		var args []any
		if len(ids) > 0 {
			q += " AND id IN (?" + strings.Repeat(",?", len(ids)-1) + ")"
			for _, id := range ids {
				args = append(args, id)
			}
		}
		res, err := tx.Exec(q, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	}))
	return int(n), err
}

// OutboxStats is the backlog the metrics and `tally sync status` show
// (schema/sync.schema.json: snake_case keys, unset times left out).
type OutboxStats struct {
	Pending       int       `json:"pending"`
	Done          int       `json:"done"`
	Dead          int       `json:"dead"`
	OldestPending time.Time `json:"oldest_pending,omitzero"` // zero when nothing is pending
	LastDone      time.Time `json:"last_done,omitzero"`
}

// OutboxStatus counts rows by state.
func (db *DB) OutboxStatus(ctx context.Context) (OutboxStats, error) {
	var s OutboxStats
	rows, err := db.SQL.QueryContext(ctx, "SELECT state, count(*), min(created_at), max(COALESCE(done_at, '')) FROM outbox GROUP BY state")
	if err != nil {
		return s, fmt.Errorf("outbox status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state, oldest, last string
		var n int
		if err := rows.Scan(&state, &n, &oldest, &last); err != nil {
			return s, err
		}
		switch state {
		case "pending":
			s.Pending = n
			s.OldestPending, _ = time.Parse(time.RFC3339Nano, oldest)
		case "done":
			s.Done = n
			s.LastDone, _ = time.Parse(time.RFC3339Nano, last)
		case "dead":
			s.Dead = n
		}
	}
	return s, rows.Err()
}

// MissingQueue is what a finalize queues upstream: one missing or
// cart_missing event per item the inventory expected and never saw, and,
// when the policy sets a lost value, the items' status.
type MissingQueue struct {
	Inventory *Inventory
	At        time.Time
	Items     []MissingEvent
}

// MissingEvent is one item missing: from the shelf, or, with Cart (the
// cart's name as the index keeps it, normalized), from its cart.
type MissingEvent struct {
	Barcode string
	Cart    string
}

// qQueueMissing queues the events of a finalize in one statement, however
// many there are: the items come as one JSON array of [barcode, cart]
// pairs (?5), the other fields from the items table. The payload is
// outbox.Data as encoding/json writes it: ?3 is its text up to the
// barcode, ?4 from after the barcode to the per-item fields, which are
// left out when empty, as Data's omitempty does.
const qQueueMissing = `INSERT INTO outbox (key, kind, inventory_id, barcode, payload, created_at)
	SELECT 'inv' || ?1 || '/' || m.barcode || '/' || m.kind, m.kind, ?1, m.barcode,
		?3 || json_quote(m.barcode) || ?4
		|| CASE WHEN i.title != '' THEN ',"title":' || json_quote(i.title) ELSE '' END
		|| CASE WHEN i.call_number != '' THEN ',"call_number":' || json_quote(i.call_number) ELSE '' END
		|| CASE WHEN m.cart != '' THEN ',"container":' || json_quote(m.cart) ELSE '' END
		|| CASE WHEN i.price != 0 THEN ',"price_cents":' || i.price ELSE '' END || '}',
		?2
	FROM (SELECT value->>0 AS barcode, value->>1 AS cart,
		CASE WHEN value->>1 != '' THEN 'cart_missing' ELSE 'missing' END AS kind FROM json_each(?5)) AS m
	LEFT JOIN items AS i ON i.barcode = m.barcode
	WHERE true
	ON CONFLICT(key) DO UPDATE SET state = 'pending', payload = excluded.payload,
	attempts = 0, next_at = '', last_error = '' WHERE outbox.state = 'cancelled'`

// qMarkMissing sets the status of the items a finalize found missing, when
// the policy gives them a lost value.
const qMarkMissing = `UPDATE items SET status = 'missing', due_date = 0 WHERE barcode IN (SELECT value->>0 FROM json_each(?1))`

// QueueMissing writes a finalize's events and status changes in two
// statements whatever the number of items (see qQueueMissing), with
// InsertOutbox's rule for a key already there. The engine's index mirrors
// the items table inside the writer's transaction; an item that is not in
// the table all the same is still queued, with its barcode alone. The
// rows go in in barcode order, the order of the items table and of the
// outbox's keys: in shelf order each row read and wrote pages all over
// both, and took twice the time.
func (t TxWriter) QueueMissing(q MissingQueue) error {
	inv := q.Inventory
	if len(q.Items) == 0 {
		return nil
	}
	head, tail, err := missingPayload(inv, q.At)
	if err != nil {
		return err
	}
	pairs := make([][2]string, len(q.Items))
	for i, m := range q.Items {
		pairs[i] = [2]string{m.Barcode, m.Cart}
	}
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	list, err := json.Marshal(pairs)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if _, err := t.exec(qQueueMissing, inv.ID, now(), head, tail, string(list)); err != nil {
		return fmt.Errorf("outbox: %d missing items: %w", len(pairs), err)
	}
	if inv.Policy.MissingLostValue == 0 {
		return nil
	}
	if _, err := t.exec(qMarkMissing, string(list)); err != nil {
		return fmt.Errorf("mark %d items missing: %w", len(pairs), err)
	}
	return nil
}

// missingPayload is the JSON of a missing event's outbox.Data around its
// barcode, as encoding/json writes it: the text before the barcode and
// after it up to the per-item fields (title, call number, cart, price).
func missingPayload(inv *Inventory, at time.Time) (head, tail string, err error) {
	const mark = "\x00"
	d := outbox.Data{InventoryID: inv.ID, Inventory: inv.Name, Barcode: mark,
		Date: at.Format(time.DateOnly), LostValue: new(inv.Policy.MissingLostValue),
		Since: inv.CreatedAt.UTC().Format(time.RFC3339)}
	b, err := json.Marshal(d)
	if err != nil {
		return "", "", fmt.Errorf("outbox: %w", err)
	}
	s := string(b)
	i := strings.LastIndex(s, `"barcode":"\u0000"`)
	if i < 0 || !strings.HasSuffix(s, "}") {
		return "", "", fmt.Errorf("outbox: unexpected encoding of a missing event: %s", s)
	}
	return s[:i+len(`"barcode":`)], s[i+len(`"barcode":"\u0000"`) : len(s)-1], nil
}

// qOutboxKinds counts from the outbox_inventory index alone.
const qOutboxKinds = "SELECT kind, count(*) FROM outbox WHERE inventory_id = ? GROUP BY kind"

// OutboxKinds counts an inventory's outbox rows by kind.
func (t TxWriter) OutboxKinds(invID int64) (map[string]int, error) {
	rows, err := t.query(qOutboxKinds, invID)
	if err != nil {
		return nil, fmt.Errorf("count outbox rows: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("count outbox rows: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}

// CloseInventory marks an inventory finalized at at and ends its sessions.
func (t TxWriter) CloseInventory(invID int64, at time.Time) error {
	ts := at.UTC().Format(time.RFC3339Nano)
	if _, err := t.exec("UPDATE inventories SET finalized_at = ? WHERE id = ?", ts, invID); err != nil {
		return fmt.Errorf("finalize inventory %d: %w", invID, err)
	}
	if _, err := t.exec("UPDATE sessions SET state = 'ended', ended_at = ? WHERE inventory_id = ? AND state != 'ended'", ts, invID); err != nil {
		return fmt.Errorf("end the sessions of inventory %d: %w", invID, err)
	}
	return nil
}
