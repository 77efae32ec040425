package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tally-inventory/tally/agent/catalog"
)

// An index snapshot (catalog.Index.WriteSnapshot) sits beside the database
// as DB.SnapshotPath. Its stamp carries a random nonce, which the database
// records (meta index_snapshot) once the file is safely written, and how
// far it reaches; start-up decodes it and catches up with what changed
// since — items imported or removed after its catalog revision, items
// changed in place after its last items_touched row — instead of scanning
// every item through cgo. A snapshot from another database, from the
// future of this one (a backup restored), of another format or damaged is
// never used: the index is scanned from the store then, and a new
// snapshot written.

// indexStamp is how far a snapshot reaches in one database.
type indexStamp struct {
	nonce   string // the snapshot's; in the database, the last snapshot's written
	rev     int64  // catalog revision
	touched int64  // last items_touched id
}

func (s indexStamp) String() string {
	return fmt.Sprintf("tally index nonce=%s rev=%d touched=%d", s.nonce, s.rev, s.touched)
}

func parseStamp(b []byte) (indexStamp, bool) {
	var s indexStamp
	rest, ok := strings.CutPrefix(string(b), "tally index ")
	if !ok {
		return s, false
	}
	f := strings.Fields(rest)
	if len(f) != 3 {
		return s, false
	}
	var err1, err2 error
	id, ok1 := strings.CutPrefix(f[0], "nonce=")
	rev, ok2 := strings.CutPrefix(f[1], "rev=")
	tch, ok3 := strings.CutPrefix(f[2], "touched=")
	s.nonce = id
	s.rev, err1 = strconv.ParseInt(rev, 10, 64)
	s.touched, err2 = strconv.ParseInt(tch, 10, 64)
	return s, ok1 && ok2 && ok3 && id != "" && err1 == nil && err2 == nil
}

// SnapshotPath is where the index snapshot of this database lives.
func (db *DB) SnapshotPath() string { return db.path + ".index" }

// IndexLoad says how LoadIndex built the index.
type IndexLoad struct {
	FromSnapshot bool   // decoded from the snapshot and caught up
	CaughtUp     int    // items re-read or removed since the snapshot
	Why          string // why the snapshot was not used, when it was not
}

// currentStamp reads how far the database is now.
func (db *DB) currentStamp(ctx context.Context) (indexStamp, error) {
	var s indexStamp
	err := db.SQL.QueryRowContext(ctx, `SELECT
		coalesce((SELECT value FROM meta WHERE key = 'index_snapshot'), ''),
		(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'catalog_rev'),
		coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'items_touched'), 0)`).Scan(&s.nonce, &s.rev, &s.touched)
	if err != nil {
		return s, fmt.Errorf("read the catalog's change counters: %w", err)
	}
	return s, nil
}

// LoadIndex builds the in-memory index: from the snapshot when there is a
// usable one, else from the items table (and then writes a snapshot for the
// next start, in Write mode).
func (db *DB) LoadIndex(ctx context.Context) (*catalog.Index, error) {
	x, _, err := db.LoadIndexInfo(ctx)
	return x, err
}

// LoadIndexInfo is LoadIndex, also saying how the index was built.
func (db *DB) LoadIndexInfo(ctx context.Context) (*catalog.Index, IndexLoad, error) {
	// The counters before the items: whatever changes while they are read
	// is logged after these, so the next start catches up with it.
	cur, err := db.currentStamp(ctx)
	if err != nil {
		return nil, IndexLoad{}, err
	}
	x, info, err := db.fromSnapshot(ctx, cur)
	if err == nil {
		// A long catch-up is done once: the next start begins from here.
		if info.CaughtUp > 1000 && info.CaughtUp > x.Len()/16 {
			db.saveSnapshot(x, cur)
		}
		return x, info, nil
	}
	info = IndexLoad{Why: err.Error()}
	if x, err = db.ScanIndex(ctx); err != nil {
		return nil, info, err
	}
	db.saveSnapshot(x, cur)
	return x, info, nil
}

