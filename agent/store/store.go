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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
)

// DB is an open tally database.
type DB struct {
	SQL    *sql.DB // reads, from a small pool
	w      *sql.DB // the one writer connection
	path   string
	mode   Mode
	lock   *writerLock          // held in Write mode
	stmts  map[string]*sql.Stmt // per-read statements prepared on w at Open (read-only after)
	bg     sync.WaitGroup       // index snapshots being written; Close waits
	snapMu sync.Mutex
	nstmt  atomic.Int64 // statements run for the writer (Statements)
	// checkedAtOpen: the open ran the integrity check (no clean close
	// had checked the file as it is).
	checkedAtOpen bool
	ckpt          *checkpointer // Write mode: the WAL's checkpoints, off the writer's path
	ckptDSN       string
	onBackground  func(error) // Opts.OnBackgroundError
}

// Mode says how a process uses a database.
type Mode int

const (
	// Write is the one writing process (the agent, or a CLI command that
	// records): it holds the writer lock while the database is open.
	Write Mode = iota
	// Catalog writes only catalog data (an import: the items, the holds
	// to pull): no lock, so it can run beside the agent, which reloads the
	// items that changed and looks holds up inside each read.
	Catalog
	// ReadOnly writes nothing — no lock, no migrations — so reports work
	// beside the agent and on a read-only file.
	ReadOnly
)

// Opts says how to open a database.
type Opts struct {
	Mode Mode
	// Holder names the writing process to others refused the lock (Write
	// mode). Command defaults to this process's command line.
	Holder Holder
	// OnBackgroundError, when set, is told of work the store does in the
	// background that failed: an index snapshot not written (start-up
	// then scans the store again next time), or checkpoints failing (the
	// WAL then grows until one succeeds; told once until one does). It
	// must not block.
	OnBackgroundError func(error)
}

// Open opens (creating if needed) the database at path for writing, takes
// the writer lock, and migrates it. See OpenWith.
func Open(ctx context.Context, path string) (*DB, error) {
	return OpenWith(ctx, path, Opts{})
}

// OpenWith opens the database at path. WAL mode, synchronous=FULL (a
// committed read survives power loss), foreign keys on, and a busy timeout
// so readers and an import can share the file with the writer. A database
// that fails SQLite's quick_check is refused for writing: writes into a
// damaged file can spread the damage.
func OpenWith(ctx context.Context, path string, o Opts) (*DB, error) {
	if o.Mode == ReadOnly {
		return openReadOnly(ctx, path)
	}
	db := &DB{path: path, mode: o.Mode, onBackground: o.OnBackgroundError}
	if o.Mode == Write {
		h := o.Holder
		if h.Command == "" {
			h.Command = commandLine()
		}
		l, err := acquireLock(path, h)
		if err != nil {
			return nil, err
		}
		db.lock = l
	}
	fail := func(err error) (*DB, error) {
		db.Close()
		return nil, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "10000")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", path, err))
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	db.w = w
	if err := w.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("open %s: %w%s", path, err, openHint(path, err)))
	}
	r, err := sql.Open("sqlite3", dsn+"&mode=ro")
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", path, err))
	}
	r.SetMaxOpenConns(4)
	db.SQL = r
	checked := db.checkedOnClose()
	// The clean close's record goes now, as this open may change the file
	// (a crash must not leave a record that the file still matches).
	if err := os.Remove(db.checkedPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fail(fmt.Errorf("open %s: %w", path, err))
	}
	if !checked {
		db.checkedAtOpen = true
		if err := db.checkIntegrity(ctx); err != nil {
			return fail(err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		return fail(err)
	}
	if err := db.refreshSortKeys(ctx); err != nil {
		return fail(err)
	}
	if err := db.prepare(ctx); err != nil {
		return fail(err)
	}
	if o.Mode == Write {
		// See checkpointer: the writer's commits never checkpoint.
		if _, err := w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
			return fail(fmt.Errorf("open %s: %w", path, err))
		}
		db.ckptDSN = dsn
		if db.ckpt, err = startCheckpointer(dsn, checkpointEvery, db.backgroundFailed); err != nil {
			return fail(fmt.Errorf("open %s: %w", path, err))
		}
	}
	return db, nil
}

