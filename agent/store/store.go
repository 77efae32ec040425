// Package store keeps tally's durable state in SQLite: the catalog items,
// inventories, sessions, the append-only journal of reads, and the outbox of
// upstream effects. One writer goroutine does group commit (see Writer);
// everything else reads through the connection pool.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/tally-inventory/tally/agent/callnumber"
)

// DB is an open tally database.
type DB struct {
	SQL   *sql.DB // reads, from a small pool
	w     *sql.DB // the one writer connection
	path  string
	stmts map[string]*sql.Stmt // per-read statements prepared on w at Open (read-only after)
}

// Open opens (creating if needed) the database at path and migrates it.
// WAL mode, synchronous=FULL (a committed read survives power loss), foreign
// keys on, and a busy timeout so the CLI and a running agent can share it.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w (is the directory writable?)", path, err)
	}
	r, err := sql.Open("sqlite3", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db := &DB{SQL: r, w: w, path: path}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.refreshSortKeys(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// Close closes both pools.
func (db *DB) Close() error {
	for _, st := range db.stmts {
		st.Close()
	}
	return errors.Join(db.w.Close(), db.SQL.Close())
}

// migrations are applied in order; each runs in its own transaction and
// bumps user_version. Never edit one that has shipped: add another.
var migrations = []string{
	// 1: catalog, inventories, sessions, journal, outbox.
	`
CREATE TABLE items (
	barcode     TEXT PRIMARY KEY,
	title       TEXT NOT NULL DEFAULT '',
	author      TEXT NOT NULL DEFAULT '',
	call_number TEXT NOT NULL DEFAULT '',
	library     TEXT NOT NULL DEFAULT '',
	location    TEXT NOT NULL DEFAULT '',
	collection  TEXT NOT NULL DEFAULT '',
	item_type   TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL DEFAULT 'available',
	due_date    INTEGER NOT NULL DEFAULT 0, -- days since 1970-01-01 (UTC), 0 = none
	last_seen   INTEGER NOT NULL DEFAULT 0, -- days since 1970-01-01 (UTC), 0 = never
	price       INTEGER NOT NULL DEFAULT 0, -- cents
	kind        TEXT NOT NULL DEFAULT 'book',
	container   TEXT NOT NULL DEFAULT '',
	asset_tag   TEXT NOT NULL DEFAULT '',
	serial      TEXT NOT NULL DEFAULT '',
	rfid        TEXT NOT NULL DEFAULT '',
	hold        INTEGER NOT NULL DEFAULT 0,
	sort_key    TEXT NOT NULL DEFAULT '' -- callnumber.Key(call_number), kept so start-up need not parse a million call numbers
) WITHOUT ROWID;

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE imports (
	id        INTEGER PRIMARY KEY,
	at        TEXT NOT NULL,
	file      TEXT NOT NULL,
	format    TEXT NOT NULL,
	added     INTEGER NOT NULL,
	updated   INTEGER NOT NULL,
	unchanged INTEGER NOT NULL,
	removed   INTEGER NOT NULL,
	rejected  INTEGER NOT NULL
);

CREATE TABLE inventories (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE,
	scope        TEXT NOT NULL, -- JSON catalog.Scope
	policy       TEXT NOT NULL, -- JSON Policy
	created_at   TEXT NOT NULL,
	finalized_at TEXT
);

CREATE TABLE sessions (
	id           INTEGER PRIMARY KEY,
	inventory_id INTEGER NOT NULL REFERENCES inventories(id),
	kind         TEXT NOT NULL CHECK (kind IN ('shelf','cart')),
	cart         TEXT NOT NULL DEFAULT '',
	operator     TEXT NOT NULL DEFAULT '',
	device       TEXT NOT NULL DEFAULT '',
	state        TEXT NOT NULL CHECK (state IN ('open','paused','ended')),
	started_at   TEXT NOT NULL,
	ended_at     TEXT
);
CREATE INDEX sessions_inventory ON sessions(inventory_id);

-- The journal: one row per read, append-only (undo sets undone, never deletes).
CREATE TABLE reads (
	id           INTEGER PRIMARY KEY,
	session_id   INTEGER NOT NULL REFERENCES sessions(id),
	inventory_id INTEGER NOT NULL REFERENCES inventories(id),
	at           TEXT NOT NULL,
	device       TEXT NOT NULL DEFAULT '',
	device_kind  TEXT NOT NULL DEFAULT '',
	raw          BLOB,
	code         TEXT NOT NULL,
	barcode      TEXT NOT NULL DEFAULT '', -- the item the code resolved to, '' if none
	outcome      TEXT NOT NULL,
	flags        TEXT NOT NULL DEFAULT '', -- comma-separated
	detail       TEXT NOT NULL DEFAULT '', -- JSON: where it belongs, cart, problem
	undone       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reads_session ON reads(session_id, id);
CREATE INDEX reads_inventory ON reads(inventory_id, barcode);

-- First sighting of each item per inventory: what "duplicate" and "missing" are computed from.
CREATE TABLE seen (
	inventory_id INTEGER NOT NULL REFERENCES inventories(id),
	barcode      TEXT NOT NULL,
	read_id      INTEGER NOT NULL REFERENCES reads(id),
	session_id   INTEGER NOT NULL,
	PRIMARY KEY (inventory_id, barcode)
) WITHOUT ROWID;

CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY,
	key          TEXT NOT NULL UNIQUE, -- idempotency key: inventory/item/kind
	kind         TEXT NOT NULL,
	inventory_id INTEGER NOT NULL,
	barcode      TEXT NOT NULL,
	payload      TEXT NOT NULL, -- JSON
	created_at   TEXT NOT NULL,
	state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','done','dead','cancelled')),
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      TEXT NOT NULL DEFAULT '',
	last_error   TEXT NOT NULL DEFAULT '',
	done_at      TEXT
);
CREATE INDEX outbox_pending ON outbox(state, id);
`,
	// 2: per-sink delivery of outbox rows (see delivery.go): with several
	// sinks each row is delivered to each, and each keeps its own attempts,
	// back-off and dead letter. Times are unix milliseconds (0 = none).
	`
CREATE TABLE outbox_delivery (
	sink       TEXT NOT NULL,
	outbox_id  INTEGER NOT NULL REFERENCES outbox(id),
	state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','done','skipped','dead','cancelled')),
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	done_at    INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (sink, outbox_id)
) WITHOUT ROWID;
CREATE INDEX outbox_delivery_due ON outbox_delivery(sink, state, outbox_id);
CREATE INDEX outbox_delivery_next ON outbox_delivery(sink, state, next_at);

CREATE TABLE outbox_sink (
	sink          TEXT PRIMARY KEY,
	last_ok       INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT NOT NULL DEFAULT '',
	last_error_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`,
}

func (db *DB) migrate(ctx context.Context) error {
	var v int
	if err := db.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("database %s has schema version %d, newer than this tally (%d): upgrade tally", db.path, v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrate to %d: %w", i+1, err)
		}
	}
	return nil
}

// refreshSortKeys recomputes the stored call-number sort keys when the
// key algorithm changed since they were written (callnumber.KeyVersion).
func (db *DB) refreshSortKeys(ctx context.Context) error {
	var v string
	err := db.w.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'sort_key_version'").Scan(&v)
	if err == nil && v == callnumber.KeyVersion {
		return nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read meta: %w", err)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("refresh sort keys: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT barcode, call_number FROM items")
	if err != nil {
		return fmt.Errorf("refresh sort keys: %w", err)
	}
	type kv struct{ bc, key string }
	var all []kv
	for rows.Next() {
		var bc, cn string
		if err := rows.Scan(&bc, &cn); err != nil {
			rows.Close()
			return fmt.Errorf("refresh sort keys: %w", err)
		}
		all = append(all, kv{bc, callnumber.Key(cn)})
	}
	rows.Close()
	for _, x := range all {
		if _, err := tx.ExecContext(ctx, "UPDATE items SET sort_key = ? WHERE barcode = ?", x.key, x.bc); err != nil {
			return fmt.Errorf("refresh sort keys: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('sort_key_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", callnumber.KeyVersion); err != nil {
		return fmt.Errorf("refresh sort keys: %w", err)
	}
	return tx.Commit()
}

// ErrNotFound is returned when an inventory, session or row does not exist.
var ErrNotFound = errors.New("not found")

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// IsConstraint reports whether err is an SQLite constraint violation.
func IsConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}
