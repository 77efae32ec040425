package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers/feedback"
)

// A pull-listed item read on the walk plays the pull pattern — over the
// out-of-order and wrong-place alarms, since the operator takes it off the
// shelf anyway — and its journal row keeps the flag and the reason.
func TestPullReadSignalAndJournal(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, []catalog.Item{
		{Barcode: "A1", CallNumber: "FIC ADA", Library: "MAIN", Location: "Fiction"},
		{Barcode: "A2", CallNumber: "FIC BAK", Library: "MAIN", Location: "Fiction"},
		{Barcode: "A3", CallNumber: "FIC CAR", Library: "MAIN", Location: "Fiction"},
		{Barcode: "N1", CallNumber: "599 WOL", Library: "MAIN", Location: "Nonfiction"},
	})
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "ana", "")
	// Attached after the engine loaded the inventory: it counts at once.
	if err := e.DB.SetPullList(ctx, inv.ID, []store.PullItem{{Barcode: "A1", Reason: "hold for Ana"}, {Barcode: "N1", Reason: ""}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ code, signal, pull string }{
		{"A3", feedback.OK, ""},
		{"A1", feedback.Pull, "pull: hold for Ana"},     // also out of order after A3
		{"A2", feedback.OutOfOrder, ""},                 // proves A3 moved
		{"N1", feedback.Pull, "pull: on the pull list"}, // also wrong location
	} {
		r := scan(t, e, s.ID, c.code)
		if r.Signal() != c.signal || r.Detail.Pull != c.pull || r.Flags.Has(reconcile.FlagPull) != (c.pull != "") {
			t.Errorf("%s: signal %s, %s %v %q; want %s %q", c.code, r.Signal(), r.Outcome, r.Flags, r.Detail.Pull, c.signal, c.pull)
		}
	}
	var journaled []string
	e.DB.Reads(ctx, inv.ID, s.ID, func(r *store.ReadRow) error {
		if reconcile.ParseFlags(r.Flags).Has(reconcile.FlagPull) && strings.Contains(r.Detail, `"pull":"pull: `) {
			journaled = append(journaled, r.Barcode)
		}
		return nil
	})
	if strings.Join(journaled, " ") != "A1 N1" {
		t.Errorf("journaled pulls %v, want A1 N1", journaled)
	}
}

// The writer keeps the pull lists and holds in memory, but a holds list
// stored while the agent reads (a Koha fetch, an import) pulls from the
// next read on, and one cleared stops pulling.
func TestPullHoldsChangedWhileReading(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, []catalog.Item{
		{Barcode: "A1", CallNumber: "FIC ADA", Location: "Fiction"},
		{Barcode: "A2", CallNumber: "FIC BAK", Location: "Fiction"},
		{Barcode: "A3", CallNumber: "FIC CAR", Location: "Fiction"},
	})
	inv, _ := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{}, reconcile.Policy{})
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	if r := scan(t, e, s.ID, "A1"); r.Flags.Has(reconcile.FlagPull) {
		t.Fatalf("A1 pulled with no list: %v", r.Flags)
	}
	if err := e.DB.SetHolds(ctx, []catalog.Hold{{Barcode: "A2", Pickup: "MPL", Source: "koha"}}); err != nil {
		t.Fatal(err)
	}
	if r := scan(t, e, s.ID, "A2"); r.Detail.Pull != "pull: hold for pickup at MPL" {
		t.Errorf("A2 after its hold was fetched: %v %q", r.Flags, r.Detail.Pull)
	}
	if err := e.DB.SetHolds(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if r := scan(t, e, s.ID, "A3"); r.Flags.Has(reconcile.FlagPull) {
		t.Errorf("A3 pulled after the holds were cleared: %v %q", r.Flags, r.Detail.Pull)
	}
}

