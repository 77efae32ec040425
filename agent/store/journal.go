package store

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/sync/outbox"
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
	Operator    string    `json:"operator,omitempty"` // from an operator badge; written, not read back by Reads
}

// OutboxKey is outbox.Key for a kind given as text.
func OutboxKey(invID int64, barcode, kind string) string {
	return outbox.Key(invID, barcode, outbox.Kind(kind))
}

// Tx runs the journal's writes inside tx with statements prepared once on
// the writer connection: the read pipeline executes a handful per read, and
// preparing them again each time was most of its cost.
func (db *DB) Tx(tx *sql.Tx) TxWriter { return TxWriter{tx: tx, db: db} }

// TxWriter writes journal, sighting and outbox rows inside one transaction.
type TxWriter struct {
	tx *sql.Tx
	db *DB // nil: statements are not cached
}

func (t TxWriter) exec(q string, args ...any) (sql.Result, error) {
	if t.db != nil {
		t.db.nstmt.Add(1)
		if st, ok := t.db.stmts[q]; ok {
			return t.tx.Stmt(st).Exec(args...)
		}
	}
	return t.tx.Exec(q, args...)
}

func (t TxWriter) queryRow(q string, args ...any) *sql.Row {
	if t.db != nil {
		t.db.nstmt.Add(1)
		if st, ok := t.db.stmts[q]; ok {
			return t.tx.Stmt(st).QueryRow(args...)
		}
	}
	return t.tx.QueryRow(q, args...)
}

func (t TxWriter) query(q string, args ...any) (*sql.Rows, error) {
	if t.db != nil {
		t.db.nstmt.Add(1)
		if st, ok := t.db.stmts[q]; ok {
			return t.tx.Stmt(st).Query(args...)
		}
	}
	return t.tx.Query(q, args...)
}

// Statements the pipeline runs for every read, prepared once at Open. They
// cannot be prepared lazily: a transaction holds the one writer connection
// while they run, and preparing on the pool would wait for it forever.
const (
	// A batch's journal rows in one statement: a JSON array of rows, each
	// an array in qInsertReads' column order (see Journal). The id is given:
	// the read's result carries it before the batch ends.
	qInsertReads = `INSERT INTO reads (id, session_id, inventory_id, at, device, device_kind, raw, code, barcode, outcome, flags, detail, operator, first)
		SELECT r.value->>0, r.value->>1, r.value->>2, r.value->>3, r.value->>4, r.value->>5, unhex(r.value->>6),
		r.value->>7, r.value->>8, r.value->>9, r.value->>10, r.value->>11, r.value->>12, r.value->>13
		FROM jsonb_each(jsonb(?)) AS r`
	qNextRead     = "SELECT coalesce(max(id), 0) + 1 FROM reads"
	qMarkSeen     = "UPDATE items SET last_seen = ? WHERE barcode = ? AND last_seen < ?"
	qSetStatus    = "UPDATE items SET status = ?, due_date = CASE WHEN ? = 'checked_out' THEN due_date ELSE 0 END WHERE barcode = ?"
	qInsertOutbox = `INSERT INTO outbox (key, kind, inventory_id, barcode, payload, created_at)
		VALUES (?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET state = 'pending', payload = excluded.payload,
		attempts = 0, next_at = '', last_error = '' WHERE outbox.state = 'cancelled'`
	qCatalogRev = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'catalog_rev'"
	// The pull revision and what Pulls reads when it moved.
	qPullRev   = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'pull_rev'"
	qPullItems = "SELECT inventory_id, barcode, reason FROM pull_items ORDER BY inventory_id, barcode, list"
	qHolds     = "SELECT barcode, pickup, placed FROM holds"
	// The outbox rows of a batch in one statement: a JSON array of rows.
	qInsertOutboxRows = `INSERT INTO outbox (key, kind, inventory_id, barcode, payload, created_at)
		SELECT r.value->>'key', r.value->>'kind', r.value->>'inv', r.value->>'barcode', r.value->>'payload', ?
		FROM json_each(?) AS r WHERE true
		ON CONFLICT(key) DO UPDATE SET state = 'pending', payload = excluded.payload,
		attempts = 0, next_at = '', last_error = '' WHERE outbox.state = 'cancelled'`
	qMarkSeenMany = "UPDATE items SET last_seen = ?1 WHERE last_seen < ?1 AND barcode IN (SELECT value FROM json_each(?2))"
	qSavepoint    = "SAVEPOINT job"
	qRollback     = "ROLLBACK TO job"
	qRelease      = "RELEASE job"
)

// prepare prepares the per-read statements on the writer connection.
func (db *DB) prepare(ctx context.Context) error {
	db.stmts = map[string]*sql.Stmt{}
	for _, q := range []string{qInsertReads, qNextRead, qMarkSeen, qSetStatus, qInsertOutbox, qCatalogRev, qSavepoint, qRollback, qRelease,
		qPullRev, qPullItems, qHolds, qInsertOutboxRows, qMarkSeenMany} {
		st, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		db.stmts[q] = st
	}
	return nil
}

// Journal gathers the journal rows of a batch's reads for one statement at
// the batch's end (InsertJournal): a read costs no statement of its own,
// and no cgo call. Each row gets its id at once, so the read's result can
// carry it. A first sighting is a row with its first flag set, which the
// unique index reads_first keeps to one per item and inventory.
type Journal struct {
	buf  []byte // a JSON array of rows, without its closing bracket
	n    int
	next int64 // the id the next row gets; 0: ask the store
}

