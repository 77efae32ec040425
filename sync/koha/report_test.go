package koha

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
)

// A saved report such as
//
//	SELECT barcode, title, author, itemcallnumber, homebranch, location, ccode,
//	       itype, itemlost, withdrawn, damaged, notforloan, onloan, datelastseen,
//	       replacementprice
//	FROM items JOIN biblio USING (biblionumber)
//
// run through svc/report with a header row.
const reportWithHeader = `[
 ["barcode","title","author","itemcallnumber","homebranch","location","ccode","itype","itemlost","withdrawn","damaged","notforloan","onloan","datelastseen","replacementprice"],
 ["31234000123456","Holes","Sachar, Louis","FIC SAC","MAIN","FIC","JUV","BK","0","0","0","0",null,"2024-03-01 10:11:12","17.99"],
 ["31234000123457","Wonder","Palacio, R. J.","FIC PAL","MAIN","FIC","JUV","BK",4,0,0,0,null,null,null],
 ["31234000123458","Dune","Herbert, Frank","SF HER","MAIN","SF",null,"BK",0,1,0,0,null,null,"9.5"],
 ["31234000123459","Hatchet","Paulsen, Gary","FIC PAU","MAIN","FIC","JUV","BK",0,0,0,0,"2024-06-01",null,null]
]`

func TestParseReportJSONHeader(t *testing.T) {
	items, err := reportItems(strings.NewReader(reportWithHeader))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Fatalf("%d items", len(items))
	}
	want := catalog.Item{Barcode: "31234000123456", Title: "Holes", Author: "Sachar, Louis", CallNumber: "FIC SAC",
		Library: "MAIN", Location: "FIC", Collection: "JUV", ItemType: "BK", LastSeen: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		Price: 1799, Kind: catalog.KindBook}
	got := items[0]
	got.Status = ""
	if got != want {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	for i, st := range []catalog.Status{catalog.StatusMissing, catalog.StatusWithdrawn, catalog.StatusCheckedOut} {
		if items[i+1].Status != st {
			t.Errorf("item %d: status %q, want %q", i+1, items[i+1].Status, st)
		}
	}
	if items[2].Price != 950 || !items[3].DueDate.Equal(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("price %d, due %v", items[2].Price, items[3].DueDate)
	}
}

func TestParseReportColumnsAndObjects(t *testing.T) {
	recs, bad, err := report(strings.NewReader(`[["a1","T1","1"],["a2","T2","0"],["A1","T3","0"]]`), []string{"barcode", "title", "itemlost"})
	if err != nil || len(bad) != 1 || bad[0].Line != 3 || !strings.Contains(bad[0].Msg, "already on line 1") {
		t.Fatal(err, bad)
	}
	if len(recs) != 2 || recs[0].Item.Barcode != "A1" || recs[0].Item.Status != catalog.StatusLost || recs[1].Line != 2 {
		t.Errorf("records %+v", recs)
	}
	// annotated=1: rows are objects named by column.
	items, err := reportItems(strings.NewReader(`[{"barcode":"b1","itemcallnumber":"599.9 ABC","onloan":"2024-06-01"},{"barcode":"b2"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].CallNumber != "599.9 ABC" || items[0].Status != catalog.StatusCheckedOut {
		t.Errorf("items %+v", items)
	}
}

func TestParseReportBadRows(t *testing.T) {
	in := `[["barcode","title","itemlost"],
	["c1","ok","0"],
	["c2","short"],
	["c3",["nested"],"0"],
	["c4","bad status","lost"],
	{"barcode":"c5"},
	["c1","duplicate","0"],
	["c6","multi
line","0"],
	["c7","fine",0]]`
	recs, bad, err := report(strings.NewReader(in), nil)
	if err == nil {
		// The JSON above has a raw newline in a string: invalid JSON, a whole-file error.
		t.Fatalf("no error for invalid JSON; %d records %v", len(recs), bad)
	}
	in = strings.Replace(in, "multi\nline", `multi\nline`, 1)
	recs, bad, err = report(strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Item.Barcode)
	}
	if strings.Join(got, " ") != "C1 C6 C7" {
		t.Errorf("good records %v, want C1 C6 C7", got)
	}
	wantLines := []int{3, 4, 5, 6, 7}
	if len(bad) != len(wantLines) {
		t.Fatalf("bad rows %v", bad)
	}
	for i, b := range bad {
		if b.Line != wantLines[i] {
			t.Errorf("bad row %d at line %d, want %d: %v", i, b.Line, wantLines[i], b)
		}
	}
	for i, want := range []string{"has 2 values, the header has 3", "nested array or object", "itemlost", "is an object", "already on line 2"} {
		if !strings.Contains(bad[i].Msg, want) {
			t.Errorf("bad row %d: %q, want %q", i, bad[i].Msg, want)
		}
	}
	if recs[1].Item.Title != "multi line" {
		t.Errorf("title %q", recs[1].Item.Title)
	}
	_, err = reportItems(strings.NewReader(in))
	var ie catalog.RowErrors
	if !errors.As(err, &ie) || len(ie) != 5 || !strings.HasPrefix(err.Error(), "5 record(s) not imported; report:3 (byte 49): row has 2 values") {
		t.Errorf("reportItems: %v", err)
	}
	// ParseReport alone: the rows that are not rows, the first named.
	tb, err := ParseReport(strings.NewReader(in), nil)
	var rows RowErrors
	if !errors.As(err, &rows) || len(rows) != 3 || len(tb.Rows) != 5 ||
		!strings.HasPrefix(err.Error(), "3 report rows were not read, the first: report:3 (byte 49): row has 2 values") {
		t.Errorf("ParseReport: %d rows, %v", len(tb.Rows), err)
	}
}

func TestParseReportWholeFileErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{``, "empty"},
		{`{"error":"report not public"}`, "an object usually means Koha answered with an error"},
		{`[["barcode"],["a"]`, "not closed"},
		{`[["barcode"],["a"]] x`, "data after the array"},
		{`[]`, "no rows"},
		{`[[]]`, "header row is empty"},
		{`[["title"],["x"]]`, "no barcode column"},
		{`"x"`, "want a JSON array"},
	} {
		_, _, err := report(strings.NewReader(tt.in), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("report(%q): %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}