// fromSnapshot decodes the snapshot and applies the changes since it.
func (db *DB) fromSnapshot(ctx context.Context, cur indexStamp) (*catalog.Index, IndexLoad, error) {
	var info IndexLoad
	data, keep, drop, err := mapFile(db.SnapshotPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, info, errors.New("no index snapshot yet")
	}
	if err != nil {
		return nil, info, fmt.Errorf("read index snapshot: %w", err)
	}
	// The index decoded may refer to the bytes: once it is returned they
	// stay mapped; before, nothing refers to them.
	used := false
	defer func() {
		if used {
			keep()
		} else {
			drop()
		}
	}()
	snap, err := catalog.OpenSnapshot(data)
	if err != nil {
		return nil, info, err
	}
	raw := snap.Stamp()
	st, ok := parseStamp(raw)
	switch {
	case !ok:
		return nil, info, fmt.Errorf("index snapshot stamp %q not understood", raw)
	case st.nonce != cur.nonce:
		// Another database's, or one this database never recorded (a
		// backup restored, a crash before the record).
		return nil, info, fmt.Errorf("index snapshot %s is not the one the database last recorded (%q)", st.nonce, cur.nonce)
	case st.rev > cur.rev || st.touched > cur.touched:
		return nil, info, fmt.Errorf("index snapshot (%s) is newer than the database (%s)", st, cur)
	}
	x, err := snap.Index()
	if err != nil {
		return nil, info, err
	}
	used = true // from here on the index holds the bytes, even if discarded below
	info.FromSnapshot = true
	if st.rev == cur.rev && st.touched == cur.touched {
		return x, info, nil
	}
	// Removals, then items changed by imports or in place since the snapshot.
	gone, err := queryStrings(ctx, db.SQL, "SELECT barcode FROM items_removed WHERE rev > ?", st.rev)
	if err != nil {
		return nil, info, fmt.Errorf("catch up with the catalog: %w", err)
	}
	for _, bc := range gone {
		x.Remove(bc)
	}
	info.CaughtUp = len(gone)
	rows, err := db.SQL.QueryContext(ctx, "SELECT "+itemCols+", sort_key FROM items WHERE rev > ? UNION SELECT "+itemCols+", sort_key FROM items WHERE barcode IN (SELECT barcode FROM items_touched WHERE id > ?)", st.rev, st.touched)
	if err != nil {
		return nil, info, fmt.Errorf("catch up with the catalog: %w", err)
	}
	defer rows.Close()
	var batch []catalog.Keyed
	for rows.Next() {
		var k catalog.Keyed
		if k.Item, err = scanItem(rows, &k.SortKey); err != nil {
			return nil, info, fmt.Errorf("catch up with the catalog: %w", err)
		}
		batch = append(batch, k)
	}
	if err := rows.Err(); err != nil {
		return nil, info, fmt.Errorf("catch up with the catalog: %w", err)
	}
	x.PutBatch(batch)
	info.CaughtUp += len(batch)
	return x, info, nil
}

func queryStrings(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// saveSnapshot encodes x (not yet shared: no reader waits on its lock) and
// writes it in the background; Close waits for it. Only the writing
// process writes snapshots.
func (db *DB) saveSnapshot(x *catalog.Index, st indexStamp) {
	if db.mode != Write {
		return
	}
	var nonce [12]byte
	rand.Read(nonce[:])
	st.nonce = hex.EncodeToString(nonce[:])
	var buf bytes.Buffer
	if err := x.WriteSnapshot(&buf, []byte(st.String())); err != nil {
		db.backgroundFailed(err)
		return
	}
	db.bg.Add(1)
	go func() {
		defer db.bg.Done()
		if err := db.writeSnapshot(buf.Bytes(), st); err != nil {
			db.backgroundFailed(err)
		}
	}()
}

func (db *DB) backgroundFailed(err error) {
	if db.onBackground != nil {
		db.onBackground(err)
	}
}

// writeSnapshot replaces the snapshot file durably (the file and its
// directory synced), and only then records its nonce in the database and
// prunes the change log up to its stamp, in one transaction: until that
// commits the database names no usable snapshot, and after it no older
// snapshot is accepted, so no pruned change can be missed.
func (db *DB) writeSnapshot(data []byte, st indexStamp) error {
	db.snapMu.Lock() // file and record replaced together
	defer db.snapMu.Unlock()
	path := db.SnapshotPath()
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write index snapshot: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write index snapshot: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("write index snapshot: sync directory: %w", err)
		}
	}
	tx, err := db.w.Begin()
	if err != nil {
		return fmt.Errorf("record index snapshot: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("INSERT INTO meta (key, value) VALUES ('index_snapshot', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", st.nonce); err != nil {
		return fmt.Errorf("record index snapshot: %w", err)
	}
	if _, err := tx.Exec("DELETE FROM items_touched WHERE id <= ?", st.touched); err != nil {
		return fmt.Errorf("prune the catalog's change log: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record index snapshot: %w", err)
	}
	return nil
}
