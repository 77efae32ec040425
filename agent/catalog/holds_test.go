package catalog

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Koha's holds queue as a report on tmp_holdsqueue gives it (header in
// kohastructure.sql's column order, see testdata/real/SOURCES.md): the
// barcode, pickup library and hold date are read, a row the queue has not
// matched to a copy is skipped and counted, an item held twice keeps its
// earliest hold, and nothing of the patron is kept.
func TestReadHoldsKohaQueue(t *testing.T) {
	b := mustRead(t, "testdata/holds/koha_holdsqueue.csv")
	holds, skipped, err := ReadHolds("q.csv", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range holds {
		got = append(got, fmt.Sprintf("%s@%d %s", h.Barcode, h.Line, h.Reason()))
	}
	want := "39999000001310@5 hold for pickup at FPL, placed 2026-11-02 | 39999000004421@3 hold for pickup at CPL, placed 2026-12-01"
	if g := strings.Join(got, " | "); g != want || skipped != 1 {
		t.Errorf("got %s, %d skipped\nwant %s, 1 skipped", g, skipped, want)
	}
	for _, h := range holds {
		s := fmt.Sprintf("%+v", h)
		for _, who := range []string{"Doe", "Jane", "Loe", "Lena", "555-", "2352900005"} {
			if strings.Contains(s, who) {
				t.Errorf("hold %s keeps the patron (%q)", s, who)
			}
		}
	}
}

func TestReadHolds(t *testing.T) {
	for _, c := range []struct{ file, in, want, err string }{
		{file: "testdata/holds/tally_tab.csv", want: "T1 hold for pickup at MAIN, placed 2026-12-01 | T2 hold for pickup"},
		{file: "testdata/holds/bad_date.csv", err: `h.csv:2: the hold date "yesterday" is not a date`},
		{in: "", err: "h.csv: file is empty"},
		{in: "surname,pickbranch\nDoe,MPL\n", err: "h.csv:1: no barcode column"},
		{in: "barcode,pickup,pickbranch\nB1,A,B\n", err: "both give the pickup"},
		{in: "barcode\nB\x01\n", err: "h.csv:2: the barcode or pickup library has control characters"},
		{in: "barcode\n\"B1\n", err: "h.csv:2: "},
		{in: "barcode,pickup\n b1 ,MPL\n\nB2,\n", want: "B1 hold for pickup at MPL | B2 hold for pickup"},
	} {
		in := c.in
		if c.file != "" {
			in = string(mustRead(t, c.file))
		}
		holds, _, err := ReadHolds("h.csv", strings.NewReader(in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		var got []string
		for _, h := range holds {
			got = append(got, h.Barcode+" "+h.Reason())
		}
		if g := strings.Join(got, " | "); g != c.want {
			t.Errorf("%q: %s, want %s", in, g, c.want)
		}
	}
}

// FuzzReadHolds: garbage gets an error naming the file, never a panic; a
// list accepted has clean, unique barcodes with a line each.
func FuzzReadHolds(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "holds", "*.csv"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		holds, _, err := ReadHolds("f.csv", strings.NewReader(string(b)))
		if err != nil {
			if !strings.Contains(err.Error(), "f.csv") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, h := range holds {
			if h.Barcode == "" || seen[h.Barcode] || h.Line < 2 || h.Barcode != NormalizeID(h.Barcode) {
				t.Fatalf("bad hold %+v", h)
			}
			seen[h.Barcode] = true
		}
	})
}

// MergeHolds keeps one hold per barcode, the one placed first, in the
// order the barcodes first appear.
func TestMergeHolds(t *testing.T) {
	got := MergeHolds([]Hold{
		{Barcode: "31", Pickup: "A", Placed: "2026-11-30"},
		{Barcode: "32", Pickup: "B"},
		{Barcode: "31", Pickup: "C", Placed: "2026-11-02"},
		{Barcode: "32", Pickup: "D", Placed: "2026-12-01"},
		{Barcode: "31", Pickup: "E"},
	})
	want := []Hold{{Barcode: "31", Pickup: "C", Placed: "2026-11-02"}, {Barcode: "32", Pickup: "D", Placed: "2026-12-01"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeHolds = %+v\nwant %+v", got, want)
	}
}
