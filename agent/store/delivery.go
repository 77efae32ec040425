package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tally-inventory/tally/sync/relay"
)

// Per-sink delivery. With several sinks configured, every outbox row is
// delivered to each of them, and each sink keeps its own attempts, back-off
// and dead letter in outbox_delivery (migration 2). The outbox row's own
// state follows: done once every configured sink is done with it (or skipped
// it), dead while any sink holds it as a dead letter, pending otherwise.
// Rows are queued for a sink lazily (QueueDeliveries), so a sink added to the
// configuration later picks up what is still pending.
//
// Delivery times are unix milliseconds in INTEGER columns so they compare as
// numbers (RFC 3339 strings with trimmed fractions do not sort).

// Outbox is db's outbox as the relay consumes it, writing through w (the
// one writer). A closed writer's errors also wrap relay.ErrStoreClosed.
type Outbox struct {
	DB *DB
	W  *Writer
}

var _ relay.Store = Outbox{}

func closedErr(err error) error {
	if errors.Is(err, ErrClosed) {
		return fmt.Errorf("%w: %w", relay.ErrStoreClosed, err)
	}
	return err
}

// Queue implements relay.Store (QueueDeliveries).
func (o Outbox) Queue(ctx context.Context, sinks []string, all bool) (int, error) {
	n, err := o.DB.QueueDeliveries(ctx, o.W, sinks, all)
	return n, closedErr(err)
}

// Settle implements relay.Store (SettleOutbox).
func (o Outbox) Settle(ctx context.Context, sinks []string, at time.Time) (int, error) {
	n, err := o.DB.SettleOutbox(ctx, o.W, sinks, at)
	return n, closedErr(err)
}

// Due implements relay.Store (DueDeliveries).
func (o Outbox) Due(ctx context.Context, sink string, limit int, now time.Time) ([]relay.Delivery, error) {
	return o.DB.DueDeliveries(ctx, sink, limit, now)
}

// Mark implements relay.Store (MarkDeliveries).
func (o Outbox) Mark(ctx context.Context, sink string, sinks []string, at time.Time, results []relay.Result) error {
	return closedErr(o.DB.MarkDeliveries(ctx, o.W, sink, sinks, at, results))
}

// Backlog implements relay.Store (SinkBacklog).
func (o Outbox) Backlog(ctx context.Context, sink string) (relay.SinkStats, error) {
	return o.DB.SinkBacklog(ctx, sink)
}

// Status implements relay.Store (SinkStatus).
func (o Outbox) Status(ctx context.Context, sinks []string) ([]relay.SinkStats, error) {
	return o.DB.SinkStatus(ctx, sinks)
}

// Dead implements relay.Store (DeadDeliveries).
func (o Outbox) Dead(ctx context.Context, sinks []string, limit int) ([]relay.Delivery, error) {
	return o.DB.DeadDeliveries(ctx, sinks, limit)
}

