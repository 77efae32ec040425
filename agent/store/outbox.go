package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
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
