package export_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/sync/export"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var items = map[string]sinks.Item{
	"31000001": {Title: "Holes", Author: "Sachar, Louis", CallNumber: "FIC SAC", Library: "MAIN", Location: "FIC", Collection: "JUV", Status: "available"},
	"31000002": {Title: `The "Wild" Robot, book one`, Author: "Brown, Peter", CallNumber: "FIC BRO", Library: "MAIN", Location: "FIC", Collection: "JUV", Status: "available"},
	"31000003": {Title: "Hatchet", Author: "Paulsen, Gary", CallNumber: "FIC PAU", Library: "MAIN", Location: "FIC", Collection: "JUV", Status: "lost"},
	"31000004": {Title: "Wonder", Author: "Palacio, R. J.", CallNumber: "FIC PAL", Library: "MAIN", Location: "FIC", Collection: "JUV", Status: "checked_out"},
	"31000007": {Title: "Old atlas", CallNumber: "912 OLD", Library: "MAIN", Location: "REF", Status: "withdrawn"},
	"CB-0012":  {Title: "Chromebook 12", Library: "MAIN", Location: "CARTS", Status: "available"},
	"CB-0031":  {Title: "Chromebook 31", Library: "MAIN", Location: "CARTS", Status: "available"},
}

func lookup(bc string) (sinks.Item, bool) { it, ok := items[bc]; return it, ok }

func ev(id int64, inv int64, kind, bc string, payload map[string]any) outbox.Event {
	name := "Spring 2027 — Fiction"
	if inv == 2 {
		name = "Carts / May"
	}
	p := map[string]any{"inventory_id": inv, "inventory": name, "barcode": bc, "date": "2027-03-01"}
	for k, v := range payload {
		p[k] = v
	}
	b, _ := json.Marshal(p)
	var d outbox.Data
	if err := json.Unmarshal(b, &d); err != nil {
		panic(err)
	}
	return outbox.Event{ID: id, Key: "inv" + string(rune('0'+inv)) + "/" + bc + "/" + kind, Kind: outbox.Kind(kind), InventoryID: inv, Barcode: bc, Data: d}
}

// events is a shelf inventory and a cart check, in outbox order.
func events() []outbox.Event {
	return []outbox.Event{
		ev(1, 1, "seen", "31000001", nil),
		ev(2, 1, "seen", "31000002", nil),
		ev(3, 1, "misplaced", "31000002", map[string]any{"home": "MAIN / FIC", "library": "MAIN", "location": "FIC"}),
		ev(4, 2, "seen", "CB-0012", nil),
		ev(5, 1, "seen", "31000003", nil),
		ev(6, 1, "found", "31000003", map[string]any{"was": "lost", "clear_lost": false}),
		ev(7, 1, "seen", "31000004", nil),
		ev(8, 1, "checked_out_on_shelf", "31000004", map[string]any{"check_in": false, "due_date": "2027-03-10"}),
		ev(9, 1, "unknown", "39999999", map[string]any{"code": "39999999"}),
		ev(10, 2, "seen", "CB-0031", nil),
		ev(11, 2, "cart_foreign", "CB-0031", map[string]any{"cart": "CART-A", "home_cart": "CART-B"}),
		ev(12, 1, "missing", "31000005", map[string]any{"title": "Gone, Baby, Gone", "call_number": "FIC LEH", "lost_value": 4, "price_cents": 1599}),
		ev(13, 1, "missing", "31000007", map[string]any{"title": "Old atlas", "call_number": "912 OLD", "lost_value": 4}),
		ev(14, 2, "cart_missing", "CB-0044", map[string]any{"container": "CART-A", "title": "Chromebook 44", "lost_value": 0}),
	}
}

func deliver(t *testing.T, s *export.Sink, evs []outbox.Event) {
	t.Helper()
	for i, o := range s.Deliver(context.Background(), evs) {
		if o.Verdict != relay.Accept {
			t.Fatalf("event %s: verdict %d: %v", evs[i].Key, o.Verdict, o.Err)
		}
	}
}

// snapshot reads every visible file under dir, keyed by relative path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		b, _ := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	s, err := export.New(dir, export.Opts{Lookup: lookup})
	if err != nil {
		t.Fatal(err)
	}
	evs := events()
	deliver(t, s, evs[:6]) // two batches, as the relay would send them
	deliver(t, s, evs[6:])
	got := snapshot(t, dir)
	golden := filepath.Join("testdata", "golden")
	if *update {
		os.RemoveAll(golden)
		for name, data := range got {
			p := filepath.Join(golden, filepath.FromSlash(name))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := snapshot(t, golden)
	if len(want) == 0 {
		t.Fatal("no golden files: run go test -run TestGolden -update")
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s:\n--- got\n%s--- want\n%s", name, got[name], w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected file %s", name)
		}
	}
	if d := s.Dir(1); filepath.Base(d) != "inventory-1-spring-2027-fiction" {
		t.Errorf("Dir(1) = %s", d)
	}
}

