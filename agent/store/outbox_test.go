package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/sync/outbox"
)

// The missing events a finalize writes in SQL are the events encoding/json
// writes from outbox.Data: the same payload bytes where JSON has one way
// to write a string, and for any string the same event, so the same
// webhook body, once decoded.
func TestQueueMissingPayloadIsData(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	items := []catalog.Item{
		{Barcode: "M1", Title: "Plain title", CallNumber: "FIC ABC", Price: 1999},
		{Barcode: "M2"}, // no title, call number or price: left out, as omitempty does
		{Barcode: "M3", Title: `quote " and back\slash`, CallNumber: "398.2 GRI", Price: 1},
		{Barcode: "M4", Title: "Ünïcödé — 本 📚", CallNumber: "J 599 é"},
		{Barcode: "C1", Title: "Laptop", Container: "cart-7b", Kind: catalog.KindEquipment, Price: 45000},
		// Strings encoding/json writes its own way (HTML escapes, line
		// separators, control bytes, bad UTF-8): same event once decoded.
		{Barcode: "X1", Title: "<b>Tom & Jerry</b>", CallNumber: "741.5\u2028x\u2029"},
		{Barcode: "X2", Title: "tab\tnew\nline\x01\x7f", CallNumber: "bad \xff\xfe utf-8"},
	}
	for i := range items {
		items[i].Status = catalog.StatusAvailable
		if items[i].Kind == "" {
			items[i].Kind = catalog.KindBook
		}
	}
	if _, err := db.Import(ctx, nil, "f", "csv", items, false, 0); err != nil {
		t.Fatal(err)
	}
	inv, err := db.CreateInventory(ctx, `Spring "<&>" 2026`, catalog.Scope{}, reconcile.Policy{MissingLostValue: 3})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 30, 23, 59, 58, 0, time.FixedZone("x", -7*3600)).UTC()
	q := MissingQueue{Inventory: inv, At: at}
	for _, it := range items {
		q.Items = append(q.Items, MissingEvent{Barcode: it.Barcode, Cart: catalog.NormalizeID(it.Container)})
	}
	w := db.NewWriter(0)
	defer w.Close()
	if err := w.Do(ctx, Func(func(tx *sql.Tx) error { return db.Tx(tx).QueueMissing(q) })); err != nil {
		t.Fatal(err)
	}
	rows, err := db.OutboxRows(ctx, "pending", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(items) {
		t.Fatalf("%d rows queued for %d items", len(rows), len(items))
	}
	byBarcode := map[string]outbox.Row{}
	for _, r := range rows {
		byBarcode[r.Barcode] = r
	}
	for _, it := range items {
		kind, cart := outbox.Missing, ""
		if it.Container != "" {
			kind, cart = outbox.CartMissing, catalog.NormalizeID(it.Container)
		}
		// What finalize built in Go before, field for field.
		d := outbox.Data{InventoryID: inv.ID, Inventory: inv.Name, Barcode: it.Barcode,
			Date: at.Format(time.DateOnly), LostValue: new(inv.Policy.MissingLostValue),
			Since: inv.CreatedAt.UTC().Format(time.RFC3339),
			Title: it.Title, CallNumber: it.CallNumber, Container: cart, PriceCents: it.Price}
		if err := d.Check(kind); err != nil {
			t.Fatal(err)
		}
		want, err := NewEvent(inv.ID, it.Barcode, kind, d)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := byBarcode[it.Barcode]
		if !ok {
			t.Errorf("%s: not queued", it.Barcode)
			continue
		}
		if got.Key != want.Key || got.Kind != want.Kind || got.InventoryID != want.InvID {
			t.Errorf("%s: row %s %s %d, want %s %s %d", it.Barcode, got.Key, got.Kind, got.InventoryID, want.Key, want.Kind, want.InvID)
		}
		if !strings.HasPrefix(it.Barcode, "X") && !bytes.Equal(got.Payload, want.Payload) {
			t.Errorf("%s: payload\n%s\nwant\n%s", it.Barcode, got.Payload, want.Payload)
		}
		ev, err := got.Event(1)
		if err != nil {
			t.Fatalf("%s: %v", it.Barcode, err)
		}
		wantRow := got
		wantRow.Payload = want.Payload
		wantEv, err := wantRow.Event(1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(ev)
		wantBody, _ := json.Marshal(wantEv)
		if !bytes.Equal(body, wantBody) {
			t.Errorf("%s: webhook body\n%s\nwant\n%s", it.Barcode, body, wantBody)
		}
	}
	// The policy's lost value marks the items missing in the catalog table.
	x, err := db.ScanIndex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if got, _ := x.Get(it.Barcode); got.Status != catalog.StatusMissing {
			t.Errorf("%s: status %s after finalize, want missing", it.Barcode, got.Status)
		}
	}
}

// A finalize's statements find their rows through indexes: none reads the
// whole outbox or the whole catalog, which at 100k items each was most of
// a finalize's time.
func TestFinalizeStatementsUseIndexes(t *testing.T) {
	db, _ := deliveryDB(t)
	for _, tc := range []struct {
		name string
		q    string
		args []any
	}{
		{"count by kind", qOutboxKinds, []any{1}},
		{"queue missing", qQueueMissing, []any{1, "", "", "", "[]"}},
		{"mark missing", qMarkMissing, []any{"[]"}},
	} {
		rows, err := db.w.Query("EXPLAIN QUERY PLAN "+tc.q, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			// The scan of outbox_delivery is the foreign key's check for
			// rows inserted into the parent table, which SQLite runs only
			// while a deferred violation is outstanding (OP_FkIfZero).
			if strings.HasPrefix(step, "SCAN") && !strings.Contains(step, "json_each") && !strings.Contains(step, "COVERING INDEX") &&
				step != "SCAN m" && !strings.HasPrefix(step, "SCAN outbox_delivery") {
				t.Errorf("%s reads a whole table: %s (plan: %s)", tc.name, step, strings.Join(plan, "; "))
			}
		}
	}
}