// RetryDead implements relay.Store (RetryDeadDeliveries).
func (o Outbox) RetryDead(ctx context.Context, ids ...int64) (int, error) {
	n, err := o.DB.RetryDeadDeliveries(ctx, o.W, ids...)
	return n, closedErr(err)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func inList(n int) string { return "(?" + strings.Repeat(",?", n-1) + ")" }

func strArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// QueueDeliveries gives every outbox row added since the last call a pending
// delivery row for each sink, and puts back in the queue deliveries whose
// outbox row was cancelled (an undone read) and has since been queued again.
// With all, every pending outbox row is checked, not only new ones: the
// relay does that once at start, to pick up sinks added to the configuration
// and rows put back by hand. It writes only when there is something to do,
// and returns the number of delivery rows added or revived.
func (db *DB) QueueDeliveries(ctx context.Context, w *Writer, sinks []string, all bool) (int, error) {
	if len(sinks) == 0 {
		return 0, nil
	}
	if !all {
		need, err := db.needQueue(ctx, sinks)
		if err != nil || !need {
			return 0, err
		}
	}
	var n int64
	err := w.Do(ctx, Func(func(tx *sql.Tx) error {
		n = 0
		for _, s := range sinks {
			if _, err := tx.Exec("INSERT OR IGNORE INTO outbox_sink (sink) VALUES (?)", s); err != nil {
				return err
			}
			q := `INSERT OR IGNORE INTO outbox_delivery (sink, outbox_id)
				SELECT ?, id FROM outbox WHERE id > (SELECT COALESCE(max(outbox_id), 0) FROM outbox_delivery WHERE sink = ?)
				AND state IN ('pending','cancelled')`
			args := []any{s, s}
			if all {
				q = `INSERT OR IGNORE INTO outbox_delivery (sink, outbox_id) SELECT ?, id FROM outbox WHERE state = 'pending'`
				args = []any{s}
			}
			res, err := tx.Exec(q, args...)
			if err != nil {
				return err
			}
			a, _ := res.RowsAffected()
			res, err = tx.Exec(`UPDATE outbox_delivery SET state = 'pending', next_at = 0
				WHERE sink = ? AND state = 'cancelled'
				AND EXISTS (SELECT 1 FROM outbox o WHERE o.id = outbox_delivery.outbox_id AND o.state = 'pending')`, s)
			if err != nil {
				return err
			}
			b, _ := res.RowsAffected()
			n += a + b
		}
		return nil
	}))
	if err != nil {
		return 0, fmt.Errorf("queue outbox deliveries: %w", err)
	}
	return int(n), nil
}

// needQueue reports, without writing, whether QueueDeliveries has work.
func (db *DB) needQueue(ctx context.Context, sinks []string) (bool, error) {
	var top int64
	if err := db.SQL.QueryRowContext(ctx, "SELECT COALESCE(max(id), 0) FROM outbox").Scan(&top); err != nil {
		return false, fmt.Errorf("queue outbox deliveries: %w", err)
	}
	for _, s := range sinks {
		var have int64
		var revive bool
		err := db.SQL.QueryRowContext(ctx, `SELECT
			(SELECT COALESCE(max(outbox_id), 0) FROM outbox_delivery WHERE sink = ?),
			EXISTS (SELECT 1 FROM outbox_delivery d JOIN outbox o ON o.id = d.outbox_id
				WHERE d.sink = ? AND d.state = 'cancelled' AND o.state = 'pending')`, s, s).Scan(&have, &revive)
		if err != nil {
			return false, fmt.Errorf("queue outbox deliveries: %w", err)
		}
		if have < top || revive {
			return true, nil
		}
	}
	return false, nil
}

const deliveryCols = `o.id, o.key, o.kind, o.inventory_id, o.barcode, o.payload, o.created_at, o.state, o.attempts, o.next_at, o.last_error,
	d.sink, d.state, d.attempts, d.next_at, d.last_error`

// rawPayload is a stored payload as JSON: text that is not JSON (an edited
// or truncated row, which the relay makes a dead letter) is kept as a JSON
// string, so the views that list it still encode.
func rawPayload(s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	q, _ := json.Marshal(s)
	return q
}

func scanDelivery(rows *sql.Rows) (relay.Delivery, error) {
	var d relay.Delivery
	var payload, created, next string
	var snext int64
	err := rows.Scan(&d.ID, &d.Key, &d.Kind, &d.InventoryID, &d.Barcode, &payload, &created, &d.State, &d.Attempts, &next, &d.LastError,
		&d.Sink, &d.SinkState, &d.SinkAttempts, &snext, &d.SinkError)
	if err != nil {
		return d, err
	}
	d.Payload = rawPayload(payload)
	d.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	d.NextAt, _ = time.Parse(time.RFC3339Nano, next)
	d.SinkNextAt = fromMs(snext)
	return d, nil
}

func (db *DB) queryDeliveries(ctx context.Context, q string, args ...any) ([]relay.Delivery, error) {
	rows, err := db.SQL.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read outbox deliveries: %w", err)
	}
	defer rows.Close()
	var out []relay.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("read outbox deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DueDeliveries returns up to limit rows due for sink at now, oldest first.
// Rows whose outbox row was cancelled are included (SinkState pending,
// State cancelled) so the relay can settle them without sending.
func (db *DB) DueDeliveries(ctx context.Context, sink string, limit int, now time.Time) ([]relay.Delivery, error) {
	// INDEXED BY: walking the (sink, state, outbox_id) index in order stops at
	// limit; the next_at index would sort the whole backlog on every batch.
	return db.queryDeliveries(ctx, `SELECT `+deliveryCols+`
		FROM outbox_delivery d INDEXED BY outbox_delivery_due JOIN outbox o ON o.id = d.outbox_id
		WHERE d.sink = ? AND d.state = 'pending' AND d.next_at <= ?
		ORDER BY d.outbox_id LIMIT ?`, sink, ms(now), limit)
}

// MarkDeliveries records what sink said about rows, and settles the outbox
// rows' overall state against the configured sinks, in one transaction.
func (db *DB) MarkDeliveries(ctx context.Context, w *Writer, sink string, sinks []string, at time.Time, results []relay.Result) error {
	if len(results) == 0 {
		return nil
	}
	for _, r := range results {
		switch r.State {
		case "done", "skipped", "pending", "dead", "cancelled":
		default:
			return fmt.Errorf("outbox row %d for %s: state %q: want done, skipped, pending, dead or cancelled", r.OutboxID, sink, r.State)
		}
	}
	err := w.Do(ctx, Func(func(tx *sql.Tx) error {
		upd, err := tx.Prepare(`UPDATE outbox_delivery SET state = ?, attempts = attempts + ?, next_at = ?, last_error = ?,
			done_at = CASE WHEN ? IN ('done','skipped') THEN ? ELSE done_at END WHERE sink = ? AND outbox_id = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		row, err := tx.Prepare("UPDATE outbox SET attempts = attempts + ?, last_error = ? WHERE id = ?")
		if err != nil {
			return err
		}
		defer row.Close()
		var ok bool
		var lastErr string // a tried row's error says more than "not sent"
		lastTried := false
		ids := make([]int64, 0, len(results))
		for _, r := range results {
			tried := 0
			switch r.State {
			case "done":
				tried, ok = 1, true
			case "pending", "dead":
				if !r.NotTried {
					tried = 1
				}
				if r.Error != "" && (!lastTried || !r.NotTried) {
					lastErr, lastTried = r.Error, !r.NotTried
				}
				if _, err := row.Exec(tried, sink+": "+r.Error, r.OutboxID); err != nil {
					return fmt.Errorf("outbox row %d: %w", r.OutboxID, err)
				}
			}
			res, err := upd.Exec(r.State, tried, ms(r.Next), r.Error, r.State, ms(at), sink, r.OutboxID)
			if err != nil {
				return fmt.Errorf("outbox row %d for %s: %w", r.OutboxID, sink, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("outbox row %d has no delivery for %s: %w", r.OutboxID, sink, ErrNotFound)
			}
			ids = append(ids, r.OutboxID)
		}
		if err := settle(tx, sinks, at, ids); err != nil {
			return err
		}
		if _, err := tx.Exec("INSERT OR IGNORE INTO outbox_sink (sink) VALUES (?)", sink); err != nil {
			return err
		}
		if ok {
			if _, err := tx.Exec("UPDATE outbox_sink SET last_ok = ? WHERE sink = ?", ms(at), sink); err != nil {
				return err
			}
		}
		if lastErr != "" {
			if _, err := tx.Exec("UPDATE outbox_sink SET last_error = ?, last_error_at = ? WHERE sink = ?", lastErr, ms(at), sink); err != nil {
				return err
			}
		}
		return nil
	}))
	if err != nil {
		return fmt.Errorf("mark outbox deliveries for %s: %w", sink, err)
	}
	return nil
}

// settleExpr computes an outbox row's overall state from its deliveries to
// the configured sinks; its parameters are the sinks twice, then their count.
func settleExpr(n int) string {
	in := inList(n)
	return `CASE
		WHEN EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.outbox_id = outbox.id AND d.sink IN ` + in + ` AND d.state = 'dead') THEN 'dead'
		WHEN (SELECT count(*) FROM outbox_delivery d WHERE d.outbox_id = outbox.id AND d.sink IN ` + in + ` AND d.state IN ('done','skipped')) = ? THEN 'done'
		ELSE 'pending' END`
}

func settleArgs(sinks []string) []any {
	args := append(strArgs(sinks), strArgs(sinks)...)
	return append(args, len(sinks))
}

// settle recomputes the overall state of the given outbox rows from their
// deliveries to the configured sinks (see settleExpr): one read for the
// batch, then one update per row. Cancelled and done rows are left alone.
func settle(tx *sql.Tx, sinks []string, at time.Time, ids []int64) error {
	if len(sinks) == 0 {
		return errors.New("settle outbox rows: no sinks configured")
	}
	if len(ids) == 0 {
		return nil
	}
	type tally struct{ finished, dead int }
	by := make(map[int64]*tally, len(ids))
	args := strArgs(sinks)
	for _, id := range ids {
		by[id] = &tally{}
		args = append(args, id)
	}
	rows, err := tx.Query(`SELECT outbox_id, state FROM outbox_delivery WHERE sink IN `+inList(len(sinks))+
		` AND outbox_id IN `+inList(len(ids)), args...)
	if err != nil {
		return fmt.Errorf("settle outbox rows: %w", err)
	}
	for rows.Next() {
		var id int64
		var state string
		if err := rows.Scan(&id, &state); err != nil {
			rows.Close()
			return fmt.Errorf("settle outbox rows: %w", err)
		}
		switch state {
		case "done", "skipped":
			by[id].finished++
		case "dead":
			by[id].dead++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("settle outbox rows: %w", err)
	}
	st, err := tx.Prepare(`UPDATE outbox SET state = ?, done_at = CASE WHEN ? = 'done' THEN ? ELSE done_at END
		WHERE id = ? AND state IN ('pending','dead') AND state != ?`)
	if err != nil {
		return err
	}
	defer st.Close()
	doneAt := at.UTC().Format(time.RFC3339Nano)
	for id, n := range by {
		state := "pending"
		switch {
		case n.dead > 0:
			state = "dead"
		case n.finished == len(sinks):
			state = "done"
		}
		if _, err := st.Exec(state, state, doneAt, id, state); err != nil {
			return fmt.Errorf("settle outbox row %d: %w", id, err)
		}
	}
	return nil
}

// SettleOutbox recomputes the overall state of every pending or dead outbox
// row against the configured sinks: after a sink is removed from the
// configuration its rows no longer wait for it. The relay calls it at start.
func (db *DB) SettleOutbox(ctx context.Context, w *Writer, sinks []string, at time.Time) (int, error) {
	if len(sinks) == 0 {
		return 0, errors.New("settle outbox: no sinks configured")
	}
	var n int64
	err := w.Do(ctx, Func(func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE outbox SET state = `+settleExpr(len(sinks))+`
			WHERE state IN ('pending','dead') AND state != `+settleExpr(len(sinks)), append(settleArgs(sinks), settleArgs(sinks)...)...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.Exec("UPDATE outbox SET done_at = ? WHERE state = 'done' AND done_at IS NULL", at.UTC().Format(time.RFC3339Nano))
		return err
	}))
	if err != nil {
		return 0, fmt.Errorf("settle outbox: %w", err)
	}
	return int(n), nil
}

// RetryDeadDeliveries puts dead letters back in the queue — for every sink
// that dead-lettered them — and returns how many outbox rows were revived.
// ids are outbox row ids; none means all dead letters.
func (db *DB) RetryDeadDeliveries(ctx context.Context, w *Writer, ids ...int64) (int, error) {
	var n int64
	err := w.Do(ctx, Func(func(tx *sql.Tx) error {
		where, args := "", []any{}
		if len(ids) > 0 {
			where = " AND outbox_id IN " + inList(len(ids))
			for _, id := range ids {
				args = append(args, id)
			}
		}
		if _, err := tx.Exec("UPDATE outbox_delivery SET state = 'pending', attempts = 0, next_at = 0, last_error = '' WHERE state = 'dead'"+where, args...); err != nil {
			return err
		}
		res, err := tx.Exec("UPDATE outbox SET state = 'pending', attempts = 0, next_at = '', last_error = '' WHERE state = 'dead'"+strings.ReplaceAll(where, "outbox_id", "id"), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	}))
	if err != nil {
		return 0, fmt.Errorf("retry dead letters: %w", err)
	}
	return int(n), nil
}

// Sinks lists the sinks the store has seen, in name order.
func (db *DB) Sinks(ctx context.Context) ([]string, error) {
	out, err := queryStrings(ctx, db.SQL, "SELECT sink FROM outbox_sink ORDER BY sink")
	if err != nil {
		return nil, fmt.Errorf("list sinks: %w", err)
	}
	return out, nil
}

// SinkBacklog is the cheap part of SinkStatus, for every relay pass:
// pending (including rows not yet queued for the sink), dead, the oldest
// pending row, the earliest retry time and the last success and error.
// Done counts are not included: they grow with history.
func (db *DB) SinkBacklog(ctx context.Context, sink string) (relay.SinkStats, error) {
	s := relay.SinkStats{Sink: sink}
	var queued int64
	var oldest sql.NullString
	var next sql.NullInt64
	err := db.SQL.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM outbox_delivery WHERE sink = ?1 AND state = 'pending'),
		(SELECT count(*) FROM outbox_delivery WHERE sink = ?1 AND state = 'dead'),
		(SELECT COALESCE(max(outbox_id), 0) FROM outbox_delivery WHERE sink = ?1),
		(SELECT created_at FROM outbox WHERE id = (SELECT min(outbox_id) FROM outbox_delivery WHERE sink = ?1 AND state = 'pending')),
		(SELECT min(next_at) FROM outbox_delivery WHERE sink = ?1 AND state = 'pending')`, sink).Scan(
		&s.Pending, &s.Dead, &queued, &oldest, &next)
	if err != nil {
		return s, fmt.Errorf("backlog of %s: %w", sink, err)
	}
	var lastOK, lastErrAt int64
	err = db.SQL.QueryRowContext(ctx, "SELECT last_ok, last_error, last_error_at FROM outbox_sink WHERE sink = ?", sink).Scan(&lastOK, &s.LastError, &lastErrAt)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("backlog of %s: %w", sink, err)
	}
	s.LastOK, s.LastErrorAt = fromMs(lastOK), fromMs(lastErrAt)
	// Rows added since the relay last queued for this sink wait too.
	var unqueued int
	var first sql.NullString
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*),
		(SELECT created_at FROM outbox WHERE id > ?1 AND state = 'pending' ORDER BY id LIMIT 1)
		FROM outbox WHERE id > ?1 AND state = 'pending'`, queued).Scan(&unqueued, &first); err != nil {
		return s, fmt.Errorf("backlog of %s: %w", sink, err)
	}
	s.Pending += unqueued
	if !oldest.Valid {
		oldest = first
	}
	if oldest.Valid {
		s.OldestPending, _ = time.Parse(time.RFC3339Nano, oldest.String)
	}
	if next.Valid {
		s.NextDue = fromMs(next.Int64)
	}
	return s, nil
}

// SinkStatus is SinkBacklog plus done and skipped counts, for each sink
// given (every sink the store has seen when none is).
func (db *DB) SinkStatus(ctx context.Context, sinks []string) ([]relay.SinkStats, error) {
	if len(sinks) == 0 {
		var err error
		if sinks, err = db.Sinks(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]relay.SinkStats, 0, len(sinks))
	for _, sink := range sinks {
		s, err := db.SinkBacklog(ctx, sink)
		if err != nil {
			return nil, err
		}
		if err := db.SQL.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM outbox_delivery WHERE sink = ?1 AND state = 'done'),
			(SELECT count(*) FROM outbox_delivery WHERE sink = ?1 AND state = 'skipped')`, sink).Scan(&s.Done, &s.Skipped); err != nil {
			return nil, fmt.Errorf("status of %s: %w", sink, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// DeadDeliveries lists dead letters of the given sinks (all when none),
// newest first, up to limit per sink.
func (db *DB) DeadDeliveries(ctx context.Context, sinks []string, limit int) ([]relay.Delivery, error) {
	if len(sinks) == 0 {
		var err error
		if sinks, err = db.Sinks(ctx); err != nil {
			return nil, err
		}
	}
	var out []relay.Delivery
	for _, sink := range sinks {
		ds, err := db.queryDeliveries(ctx, `SELECT `+deliveryCols+`
			FROM outbox_delivery d JOIN outbox o ON o.id = d.outbox_id
			WHERE d.sink = ? AND d.state = 'dead' ORDER BY d.outbox_id DESC LIMIT ?`, sink, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, ds...)
	}
	return out, nil
}
