package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
)

const itemCols = `barcode, title, author, call_number, library, location, collection, item_type,
	status, due_date, last_seen, price, kind, container, asset_tag, serial, rfid, hold, year`

// weedCols are the item columns only weeding reads: the index leaves them
// out (see Candidates).
const weedCols = `last_borrowed, condition`

// ScanIndex builds the in-memory index from the items table. Two
// connections read the two halves of the table at once (most of the cost
// is SQLite and cgo), feeding one builder in batches; call-number sort keys
// come precomputed from the table.
func (db *DB) ScanIndex(ctx context.Context) (*catalog.Index, error) {
	var n int
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM items").Scan(&n); err != nil {
		return nil, fmt.Errorf("count items: %w", err)
	}
	x := catalog.NewIndex(n)
	if n == 0 {
		return x, nil
	}
	var mid string
	if err := db.SQL.QueryRowContext(ctx, "SELECT barcode FROM items ORDER BY barcode LIMIT 1 OFFSET ?", n/2).Scan(&mid); err != nil {
		return nil, fmt.Errorf("load items: %w", err)
	}
	batches := make(chan []catalog.Keyed, 8)
	errc := make(chan error, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, where := range []string{"barcode < ?", "barcode >= ?"} {
		wg.Add(1)
		go func(where string) {
			defer wg.Done()
			errc <- db.scanItems(ctx, "SELECT "+itemCols+", sort_key FROM items WHERE "+where, mid, batches)
		}(where)
	}
	go func() { wg.Wait(); close(batches) }()
	for b := range batches {
		x.PutBatch(b)
	}
	for range 2 {
		if err := <-errc; err != nil {
			return nil, fmt.Errorf("load items: %w", err)
		}
	}
	return x, nil
}

