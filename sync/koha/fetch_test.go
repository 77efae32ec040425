package koha

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/sync/koha/kohatest"
)

func fetchOpts(srv *kohatest.Server, per int) Opts {
	o := DefaultOpts
	o.BaseURL = srv.URL + "/api/v1"
	o.User, o.Password = "tally", "password"
	o.PerPage = per
	return o
}

func TestFetchItemsPaging(t *testing.T) {
	srv := kohatest.New(kohatest.Opts{})
	defer srv.Close()
	const n = 47
	for i := range n {
		srv.AddItem(kohatest.Item{Barcode: fmt.Sprintf("3100%04d", i), Title: fmt.Sprintf("Book %d /", i), Author: "Author, A.",
			CallNumber: fmt.Sprintf("FIC %03d", i), HomeLibrary: "MAIN", Location: "FIC", ItemType: "BK"})
	}
	srv.AddItem(kohatest.Item{Title: "An e-book without a barcode"})
	var progress []int
	items, err := fetch(context.Background(), fetchOpts(srv, 10), func(n int) { progress = append(progress, n) })
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n {
		t.Fatalf("%d items, want %d", len(items), n)
	}
	if got, want := fmt.Sprint(progress), "[10 20 30 40 48]"; got != want {
		t.Errorf("progress %s, want %s", got, want)
	}
	if got := srv.Requests()["GET /items"]; got != 5 {
		t.Errorf("%d pages requested, want 5", got)
	}
	for i, it := range items {
		want := catalog.Item{Barcode: fmt.Sprintf("3100%04d", i), Title: fmt.Sprintf("Book %d", i), Author: "Author, A.",
			CallNumber: fmt.Sprintf("FIC %03d", i), Library: "MAIN", Location: "FIC", ItemType: "BK", Kind: catalog.KindBook}
		it.Status = "" // available, however the importer spells it
		if it != want {
			t.Fatalf("item %d:\n got %+v\nwant %+v", i, it, want)
		}
	}
}

func TestFetchItemsFields(t *testing.T) {
	srv := kohatest.New(kohatest.Opts{})
	defer srv.Close()
	add := func(it kohatest.Item) { srv.AddItem(it) }
	add(kohatest.Item{Barcode: "w1", Withdrawn: 1, LostStatus: 1, Damaged: 1})
	add(kohatest.Item{Barcode: "m1", LostStatus: 4})
	add(kohatest.Item{Barcode: "l1", LostStatus: 1, Damaged: 1})
	add(kohatest.Item{Barcode: "c1", Damaged: 1, NotForLoan: 1})
	add(kohatest.Item{Barcode: "d1", Damaged: 2, NotForLoan: 1})
	add(kohatest.Item{Barcode: "n1", NotForLoan: -1})
	add(kohatest.Item{Barcode: "a1", ReplacementPrice: 24.5, CollectionCode: "REF",
		LastSeen: time.Date(2024, 5, 13, 23, 30, 0, 0, time.UTC)}) // 01:30 on the 14th in Koha's zone
	if err := srv.Checkout("c1", 9, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	items, err := fetch(context.Background(), fetchOpts(srv, 3), nil)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]catalog.Item{}
	for _, it := range items {
		by[it.Barcode] = it
	}
	for bc, want := range map[string]catalog.Status{"W1": catalog.StatusWithdrawn, "M1": catalog.StatusMissing,
		"L1": catalog.StatusLost, "C1": catalog.StatusCheckedOut, "D1": catalog.StatusDamaged, "N1": catalog.StatusNotForLoan} {
		if got := by[bc].Status; got != want {
			t.Errorf("%s: status %q, want %q", bc, got, want)
		}
	}
	if due := by["C1"].DueDate; !due.Equal(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("due date %v", due)
	}
	a := by["A1"]
	if a.Price != 2450 || a.Collection != "REF" || !a.LastSeen.Equal(time.Date(2024, 5, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("A1: price %d, collection %q, last seen %v; want 2450, REF, 2024-05-14 (the library's day)", a.Price, a.Collection, a.LastSeen)
	}
	if a.Status != catalog.StatusAvailable && a.Status != "" {
		t.Errorf("A1: status %q", a.Status)
	}
}

func TestFetchItemsDuplicateBarcode(t *testing.T) {
	srv := kohatest.New(kohatest.Opts{})
	defer srv.Close()
	srv.AddItem(kohatest.Item{Barcode: "x1"})
	dup := srv.AddItem(kohatest.Item{Barcode: "X1"})
	srv.AddItem(kohatest.Item{Barcode: "x2"})
	items, err := fetch(context.Background(), fetchOpts(srv, 20), nil)
	var ie catalog.RowErrors
	if !errors.As(err, &ie) || len(ie) != 1 {
		t.Fatalf("err %v, want catalog.RowErrors with one row", err)
	}
	if msg := ie[0].Error(); !strings.Contains(msg, fmt.Sprintf("item_id %d", dup.ItemID)) || !strings.Contains(msg, "already") {
		t.Errorf("row error %q does not name the duplicate item", msg)
	}
	if len(items) != 2 {
		t.Errorf("%d items, want the 2 good ones", len(items))
	}
}

func TestFetchItemsErrors(t *testing.T) {
	srv := kohatest.New(kohatest.Opts{})
	defer srv.Close()
	for i := range 30 {
		srv.AddItem(kohatest.Item{Barcode: fmt.Sprint(1000 + i)})
	}
	srv.Inject(kohatest.Fault{Kind: kohatest.Status, Status: 502, Path: "/items"})
	if _, err := fetch(context.Background(), fetchOpts(srv, 10), nil); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Errorf("502: err %v", err)
	}
	o := fetchOpts(srv, 10)
	o.Password = "wrong"
	_, err := fetch(context.Background(), o, nil)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Errorf("wrong password: err %v, want an AuthError", err)
	}
	srv.Inject(kohatest.Fault{Kind: kohatest.ErrorBody, Path: "/items"})
	if _, err := fetch(context.Background(), fetchOpts(srv, 10), nil); err == nil || !strings.Contains(err.Error(), "not a JSON array") {
		t.Errorf("error body: err %v", err)
	}
	o = fetchOpts(srv, 10)
	o.BaseURL = ""
	if _, err := fetch(context.Background(), o, nil); err == nil {
		t.Error("no base URL: no error")
	}
}