// Create makes a new database at path holding items, imported as one
// generated catalog: what tests and benchmarks of other packages start
// from.
func Create(ctx context.Context, path string, items []catalog.Item) error {
	db, err := Open(ctx, path)
	if err != nil {
		return err
	}
	if _, err := db.Import(ctx, nil, "generated", "generated", items, false, 0); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}

// openReadOnly opens a database only to read it. A file this user may not
// write (or in a directory where SQLite cannot make its -shm file) is
// opened immutable: nothing can write it then anyway.
func openReadOnly(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s: import a catalog first (`tally import FILE`), or name the database with --db", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Reading user_version proves the file opens and gives its schema.
	open := func(params string) (*sql.DB, int, error) {
		d, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&mode=ro"+params)
		if err != nil {
			return nil, 0, err
		}
		d.SetMaxOpenConns(4)
		var v int
		if err := d.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			d.Close()
			return nil, 0, err
		}
		return d, v, nil
	}
	r, v, err := open("")
	if err != nil {
		var err2 error
		if r, v, err2 = open("&immutable=1"); err2 != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	switch {
	case v > len(migrations):
		r.Close()
		return nil, fmt.Errorf("database %s has schema version %d, newer than this tally (%d): upgrade tally", path, v, len(migrations))
	case v < len(migrations):
		r.Close()
		return nil, fmt.Errorf("database %s was written by an older tally (schema %d, this one needs %d): start the agent or run a command that writes (e.g. `tally import`) once to upgrade it", path, v, len(migrations))
	}
	return &DB{SQL: r, w: r, path: path, mode: ReadOnly}, nil
}

// commandLine is this process's command, as a person would type it.
func commandLine() string {
	args := append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...)
	s := strings.Join(args, " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// openHint says why a database could not be opened, when the file system
// is the cause: a missing or unwritable directory, a read-only file.
func openHint(path string, err error) string {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code != sqlite3.ErrCantOpen && se.Code != sqlite3.ErrReadonly && se.Code != sqlite3.ErrPerm {
		return "" // the file opened; what is wrong is inside it
	}
	if fi, serr := os.Stat(path); serr == nil {
		if fi.IsDir() {
			return " (it is a directory: name the database file, e.g. " + filepath.Join(path, "tally.db") + ")"
		}
		if f, werr := os.OpenFile(path, os.O_WRONLY, 0); werr != nil {
			return " (the file is read-only for this user: reports still work; recording needs write permission)"
		} else {
			f.Close()
		}
	}
	return dirHint(path, err)
}

// dirHint blames the directory only when it is missing or not writable.
func dirHint(path string, _ error) string {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Sprintf(" (the directory %s does not exist)", dir)
	}
	if !fi.IsDir() {
		return fmt.Sprintf(" (%s is not a directory)", dir)
	}
	f, err := os.CreateTemp(dir, ".tally-probe*")
	if err != nil {
		return fmt.Sprintf(" (the directory %s is not writable by this user; tally keeps its lock, -wal and -shm files there)", dir)
	}
	f.Close()
	os.Remove(f.Name())
	return ""
}

// The integrity check (SQLite's quick_check, which reads every page: about
// two seconds at a million items on a small machine) must pass before
// anything is written to a file, but it need not run at every open. A
// writer's clean Close runs it after its final checkpoint, when the file
// holds everything that was written, and on success records the file's
// identity and last change (fileID: inode, size, modification and
// status-change times) beside it (checkedPath). The next open for writing
// skips the check only when that record matches the file exactly and no
// WAL is left over: nothing has written the file since it was checked, so
// it is still what passed. A crash (no record: every open removes it), a
// copy or a restored backup (another inode or ctime), any write by another
// program (a new ctime, which cannot be set back) or a failed check at
// close makes the open check again, and a damaged file is refused before
// migrations or anything else writes to it.

// checkedPath is where a clean close records the file it checked.
func (db *DB) checkedPath() string { return db.path + ".checked" }