// Reset forgets the rows gathered: a batch starts, or failed.
func (j *Journal) Reset() { j.buf, j.n, j.next = j.buf[:0], 0, 0 }

// Len is the number of rows gathered.
func (j *Journal) Len() int { return j.n }

// AddRead gathers a journal row for the batch and returns its id. first
// marks the item's first sighting in the inventory.
func (t TxWriter) AddRead(j *Journal, r *ReadRow, first bool) (int64, error) {
	if j.next == 0 {
		if err := t.queryRow(qNextRead).Scan(&j.next); err != nil {
			return 0, fmt.Errorf("journal read: %w", err)
		}
	}
	id := j.next
	j.next++
	b := j.buf
	if j.n == 0 {
		b = append(b[:0], '[')
	} else {
		b = append(b, ',')
	}
	b = append(b, '[')
	b = strconv.AppendInt(b, id, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.SessionID, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.InventoryID, 10)
	b = append(b, ',', '"')
	b = r.At.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"', ',')
	b = appendJSONString(b, r.Device)
	b = append(b, ',')
	b = appendJSONString(b, r.DeviceKind)
	b = append(b, ',')
	if r.Raw == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = hex.AppendEncode(b, r.Raw)
		b = append(b, '"')
	}
	for _, s := range [...]string{r.Code, r.Barcode, r.Outcome, r.Flags, r.Detail, r.Operator} {
		b = append(b, ',')
		b = appendJSONString(b, s)
	}
	if first {
		b = append(b, ",1]"...)
	} else {
		b = append(b, ",0]"...)
	}
	j.buf = b
	j.n++
	return id, nil
}

// InsertJournal writes the rows gathered in one statement and forgets
// them. The next AddRead asks the store for the next id again, as a job
// between two runs of reads may have journaled rows of its own.
func (t TxWriter) InsertJournal(j *Journal) error {
	if j.n == 0 {
		j.next = 0
		return nil
	}
	j.buf = append(j.buf, ']')
	_, err := t.exec(qInsertReads, string(j.buf))
	n := j.n
	j.Reset()
	if err != nil {
		return fmt.Errorf("journal %d reads: %w", n, err)
	}
	return nil
}

// appendJSONString appends s as a JSON string. Bytes that are not ASCII
// are kept as they are: the journal stores what the device sent.
func appendJSONString(b []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// SetItemStatus changes an item's status in the catalog table (a lost item
// found, with the policy to clear it).
func SetItemStatus(tx *sql.Tx, barcode string, st catalog.Status) error {
	return TxWriter{tx: tx}.SetItemStatus(barcode, st)
}

// SetItemStatus changes an item's status in the catalog table.
func (t TxWriter) SetItemStatus(barcode string, st catalog.Status) error {
	_, err := t.exec(qSetStatus, string(st), string(st), barcode)
	return err
}

// InsertOutbox adds an upstream effect inside tx. A row with the same key
// is left as it is — the effect is already queued or done — unless it was
// cancelled (an undone read), in which case it is queued again.
func InsertOutbox(tx *sql.Tx, key, kind string, invID int64, barcode string, payload any) error {
	return TxWriter{tx: tx}.InsertOutbox(key, kind, invID, barcode, payload)
}

// InsertOutbox adds an upstream effect (see the package function).
func (t TxWriter) InsertOutbox(key, kind string, invID int64, barcode string, payload any) error {
	pj, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("outbox %s: %w", key, err)
	}
	if _, err := t.exec(qInsertOutbox, key, kind, invID, barcode, string(pj), now()); err != nil {
		return fmt.Errorf("outbox %s: %w", key, err)
	}
	return nil
}

// MarkSeen sets the last-seen date of many items in one statement.
func (t TxWriter) MarkSeen(day time.Time, barcodes []string) error {
	if len(barcodes) == 0 {
		return nil
	}
	list, _ := json.Marshal(barcodes)
	if _, err := t.exec(qMarkSeenMany, toDays(day), string(list)); err != nil {
		return fmt.Errorf("update last seen of %d items: %w", len(barcodes), err)
	}
	return nil
}

// NewOutbox is one upstream effect to queue (see InsertOutboxRows).
type NewOutbox struct {
	Key     string          `json:"key"`
	Kind    string          `json:"kind"`
	InvID   int64           `json:"inv"`
	Barcode string          `json:"barcode"`
	Payload json.RawMessage `json:"-"`
}

// InsertOutboxRows queues many upstream effects in one statement, with
// InsertOutbox's rule for a key already there.
func (t TxWriter) InsertOutboxRows(rows []NewOutbox) error {
	if len(rows) == 0 {
		return nil
	}
	type row struct {
		NewOutbox
		Payload string `json:"payload"`
	}
	rs := make([]row, len(rows))
	for i, r := range rows {
		rs[i] = row{r, string(r.Payload)}
	}
	list, err := json.Marshal(rs)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if _, err := t.exec(qInsertOutboxRows, now(), string(list)); err != nil {
		return fmt.Errorf("outbox: %d rows: %w", len(rows), err)
	}
	return nil
}

// Statements counts the statements the store has run for the writer
// through TxWriter and the Writer (not BEGIN and COMMIT): a test can hold
// the statements per read to a number.
func (db *DB) Statements() int64 { return db.nstmt.Load() }

// Seen returns, for each inventory id given, the barcodes seen and the
// session of their first sighting.
func (db *DB) Seen(ctx context.Context, invID int64) (map[string]int64, error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT barcode, session_id FROM reads WHERE inventory_id = ? AND first = 1", invID)
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