func (db *DB) scanItems(ctx context.Context, q, arg string, out chan<- []catalog.Keyed) error {
	rows, err := db.SQL.QueryContext(ctx, q, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	const size = 512
	batch := make([]catalog.Keyed, 0, size)
	var key string
	r := newItemRow(&key)
	for rows.Next() {
		it, err := r.scan(rows)
		if err != nil {
			return err
		}
		k := catalog.Keyed{Item: it, SortKey: key}
		batch = append(batch, k)
		if len(batch) == size {
			select {
			case out <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]catalog.Keyed, 0, size)
		}
	}
	if len(batch) > 0 {
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return rows.Err()
}

// importChunk rows per upsert statement: 64 × 23 values stays far below
// SQLite's limit of 32,766 bound values.
const importChunk = 64

// upsertCols is the number of values upsertItems binds per row.
const upsertCols = 23

// upsertItems is the statement that adds or updates n items. A barcode
// twice in one statement updates the row its first copy added, as two
// statements would.
func upsertItems(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO items (" + itemCols + ", " + weedCols + ", sort_key, rev) VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(` ON CONFLICT(barcode) DO UPDATE SET title=excluded.title, author=excluded.author,
		call_number=excluded.call_number, library=excluded.library, location=excluded.location,
		collection=excluded.collection, item_type=excluded.item_type, status=excluded.status,
		due_date=excluded.due_date, last_seen=excluded.last_seen, price=excluded.price,
		kind=excluded.kind, container=excluded.container, asset_tag=excluded.asset_tag,
		serial=excluded.serial, rfid=excluded.rfid, hold=excluded.hold, year=excluded.year,
		last_borrowed=excluded.last_borrowed, condition=excluded.condition, sort_key=excluded.sort_key, rev=excluded.rev`)
	return b.String()
}

// ImportResult counts what an import did.
type ImportResult struct {
	Added, Updated, Unchanged, Removed, Rejected int
	// Rev is the catalog revision the import made (unchanged when it
	// changed nothing).
	Rev int64
}

func (r ImportResult) String() string {
	return fmt.Sprintf("%d added, %d updated, %d unchanged, %d removed, %d rejected",
		r.Added, r.Updated, r.Unchanged, r.Removed, r.Rejected)
}

// Import writes items in one transaction: all of them or none. With replace,
// items in the store that are not in items are removed (a full catalog
// export); without it the import only adds and updates. The index, when not
// nil, is updated to match after the commit.
func (db *DB) Import(ctx context.Context, x *catalog.Index, file, format string, items []catalog.Item, replace bool, rejected int) (ImportResult, error) {
	var res ImportResult
	res.Rejected = rejected
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	defer tx.Rollback()
	var rev int64
	if err := tx.QueryRowContext(ctx, qCatalogRev).Scan(&rev); err != nil {
		return res, fmt.Errorf("import: read catalog revision: %w", err)
	}
	rev++
	// Compare against what is stored, not the index, so the counts are right
	// even when the agent is not running.
	old := map[string]catalog.Item{}
	rows, err := tx.QueryContext(ctx, "SELECT "+itemCols+", "+weedCols+" FROM items")
	if err != nil {
		return res, fmt.Errorf("import: read items: %w", err)
	}
	for rows.Next() {
		var lastOut int64
		var cond string
		it, err := scanItem(rows, &lastOut, &cond)
		it.LastBorrowed, it.Condition = fromDays(lastOut), cond
		if err != nil {
			rows.Close()
			return res, fmt.Errorf("import: read items: %w", err)
		}
		old[it.Barcode] = it
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("import: read items: %w", err)
	}
	// Rows go in importChunk at a time, one statement each: a statement per
	// row was most of an import's time (a cgo round trip and 21 bound
	// values each).
	up, err := tx.PrepareContext(ctx, upsertItems(importChunk))
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	defer up.Close()
	args := make([]any, 0, importChunk*upsertCols)
	flush := func(st *sql.Stmt) error {
		if len(args) == 0 {
			return nil
		}
		if st == nil {
			if _, err := tx.ExecContext(ctx, upsertItems(len(args)/upsertCols), args...); err != nil {
				return err
			}
		} else if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
		args = args[:0]
		return nil
	}
	inFile := make(map[string]bool, len(items))
	for i := range items {
		it := &items[i]
		it.Barcode = catalog.NormalizeID(it.Barcode)
		inFile[it.Barcode] = true
		if prev, ok := old[it.Barcode]; ok {
			if sameItem(prev, *it) {
				res.Unchanged++
				continue
			}
			res.Updated++
		} else {
			res.Added++
		}
		args = append(args, it.Barcode, it.Title, it.Author, it.CallNumber, it.Library,
			it.Location, it.Collection, it.ItemType, string(it.Status), toDays(it.DueDate),
			toDays(it.LastSeen), it.Price, string(it.Kind), it.Container, it.AssetTag, it.Serial,
			it.RFID, it.HoldWaiting, it.Year, toDays(it.LastBorrowed), it.Condition, callnumber.Key(it.CallNumber), rev)
		if len(args) == cap(args) {
			if err := flush(up); err != nil {
				return res, fmt.Errorf("import: items before %s: %w", it.Barcode, err)
			}
		}
	}
	if err := flush(nil); err != nil {
		return res, fmt.Errorf("import: the last items: %w", err)
	}
	var gone []string
	if replace {
		for bc := range old {
			if !inFile[bc] {
				gone = append(gone, bc)
			}
		}
		del, err := tx.PrepareContext(ctx, "DELETE FROM items WHERE barcode = ?")
		if err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		defer del.Close()
		tomb, err := tx.PrepareContext(ctx, "INSERT INTO items_removed (barcode, rev) VALUES (?, ?) ON CONFLICT(barcode) DO UPDATE SET rev = excluded.rev")
		if err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		defer tomb.Close()
		for _, bc := range gone {
			if _, err := del.ExecContext(ctx, bc); err != nil {
				return res, fmt.Errorf("import: remove %s: %w", bc, err)
			}
			if _, err := tomb.ExecContext(ctx, bc, rev); err != nil {
				return res, fmt.Errorf("import: remove %s: %w", bc, err)
			}
		}
		res.Removed = len(gone)
	}
	res.Rev = rev - 1
	if res.Added+res.Updated+res.Removed > 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'catalog_rev'", rev); err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		res.Rev = rev
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO imports (at, file, format, added, updated, unchanged, removed, rejected)
		VALUES (?,?,?,?,?,?,?,?)`, now(), file, format, res.Added, res.Updated, res.Unchanged, res.Removed, res.Rejected); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("import: commit: %w", err)
	}
	if x != nil {
		for _, it := range items {
			x.Put(it)
		}
		for _, bc := range gone {
			x.Remove(bc)
		}
	}
	return res, nil
}

// scanItem reads one row of itemCols, and the columns after them into
// extra.
func scanItem(rows *sql.Rows, extra ...any) (catalog.Item, error) {
	return newItemRow(extra...).scan(rows)
}

// itemRow scans rows of itemCols (and extra columns) into the same
// destinations row after row: the index scan reads a million.
type itemRow struct {
	it        catalog.Item
	st, kind  string
	due, seen int64
	dest      []any
}

func newItemRow(extra ...any) *itemRow {
	r := &itemRow{}
	it := &r.it
	r.dest = append([]any{&it.Barcode, &it.Title, &it.Author, &it.CallNumber, &it.Library,
		&it.Location, &it.Collection, &it.ItemType, &r.st, &r.due, &r.seen, &it.Price, &r.kind,
		&it.Container, &it.AssetTag, &it.Serial, &it.RFID, &it.HoldWaiting, &it.Year}, extra...)
	return r
}

func (r *itemRow) scan(rows *sql.Rows) (catalog.Item, error) {
	if err := rows.Scan(r.dest...); err != nil {
		return catalog.Item{}, err
	}
	it := r.it
	it.Status, it.Kind = catalog.Status(r.st), catalog.Kind(r.kind)
	it.DueDate, it.LastSeen = fromDays(r.due), fromDays(r.seen)
	return it, nil
}

// sameItem compares items as stored (dates as days).
func sameItem(a, b catalog.Item) bool {
	a.DueDate, b.DueDate = fromDays(toDays(a.DueDate)), fromDays(toDays(b.DueDate))
	a.LastSeen, b.LastSeen = fromDays(toDays(a.LastSeen)), fromDays(toDays(b.LastSeen))
	a.LastBorrowed, b.LastBorrowed = fromDays(toDays(a.LastBorrowed)), fromDays(toDays(b.LastBorrowed))
	return a == b
}

func toDays(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

func fromDays(d int64) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Unix(d*86400, 0).UTC()
}

// CatalogRev is the catalog's revision: every import that changes an item
// raises it. A writer compares it with the revision its index was built at
// (inside its transaction, so nothing can change in between).
func (t TxWriter) CatalogRev() (int64, error) {
	var rev int64
	if err := t.queryRow(qCatalogRev).Scan(&rev); err != nil {
		return 0, fmt.Errorf("read catalog revision: %w", err)
	}
	return rev, nil
}

// CatalogRev reads the catalog's revision outside any transaction.
func (db *DB) CatalogRev(ctx context.Context) (int64, error) {
	var rev int64
	if err := db.SQL.QueryRowContext(ctx, qCatalogRev).Scan(&rev); err != nil {
		return 0, fmt.Errorf("read catalog revision: %w", err)
	}
	return rev, nil
}

// CatalogChanges reports, inside the writer's transaction, the items
// removed and the items added or changed by imports after revision since.
func (t TxWriter) CatalogChanges(since int64, removed func(barcode string), changed func(catalog.Keyed)) error {
	rows, err := t.tx.Query("SELECT barcode FROM items_removed WHERE rev > ?", since)
	if err != nil {
		return fmt.Errorf("read catalog changes: %w", err)
	}
	var gone []string
	for rows.Next() {
		var bc string
		if err := rows.Scan(&bc); err != nil {
			rows.Close()
			return fmt.Errorf("read catalog changes: %w", err)
		}
		gone = append(gone, bc)
	}
	rows.Close()
	for _, bc := range gone {
		removed(bc)
	}
	rows, err = t.tx.Query("SELECT "+itemCols+", sort_key FROM items WHERE rev > ?", since)
	if err != nil {
		return fmt.Errorf("read catalog changes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k catalog.Keyed
		var err error
		if k.Item, err = scanItem(rows, &k.SortKey); err != nil {
			return fmt.Errorf("read catalog changes: %w", err)
		}
		changed(k)
	}
	return rows.Err()
}