// checkedOnClose reports whether the last clean close checked this file as
// it is now.
func (db *DB) checkedOnClose() bool {
	rec, err := os.ReadFile(db.checkedPath())
	if err != nil {
		return false
	}
	if fi, err := os.Stat(db.path + "-wal"); err == nil && fi.Size() > 0 {
		return false // a crash left writes to replay
	}
	fi, err := os.Stat(db.path)
	if err != nil {
		return false
	}
	id, ok := fileID(fi)
	return ok && string(rec) == checkedRecord(id)
}

func checkedRecord(id string) string { return "tally quick_check ok " + id + "\n" }

// checkAtClose runs the integrity check after a clean close (every
// connection closed, the WAL checkpointed and truncated, the writer lock
// still held) and on success records the file as checked. It checks on a
// connection of its own, opened after the writer's closed: the writer's
// page cache may hold pages as they were before another program wrote the
// file, and a check that read those would pass a damaged file. The file's
// identity is taken before the check and again after, and recorded only
// when the two agree, so a write during the check is not recorded as
// checked either.
func (db *DB) checkAtClose() {
	id := func() (string, bool) {
		if fi, err := os.Stat(db.path + "-wal"); err == nil && fi.Size() > 0 {
			return "", false
		}
		fi, err := os.Stat(db.path)
		if err != nil {
			return "", false
		}
		return fileID(fi)
	}
	before, ok := id()
	if !ok {
		return
	}
	conn, err := sql.Open("sqlite3", "file:"+db.path+"?_busy_timeout=10000")
	if err != nil {
		return
	}
	conn.SetMaxOpenConns(1)
	err = db.quickCheck(context.Background(), conn)
	if cerr := conn.Close(); err != nil || cerr != nil {
		return
	}
	if after, ok := id(); ok && after == before {
		os.WriteFile(db.checkedPath(), []byte(checkedRecord(after)), 0o644)
	}
}

// checkIntegrity refuses to write into a damaged database.
func (db *DB) checkIntegrity(ctx context.Context) error { return db.quickCheck(ctx, db.w) }

// quickCheck runs the integrity check on conn.
func (db *DB) quickCheck(ctx context.Context, conn *sql.DB) error {
	damaged := func(what any) error {
		return fmt.Errorf("%s is damaged (%v): nothing was written to it; restore a backup, or keep a copy and try `sqlite3 %s .recover`", db.path, what, db.path)
	}
	failed := func(err error) error {
		if IsCorrupt(err) {
			return damaged(err)
		}
		return fmt.Errorf("check %s: %w", db.path, err)
	}
	rows, err := conn.QueryContext(ctx, "PRAGMA quick_check(5)")
	if err != nil {
		return failed(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("check %s: %w", db.path, err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return failed(err)
	}
	if len(problems) > 0 {
		return damaged(strings.Join(problems, "; "))
	}
	return nil
}

// IsCorrupt reports whether err is SQLite saying the file is damaged or not
// a database at all.
func IsCorrupt(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrCorrupt || se.Code == sqlite3.ErrNotADB)
}

// Path is the database file.
func (db *DB) Path() string { return db.path }

// ReadOnly reports whether the database was opened only to read.
func (db *DB) ReadOnly() bool { return db.mode == ReadOnly }

// Close closes the database. A writer first checkpoints the WAL into the
// main file, so that tally.db alone is a complete copy afterwards; then it
// releases the writer lock.
func (db *DB) Close() error {
	db.bg.Wait()
	var errs []error
	if db.mode == ReadOnly {
		if db.SQL != nil {
			errs = append(errs, db.SQL.Close())
		}
		return errors.Join(errs...)
	}
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.stop())
		db.ckpt = nil
	}
	// Readers first: the last connection to close would checkpoint, and a
	// read-only one cannot.
	if db.SQL != nil {
		errs = append(errs, db.SQL.Close())
	}
	if db.w != nil {
		mode := "TRUNCATE"
		if db.mode != Write {
			mode = "PASSIVE" // an import beside the agent must not wait on it
		}
		var busy int
		err := db.w.QueryRow("PRAGMA wal_checkpoint("+mode+")").Scan(&busy, new(int), new(int))
		checkpointed := err == nil && busy == 0
		for _, st := range db.stmts {
			st.Close()
		}
		err = db.w.Close()
		errs = append(errs, err)
		// The last writer in this process checks the file for the next
		// open (see checkedPath).
		if checkpointed && err == nil && db.mode == Write && db.lock != nil && db.lock.last() {
			db.checkAtClose()
		}
	}
	if db.lock != nil {
		db.lock.release()
		db.lock = nil
	}
	return errors.Join(errs...)
}