func TestLinkRel(t *testing.T) {
	h := http.Header{}
	h.Add("Link", `<http://k/api/v1/items?_page=1&_per_page=2>; rel="first", <http://k/api/v1/items?_page=3&_per_page=2>; rel="next",<http://k/api/v1/items?_page=9>; rel="last"`)
	if has, present := linkRel(h.Values("Link"), "next"); !has || !present {
		t.Errorf("next: %v %v", has, present)
	}
	if has, _ := linkRel(h.Values("Link"), "prev"); has {
		t.Error("prev found")
	}
	if _, present := linkRel(nil, "next"); present {
		t.Error("no header, present")
	}
}

func TestDecodeItems(t *testing.T) {
	items, err := decodeItems([]byte(`[{"item_id":1,"biblio_id":2,"external_id":123,"lost_status":"4","withdrawn":null,
		"damaged_status":1.0,"replacement_price":"12.50","last_seen_date":null,"biblio":{"title":"A /","subtitle":"B","author":null}}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	it := items[0]
	if it.barcode() != "123" || it.LostStatus != 4 || it.Withdrawn != 0 || it.DamagedStatus != 1 || it.ReplacementPrice.price() != "12.50" {
		t.Errorf("decoded %+v", it)
	}
	if row := it.row(); row[1] != "A: B" {
		t.Errorf("title %q, want %q", row[1], "A: B")
	}
	for _, tt := range []struct{ in, want string }{
		{`{"item_id":1}`, "not a JSON array"},
		{`[{"item_id":1}] [`, "data after the array"},
		{`[{"lost_status":"lost"}]`, `want an integer, got "lost"`},
		{`[{"lost_status":1.5}]`, "want an integer"},
		{`[{"external_id":{}}]`, "want a string"},
		{`null`, "not a JSON array"},
		{`{"error":"Under maintenance"}`, "an error: Under maintenance"},
		{`[{"item_id":1}`, "unexpected EOF"},
	} {
		if _, err := decodeItems([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("decodeItems(%s): %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}