// TestResend: events delivered again — in the same sink, or in a new one
// after a restart — add no line.
func TestResend(t *testing.T) {
	dir := t.TempDir()
	s, _ := export.New(dir, export.Opts{Lookup: lookup})
	evs := events()
	deliver(t, s, evs)
	first := snapshot(t, dir)
	deliver(t, s, evs[2:9])
	deliver(t, s, append(evs[:3], evs[:3]...)) // duplicates within a batch too
	if got := snapshot(t, dir); !same(got, first) {
		t.Errorf("resend changed the files:\n%v\nwant\n%v", got, first)
	}
	s2, _ := export.New(dir, export.Opts{Lookup: lookup}) // restart
	deliver(t, s2, evs)
	if got := snapshot(t, dir); !same(got, first) {
		t.Errorf("resend after restart changed the files")
	}
	// Something new after the restart is appended in order.
	deliver(t, s2, []outbox.Event{ev(15, 1, "seen", "31000099", nil)})
	seen := snapshot(t, dir)["inventory-1-spring-2027-fiction/seen-barcodes.txt"]
	if !strings.HasSuffix(seen, "31000004\n31000099\n") || strings.Count(seen, "\n") != 5 {
		t.Errorf("seen file after restart:\n%s", seen)
	}
}

// TestRepair: a crash after the journal was appended but before the files
// were rewritten — and one that tore the journal's last line — is repaired
// by the resend that follows.
func TestRepair(t *testing.T) {
	dir := t.TempDir()
	s, _ := export.New(dir, export.Opts{Lookup: lookup})
	evs := events()
	deliver(t, s, evs)
	want := snapshot(t, dir)
	// The files lag the journal, and the journal ends in half a line.
	folder := filepath.Join(dir, "inventory-1-spring-2027-fiction")
	os.WriteFile(filepath.Join(folder, export.SeenFile), []byte("31000001\n"), 0o644)
	j := filepath.Join(dir, ".tally-export", "inventory-1.jsonl")
	data, _ := os.ReadFile(j)
	lines := strings.SplitAfter(string(data), "\n")
	torn := strings.Join(lines[:len(lines)-2], "") + lines[len(lines)-2][:10] // last record cut
	os.WriteFile(j, []byte(torn), 0o644)

	s2, _ := export.New(dir, export.Opts{Lookup: lookup})
	deliver(t, s2, evs) // the relay resends what it had not marked
	if got := snapshot(t, dir); !same(got, want) {
		t.Errorf("not repaired:\n%v\nwant\n%v", got, want)
	}
	data, _ = os.ReadFile(j)
	if n := strings.Count(string(data), "\n"); n != len(lines)-1 {
		t.Errorf("journal has %d lines, want %d", n, len(lines)-1)
	}
}

func TestNoTempFilesLeft(t *testing.T) {
	dir := t.TempDir()
	s, _ := export.New(dir, export.Opts{})
	deliver(t, s, events())
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if strings.Contains(d.Name(), ".tmp") {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
	// Without a lookup the CSV still lists every barcode, with what the
	// events carried.
	csv := snapshot(t, dir)["inventory-1-spring-2027-fiction/koha-inventory.csv"]
	if !strings.Contains(csv, `"Gone, Baby, Gone",,31000005,,,,,FIC LEH,,4,,,,missing`) {
		t.Errorf("csv without lookup:\n%s", csv)
	}
}

// TestWriteFailure: a folder that cannot be written retries the events and
// says where.
func TestWriteFailure(t *testing.T) {
	dir := t.TempDir()
	s, _ := export.New(dir, export.Opts{})
	// A file where the inventory's folder should go.
	os.WriteFile(filepath.Join(dir, "inventory-1-spring-2027-fiction"), nil, 0o644)
	out := s.Deliver(context.Background(), events())
	for i, o := range out {
		inv1 := events()[i].InventoryID == 1
		if inv1 && (o.Verdict != relay.Retry || !strings.Contains(o.Err.Error(), "inventory-1-spring-2027-fiction")) {
			t.Errorf("event %d: %+v, want a retry naming the folder", i, o)
		}
		if !inv1 && o.Verdict != relay.Accept {
			t.Errorf("event %d of the other inventory: %+v", i, o)
		}
	}
	os.Remove(filepath.Join(dir, "inventory-1-spring-2027-fiction"))
	deliver(t, s, events())
	if n := strings.Count(snapshot(t, dir)["inventory-1-spring-2027-fiction/seen-barcodes.txt"], "\n"); n != 4 {
		t.Errorf("after the folder was fixed: %d seen lines, want 4", n)
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := export.New("", export.Opts{}); err == nil || !strings.Contains(err.Error(), "sync.export.dir") {
		t.Errorf("New(\"\"): %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := export.New(f, export.Opts{}); err == nil {
		t.Error("New over a file: want an error")
	}
}

func same(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
