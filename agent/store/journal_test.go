package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
)

// journalWriter is a Writer that gathers journal rows and writes them at
// each batch's end, as the engine's does.
func journalWriter(t testing.TB, db *DB) (*Writer, *Journal) {
	var jn Journal
	w := db.NewWriterWith(WriterOpts{MaxBatch: 64,
		Before: func(*sql.Tx) error { jn.Reset(); return nil },
		Flush:  func(tx *sql.Tx) error { return db.Tx(tx).InsertJournal(&jn) }})
	t.Cleanup(func() { w.Close() })
	return w, &jn
}

// A journal row written in the batch's one statement reads back as it was
// given, whatever its text holds: quotes, backslashes, control bytes, a NUL,
// bytes that are not UTF-8, a raw capture or none.
func TestJournalRowsRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inv, _ := db.CreateInventory(ctx, "i", catalog.Scope{}, defaultPolicy())
	s, _ := db.StartSession(ctx, inv.ID, "shelf", "", "", "")
	w, jn := journalWriter(t, db)
	at := time.Date(2027, 3, 1, 9, 30, 15, 123456789, time.FixedZone("x", 3600))
	rows := []ReadRow{
		{Code: "31000001", Barcode: "31000001", Outcome: "ok", Device: "desk", DeviceKind: "scanner", Raw: []byte("31000001\r")},
		{Code: `a"b\c` + "\x00\x01\x1f\x7f", Outcome: "unknown", Flags: "x,y", Detail: `{"problem":"é ü"}`, Raw: []byte{0, 0xff, 0x80}},
		{Code: "\xff\xfe not utf-8 \xc3", Outcome: "invalid", Operator: "Ann \u2603", Raw: []byte{}},
		{Code: "", Outcome: "invalid"},
	}
	ids := make([]int64, len(rows))
	err := w.Do(ctx, &leanRead{run: func(tx *sql.Tx) error {
		for i := range rows {
			rows[i].SessionID, rows[i].InventoryID, rows[i].At = s.ID, inv.ID, at
			id, err := db.Tx(tx).AddRead(jn, &rows[i], i == 0)
			if err != nil {
				return err
			}
			ids[i] = id
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	var got []*ReadRow
	if err := db.Reads(ctx, inv.ID, 0, func(r *ReadRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows read back, want %d", len(got), len(rows))
	}
	for i, g := range got {
		want := rows[i]
		if g.ID != ids[i] || g.Code != want.Code || g.Barcode != want.Barcode || g.Outcome != want.Outcome ||
			g.Flags != want.Flags || g.Detail != want.Detail || g.Device != want.Device || g.DeviceKind != want.DeviceKind ||
			!g.At.Equal(at) || string(g.Raw) != string(want.Raw) || (g.Raw == nil) != (want.Raw == nil) {
			t.Errorf("row %d: got %+v\nwant %+v (id %d)", i, *g, want, ids[i])
		}
	}
	var op string
	db.SQL.QueryRow("SELECT operator FROM reads WHERE id = ?", ids[2]).Scan(&op)
	if op != rows[2].Operator {
		t.Errorf("operator %q, want %q", op, rows[2].Operator)
	}
	seen, err := db.Seen(ctx, inv.ID)
	if err != nil || len(seen) != 1 || seen["31000001"] != s.ID {
		t.Errorf("seen %v, %v: want the first row's item, in session %d", seen, err, s.ID)
	}
}

// A second first sighting of an item in an inventory is refused by the
// store (memory said "first" when it was not): the batch fails and nothing
// of it is kept. Another inventory's first sighting of it is fine.
func TestJournalOneFirstSighting(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	inv, _ := db.CreateInventory(ctx, "i", catalog.Scope{}, defaultPolicy())
	inv2, _ := db.CreateInventory(ctx, "j", catalog.Scope{}, defaultPolicy())
	s, _ := db.StartSession(ctx, inv.ID, "shelf", "", "", "")
	s2, _ := db.StartSession(ctx, inv2.ID, "shelf", "", "", "")
	w, jn := journalWriter(t, db)
	read := func(sid, invID int64, first bool) error {
		return w.Do(ctx, &leanRead{run: func(tx *sql.Tx) error {
			_, err := db.Tx(tx).AddRead(jn, &ReadRow{SessionID: sid, InventoryID: invID, At: time.Now(), Code: "B1", Barcode: "B1", Outcome: "ok"}, first)
			return err
		}})
	}
	if err := read(s.ID, inv.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := read(s.ID, inv.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := read(s.ID, inv.ID, true); err == nil {
		t.Fatal("a second first sighting of B1 was accepted")
	}
	if err := read(s2.ID, inv2.ID, true); err != nil {
		t.Fatalf("first sighting in another inventory: %v", err)
	}
	if n, _ := db.CountReads(ctx); n != 3 {
		t.Errorf("%d journal rows, want 3 (the refused one not kept)", n)
	}
	if err := read(s.ID, inv.ID, true); err == nil || errors.Is(err, ErrClosed) {
		t.Fatalf("still accepted after a refusal: %v", err)
	}
}

// A database at schema 9 keeps its sightings through migration 10: each
// seen row becomes its journal row's first flag, an undone read's (no seen
// row) does not, and the store still refuses a second first sighting.
func TestMigrationSeenToFirstFlag(t *testing.T) {
	ctx := context.Background()
	path := oldSchema(t, 9,
		`INSERT INTO inventories (id, name, scope, policy, created_at) VALUES (1, 'All', '{}', '{}', '2026-01-01T00:00:00Z')`,
		`INSERT INTO sessions (id, inventory_id, kind, state, started_at) VALUES (1, 1, 'shelf', 'open', '2026-01-01T00:00:00Z'),
			(2, 1, 'shelf', 'open', '2026-01-01T00:00:00Z')`,
		`INSERT INTO reads (id, session_id, inventory_id, at, code, barcode, outcome, undone) VALUES
			(1, 1, 1, '2026-01-01T00:00:00Z', 'A', 'A', 'ok', 0),
			(2, 1, 1, '2026-01-01T00:00:01Z', 'A', 'A', 'duplicate', 0),
			(3, 1, 1, '2026-01-01T00:00:02Z', 'B', 'B', 'ok', 1),
			(4, 2, 1, '2026-01-01T00:00:03Z', 'B', 'B', 'ok', 0),
			(5, 2, 1, '2026-01-01T00:00:04Z', 'C', 'C', 'ok', 1)`,
		`INSERT INTO seen (inventory_id, barcode, read_id, session_id) VALUES (1, 'A', 1, 1), (1, 'B', 4, 2)`,
	)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen, err := db.Seen(ctx, 1)
	if err != nil || len(seen) != 2 || seen["A"] != 1 || seen["B"] != 2 {
		t.Fatalf("after migration: seen %v, %v; want A in session 1, B in 2", seen, err)
	}
	var firsts string
	db.SQL.QueryRow("SELECT group_concat(id) FROM (SELECT id FROM reads WHERE first = 1 ORDER BY id)").Scan(&firsts)
	if firsts != "1,4" {
		t.Errorf("first sightings %q, want reads 1,4", firsts)
	}
	w, jn := journalWriter(t, db)
	err = w.Do(ctx, &leanRead{run: func(tx *sql.Tx) error {
		_, err := db.Tx(tx).AddRead(jn, &ReadRow{SessionID: 1, InventoryID: 1, At: time.Now(), Code: "A", Barcode: "A", Outcome: "ok"}, true)
		return err
	}})
	if err == nil {
		t.Error("a second first sighting of A was accepted after the migration")
	}
}

// oldSchema makes a database at schema version v (the first v migrations)
// holding what stmts put in it, for a test of the migrations after v.
func oldSchema(t *testing.T, v int, stmts ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	for i, m := range migrations[:v] {
		if _, err := old.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	for _, q := range append([]string{fmt.Sprintf("PRAGMA user_version = %d", v)}, stmts...) {
		if _, err := old.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return path
}