// SchemaVersion is the schema this tally writes (the database's
// user_version once migrated).
func SchemaVersion() int { return len(migrations) }

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
	// 3: catalog revisions, so a running writer picks up an import made by
	// another process (items changed or removed since the revision it
	// loaded), and each inventory's view of its scope when it began, so
	// its expected count and progress never move with statuses the
	// inventory itself set.
	`
ALTER TABLE items ADD COLUMN rev INTEGER NOT NULL DEFAULT 0; -- catalog revision of the last import that changed it
CREATE INDEX items_rev ON items(rev);
CREATE TABLE items_removed (
	barcode TEXT PRIMARY KEY,
	rev     INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('catalog_rev', '0') ON CONFLICT(key) DO NOTHING;

CREATE TABLE inventory_items (
	inventory_id INTEGER NOT NULL REFERENCES inventories(id),
	barcode      TEXT NOT NULL,
	status       TEXT NOT NULL,    -- the item's status when the inventory began
	expected     INTEGER NOT NULL, -- 1: the scope expected it on the shelf then
	PRIMARY KEY (inventory_id, barcode)
) WITHOUT ROWID;
`,
	// 4: publication year, for the collection report's ages.
	`
ALTER TABLE items ADD COLUMN year INTEGER NOT NULL DEFAULT 0; -- 0 = unknown
`,
	// 5: who scanned each read (operator badges), and the journal of control
	// barcodes: each command scanned, done or refused.
	`
ALTER TABLE reads ADD COLUMN operator TEXT NOT NULL DEFAULT '';
CREATE TABLE controls (
	id           INTEGER PRIMARY KEY,
	at           TEXT NOT NULL,
	device       TEXT NOT NULL DEFAULT '',
	operator     TEXT NOT NULL DEFAULT '',
	command      TEXT NOT NULL,            -- shelf, cart, pause, resume, end, undo, operator
	code         TEXT NOT NULL,            -- the control barcode as scanned
	session_id   INTEGER NOT NULL DEFAULT 0,
	inventory_id INTEGER NOT NULL DEFAULT 0,
	refused      TEXT NOT NULL DEFAULT ''  -- why it was not done; '' when done
);
`,
	// 6: pull lists (see pull.go): items to take off the shelf when the
	// walk meets them, each with the reason the operator is told.
	`
CREATE TABLE pull_items (
	inventory_id INTEGER NOT NULL REFERENCES inventories(id),
	barcode      TEXT NOT NULL,
	reason       TEXT NOT NULL,
	source       TEXT NOT NULL, -- the file the list came from, for the report
	line         INTEGER NOT NULL,
	PRIMARY KEY (inventory_id, barcode)
) WITHOUT ROWID;
`,
	// 7: index snapshots (see snapshot.go). A snapshot says how far it
	// reaches: the catalog revision (imports, found by items.rev and
	// items_removed) and the last items_touched row, which logs every item
	// changed in place outside an import (a read's last-seen date, a found
	// item's status, finalize). AUTOINCREMENT keeps ids rising after old
	// rows are pruned.
	`
CREATE TABLE items_touched (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	barcode TEXT NOT NULL
);
CREATE TRIGGER items_touched AFTER UPDATE ON items WHEN NEW.rev = OLD.rev
BEGIN
	INSERT INTO items_touched (barcode) VALUES (NEW.barcode);
END;
`,
	// 8: automatic pull lists. Holds to pull, replaced whole by each holds
	// import or Koha fetch, with no patron in them (the screen says where
	// and since when, never who); pull lists by kind, so a file's list and
	// a weeding list live side by side on one inventory; and the catalog
	// facts weeding rules read.
	`
CREATE TABLE holds (
	barcode TEXT PRIMARY KEY,
	pickup  TEXT NOT NULL DEFAULT '', -- pickup library code
	placed  TEXT NOT NULL DEFAULT '', -- YYYY-MM-DD the hold was placed
	source  TEXT NOT NULL,            -- the file, or "koha"
	line    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE pull_lists (
	inventory_id INTEGER NOT NULL REFERENCES inventories(id),
	list         TEXT NOT NULL, -- file, weeding
	barcode      TEXT NOT NULL,
	reason       TEXT NOT NULL,
	source       TEXT NOT NULL,
	line         INTEGER NOT NULL,
	PRIMARY KEY (inventory_id, list, barcode)
) WITHOUT ROWID;
INSERT INTO pull_lists SELECT inventory_id, 'file', barcode, reason, source, line FROM pull_items;
DROP TABLE pull_items;
ALTER TABLE pull_lists RENAME TO pull_items;
ALTER TABLE items ADD COLUMN last_borrowed INTEGER NOT NULL DEFAULT 0; -- days since 1970-01-01 (UTC), 0 = unknown
ALTER TABLE items ADD COLUMN condition TEXT NOT NULL DEFAULT '';
CREATE INDEX items_held ON items(barcode) WHERE hold = 1;
`,
	// 9: an inventory's outbox rows by kind, which finalize counts and the
	// missing report lists: without it each scanned the whole outbox.
	`
CREATE INDEX outbox_inventory ON outbox(inventory_id, kind);
`,
	// 10: a first sighting is its journal row, flagged: one row per read
	// instead of a journal row and a sighting row. The unique partial index
	// keeps what seen's primary key kept, one first sighting per item and
	// inventory; undo clears the flag with undone.
	`
ALTER TABLE reads ADD COLUMN first INTEGER NOT NULL DEFAULT 0; -- 1: the item's first sighting in the inventory
UPDATE reads SET first = 1 WHERE id IN (SELECT read_id FROM seen);
CREATE UNIQUE INDEX reads_first ON reads(inventory_id, barcode) WHERE first = 1;
DROP TABLE seen;
`,
	// 11: a pull revision that moves with every change to the pull lists
	// and the holds, so the writer keeps them in memory and reads them again
	// only when they changed, instead of a query per read.
	`
INSERT INTO meta (key, value) VALUES ('pull_rev', '0') ON CONFLICT(key) DO NOTHING;
CREATE TRIGGER pull_items_ins AFTER INSERT ON pull_items BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'pull_rev'; END;
CREATE TRIGGER pull_items_upd AFTER UPDATE ON pull_items BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'pull_rev'; END;
CREATE TRIGGER pull_items_del AFTER DELETE ON pull_items BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'pull_rev'; END;
CREATE TRIGGER holds_ins AFTER INSERT ON holds BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'pull_rev'; END;
CREATE TRIGGER holds_upd AFTER UPDATE ON holds BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'pull_rev'; END;
CREATE TRIGGER holds_del AFTER DELETE ON holds BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'pull_rev'; END;
`,
	// 12: an inventory's reads by id, as the reports read them, in place of
	// (inventory_id, barcode), which reads_first now covers for sightings:
	// a read's index entry then lands beside the one before it, not at a
	// random place among an inventory's barcodes.
	`
DROP INDEX reads_inventory;
CREATE INDEX reads_inventory ON reads(inventory_id, id);
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
		// An import beside us may have migrated while we waited for the lock.
		var cur int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
			tx.Rollback()
			return fmt.Errorf("read schema version: %w", err)
		}
		if cur > i {
			tx.Rollback()
			i = cur - 1
			continue
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

// ErrorReason sorts a failed write into a small fixed set, for the log and
// the commit error metric: disk_full, locked, constraint, read_only, io,
// corrupt, or other.
func ErrorReason(err error) string {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return "other"
	}
	switch se.Code {
	case sqlite3.ErrFull:
		return "disk_full"
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return "locked"
	case sqlite3.ErrConstraint:
		return "constraint"
	case sqlite3.ErrReadonly, sqlite3.ErrPerm:
		return "read_only"
	case sqlite3.ErrIoErr:
		return "io"
	case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
		return "corrupt"
	}
	return "other"
}