func TestParsePullCSV(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{in: "barcode,reason\r\n 0042 ,hold  for Ana\r\n\r\nB7,\r\n", want: "0042=hold for Ana@2 B7=@4"},
		{in: "title,Barcode,Reason,extra\nHoles,B1,weeding review,x\n", want: "B1=weeding review@2"},
		{in: "barcode\nB1\nB2\n", want: "B1=@2 B2=@3"},
		{in: "", err: "l.csv: file is empty"},
		{in: "barcode,reason\n", err: "l.csv: no items"},
		{in: "reason\nx\n", err: "l.csv:1: no barcode column"},
		{in: "reason,barcode\nx\n", err: "l.csv:2: no barcode: the line has 1 fields"},
		{in: "barcode,reason\nB1,a\nB1,b\n", err: "l.csv:3: barcode B1 is already listed on line 2"},
		{in: "barcode,reason\nB\x01,a\n", err: "l.csv:2: barcode"},
		{in: "barcode,reason\nB1,\"x\n", err: "l.csv:2: "},
	} {
		items, err := ParsePullCSV("l.csv", strings.NewReader(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		var got []string
		for _, it := range items {
			got = append(got, it.Barcode+"="+it.Reason+"@"+strconv.Itoa(it.Line))
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%q: %s, want %s", c.in, g, c.want)
		}
	}
}

// FuzzParsePullCSV: garbage gets an error naming the file, never a panic;
// a list accepted is non-empty, with barcodes that are clean and unique.
func FuzzParsePullCSV(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "pull", "*.csv"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := ParsePullCSV("f.csv", strings.NewReader(string(b)))
		if err != nil {
			if !strings.Contains(err.Error(), "f.csv") && !strings.Contains(err.Error(), "bad line") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(items) == 0 {
			t.Fatal("accepted an empty list")
		}
		seen := map[string]bool{}
		for _, it := range items {
			if it.Barcode == "" || seen[it.Barcode] || it.Line < 2 {
				t.Fatalf("bad item %+v", it)
			}
			seen[it.Barcode] = true
		}
	})
}

// Holds to pull are an automatic pull list on every inventory: a copy on
// the holds list says where and since when it is wanted, a copy only the
// catalog flags says it is held, and neither names the patron (a holds
// list has none to name). The report lists the hold not yet found, by its
// list's name.
func TestHoldsPullAutomatically(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, []catalog.Item{
		{Barcode: "H1", CallNumber: "FIC ADA", Location: "Fiction"},
		{Barcode: "H2", CallNumber: "FIC BAK", Location: "Fiction", HoldWaiting: true},
		{Barcode: "H3", CallNumber: "FIC CAR", Location: "Fiction"},
		{Barcode: "H4", CallNumber: "FIC DOE", Location: "Fiction"},
	})
	inv, err := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "ana", "")
	// Fetched while the engine runs: it counts from the next read.
	if err := e.DB.SetHolds(ctx, []catalog.Hold{{Barcode: "H1", Pickup: "MPL", Placed: "2026-11-30", Source: "koha"},
		{Barcode: "H4", Pickup: "FPL", Source: "koha"}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ code, signal, pull string }{
		{"H1", feedback.Pull, "pull: hold for pickup at MPL, placed 2026-11-30"},
		{"H2", feedback.Pull, "pull: hold for pickup"},
		{"H3", feedback.OK, ""},
	} {
		r := scan(t, e, s.ID, c.code)
		if r.Signal() != c.signal || r.Detail.Pull != c.pull {
			t.Errorf("%s: signal %s, %q; want %s %q", c.code, r.Signal(), r.Detail.Pull, c.signal, c.pull)
		}
	}
	tabs, err := e.Reports(ctx, inv.ID, "pulled", "pull_not_found")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tb := range tabs {
		for _, row := range tb.Rows {
			got = append(got, tb.Name+":"+row[0]+":"+row[len(row)-1])
		}
	}
	if g := strings.Join(got, " "); g != "pulled:H1:session 1, ana pulled:H2:session 1, ana pull_not_found:H4:koha" {
		t.Errorf("reports: %s", g)
	}
}
