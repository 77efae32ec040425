package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
)

// A database at schema 6 keeps its pull list through migration 7 (the
// table is rebuilt with a list column).
func TestMigrationKeepsPullList(t *testing.T) {
	ctx := context.Background()
	path := oldSchema(t, 6,
		`INSERT INTO inventories (id, name, scope, policy, created_at) VALUES (1, 'All', '{}', '{}', '2026-01-01T00:00:00Z')`,
		`INSERT INTO pull_items (inventory_id, barcode, reason, source, line) VALUES (1, 'P1', 'hold for Ana', 'old.csv', 2)`,
	)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list, err := db.PullList(ctx, 1)
	if err != nil || len(list) != 1 || list[0] != (PullItem{Barcode: "P1", Reason: "hold for Ana", Source: "old.csv", Line: 2}) {
		t.Fatalf("after migration: %+v %v", list, err)
	}
	// It is the file's list: a weeding list goes beside it.
	if err := db.SetPullListKind(ctx, 1, ListWeeding, []PullItem{{Barcode: "P2", Reason: "weeding review: published 1990", Source: "weeding rules"}}); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.PullList(ctx, 1); len(list) != 2 {
		t.Errorf("weeding list replaced the file's: %+v", list)
	}
}

// Every reason to pull an item is found inside the read's transaction —
// the inventory's lists, a hold, the catalog's hold flag — and the report's
// list holds the holds only of items the inventory covers.
func TestPullReasonsAndHolds(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	items := []catalog.Item{
		{Barcode: "A", Location: "Fiction", Kind: catalog.KindBook},
		{Barcode: "B", Location: "Fiction", Kind: catalog.KindBook},
		{Barcode: "C", Location: "Fiction", Kind: catalog.KindBook, HoldWaiting: true},
		{Barcode: "D", Location: "Fiction", Kind: catalog.KindBook, HoldWaiting: true},
		{Barcode: "N", Location: "Nonfiction", Kind: catalog.KindBook},
		{Barcode: "Z", Location: "Fiction", Kind: catalog.KindBook},
	}
	if _, err := db.Import(ctx, nil, "c.csv", "csv", items, true, 0); err != nil {
		t.Fatal(err)
	}
	inv, err := db.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPullList(ctx, inv.ID, []PullItem{{Barcode: "A", Reason: "repair spine", Source: "p.csv", Line: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPullListKind(ctx, inv.ID, ListWeeding, []PullItem{{Barcode: "A", Reason: "weeding review: published 1990", Source: "weeding rules"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetHolds(ctx, []catalog.Hold{
		{Barcode: "B", Pickup: "MPL", Placed: "2026-11-30", Source: "q.csv", Line: 2},
		{Barcode: "D", Pickup: "FPL", Source: "q.csv", Line: 3},
		{Barcode: "N", Pickup: "MPL", Source: "q.csv", Line: 4}, // not this inventory's
	}); err != nil {
		t.Fatal(err)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var got []string
	tw := db.Tx(tx)
	rev, err := tw.PullRev()
	if err != nil {
		t.Fatal(err)
	}
	pulls, err := tw.LoadPulls(rev)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		r, ok := pulls.Reason(inv.ID, it.Barcode, it.HoldWaiting)
		got = append(got, fmt.Sprintf("%s:%v:%s", it.Barcode, ok, r))
	}
	want := "A:true:repair spine; weeding review: published 1990 | B:true:hold for pickup at MPL, placed 2026-11-30 | " +
		"C:true:hold for pickup | D:true:hold for pickup at FPL | N:true:hold for pickup at MPL | Z:false:"
	if g := strings.Join(got, " | "); g != want {
		t.Errorf("reasons\n got %s\nwant %s", g, want)
	}
	tx.Rollback()

	list, err := db.PullList(ctx, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, p := range list {
		got = append(got, fmt.Sprintf("%s=%s@%s:%d", p.Barcode, p.Reason, p.Source, p.Line))
	}
	want = "A=repair spine; weeding review: published 1990@p.csv:2 | B=hold for pickup at MPL, placed 2026-11-30@q.csv:2 | " +
		"D=hold for pickup at FPL@q.csv:3 | C=hold for pickup@catalog hold flag:0"
	if g := strings.Join(got, " | "); g != want {
		t.Errorf("pull list\n got %s\nwant %s", g, want)
	}

	// A new holds list replaces the old one whole.
	if err := db.SetHolds(ctx, []catalog.Hold{{Barcode: "Z", Source: "koha"}}); err != nil {
		t.Fatal(err)
	}
	if hs, err := db.Holds(ctx); err != nil || len(hs) != 1 || hs[0].Barcode != "Z" {
		t.Errorf("holds after a second list: %+v %v", hs, err)
	}
	// Every change to the lists or the holds moves the pull revision.
	for _, change := range []func() error{
		func() error { return db.SetHolds(ctx, []catalog.Hold{{Barcode: "B", Source: "koha"}}) },
		func() error { return db.SetPullList(ctx, inv.ID, nil) },
	} {
		tx.Rollback()
		if err := change(); err != nil {
			t.Fatal(err)
		}
		var now int64
		if err := db.SQL.QueryRow(qPullRev).Scan(&now); err != nil || now == rev {
			t.Fatalf("pull revision %d after a change, was %d (%v)", now, rev, err)
		}
		rev = now
	}
}

// Last checkout and condition are stored, compared on re-import, and read
// back for weeding.
func TestImportKeepsWeedingFacts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	out := time.Date(2016, 3, 2, 15, 4, 0, 0, time.UTC)
	items := []catalog.Item{
		{Barcode: "1", CallNumber: "004.16 ALI", Kind: catalog.KindBook, LastBorrowed: out, Condition: "poor"},
		{Barcode: "2", CallNumber: "001 ABC", Kind: catalog.KindBook},
		{Barcode: "3", Kind: catalog.KindEquipment},
	}
	if _, err := db.Import(ctx, nil, "a.csv", "csv", items, true, 0); err != nil {
		t.Fatal(err)
	}
	items[1].Condition = "fair"
	res, err := db.Import(ctx, nil, "a.csv", "csv", items, true, 0)
	if err != nil || res.Updated != 1 || res.Unchanged != 2 {
		t.Fatalf("re-import with a condition set: %v %v", res, err)
	}
	var got []string
	err = db.Candidates(ctx, func(it catalog.Item) error {
		got = append(got, fmt.Sprintf("%s %s %s", it.Barcode, it.LastBorrowed.Format("2006-01-02"), it.Condition))
		return nil
	})
	if g := strings.Join(got, " | "); err != nil || g != "2 0001-01-01 fair | 1 2016-03-02 poor" {
		t.Errorf("candidates (books in shelf order): %s %v", g, err)
	}
}
