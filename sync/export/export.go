// Package export is the sink that writes files a person can carry to a
// library system with no API: per inventory, a Koha inventory CSV and plain
// barcode lists (for Destiny's "upload the barcode numbers", or Koha's own
// inventory tool). `tally demo` syncs here by default.
//
// Layout under the configured folder:
//
//	inventory-3-spring-2027-fiction/
//	    koha-inventory.csv     one row per item: Koha's inventory CSV columns
//	    seen-barcodes.txt      barcodes seen, one a line, in scanning order
//	    missing-barcodes.txt   barcodes found missing at finalize
//	.tally-export/inventory-3.jsonl   what was delivered (the key index)
//
// Every delivered event is appended to the inventory's journal (fsync'd),
// and the visible files are then rewritten from the journal, each atomically
// (temporary file, fsync, rename, fsync of the folder): a reader never sees
// half a file, and a resent event — same idempotency key — adds no line.
package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
)

// File names inside an inventory's folder.
const (
	KohaCSV     = "koha-inventory.csv"
	SeenFile    = "seen-barcodes.txt"
	MissingFile = "missing-barcodes.txt"
	journalDir  = ".tally-export"
)

// KohaColumns are the columns of Koha's inventory CSV export
// (tools/inventory.pl).
var KohaColumns = []string{"title", "author", "barcode", "itemnumber", "homebranch", "location", "ccode",
	"itemcallnumber", "notforloan", "itemlost", "damaged", "withdrawn", "stocknumber", "problem"}

// Opts configure a Sink.
type Opts struct {
	Name string // sink name; default "export"
	// Lookup fills the CSV's catalog columns (title, author, branch…) at
	// delivery; the agent passes its index. Without it only what the event
	// carries is written.
	Lookup func(barcode string) (sinks.Item, bool)
}

// The catalog statuses Koha's inventory CSV has a column for.
const (
	statusLost       = "lost"
	statusMissing    = "missing"
	statusDamaged    = "damaged"
	statusWithdrawn  = "withdrawn"
	statusNotForLoan = "not_for_loan"
)

// Sink writes files into a folder.
type Sink struct {
	dir  string
	opts Opts

	mu   sync.Mutex
	invs map[int64]*inventory
}

var _ relay.Sink = (*Sink)(nil)

// New makes a sink writing into dir, creating it if needed.
func New(dir string, opts Opts) (*Sink, error) {
	if dir == "" {
		return nil, errors.New("export: name the folder to write into (sync.export.dir)")
	}
	if opts.Name == "" {
		opts.Name = "export"
	}
	if err := os.MkdirAll(filepath.Join(dir, journalDir), 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return &Sink{dir: dir, opts: opts, invs: map[int64]*inventory{}}, nil
}

// Name implements relay.Sink.
func (s *Sink) Name() string { return s.opts.Name }

// Dir returns the folder of an inventory's files, "" if none was written yet.
func (s *Sink) Dir(invID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, err := s.load(invID)
	if err != nil || inv.folder == "" {
		return ""
	}
	return filepath.Join(s.dir, inv.folder)
}

// record is one delivered event as the journal keeps it, with the catalog
// fields resolved at delivery so rewriting never needs the catalog.
type record struct {
	ID         int64  `json:"id"`
	Key        string `json:"key"`
	Kind       string `json:"kind"` // an outbox.Kind, as text so any journal loads
	Barcode    string `json:"barcode"`
	Inventory  string `json:"inventory,omitempty"`
	Title      string `json:"title,omitempty"`
	Author     string `json:"author,omitempty"`
	Library    string `json:"library,omitempty"`
	Location   string `json:"location,omitempty"`
	Collection string `json:"collection,omitempty"`
	CallNumber string `json:"call_number,omitempty"`
	Status     string `json:"status,omitempty"`
	LostValue  int    `json:"lost_value,omitempty"`
	HomeCart   string `json:"home_cart,omitempty"`
}

type inventory struct {
	id     int64
	folder string // inventory-ID-slug, fixed by the first record
	keys   map[string]bool
	recs   []record
}

// Deliver implements relay.Sink: events are grouped by inventory; each
// inventory's journal is appended and its files rewritten. A failure to
// write (disk full, folder gone) retries that inventory's events.
func (s *Sink) Deliver(ctx context.Context, events []outbox.Event) []relay.Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]relay.Outcome, len(events))
	var order []int64
	groups := map[int64][]int{}
	for i, ev := range events {
		if _, ok := groups[ev.InventoryID]; !ok {
			order = append(order, ev.InventoryID)
		}
		groups[ev.InventoryID] = append(groups[ev.InventoryID], i)
	}
	for _, id := range order {
		idx := groups[id]
		err := ctx.Err()
		if err == nil {
			err = s.deliver(id, events, idx)
		}
		for _, i := range idx {
			if err != nil {
				out[i] = relay.Outcome{Verdict: relay.Retry, Err: err}
			} else {
				out[i] = relay.Outcome{Verdict: relay.Accept}
			}
		}
	}
	return out
}

func (s *Sink) deliver(id int64, events []outbox.Event, idx []int) error {
	inv, err := s.load(id)
	if err != nil {
		return err
	}
	var add []record
	for _, i := range idx {
		ev := events[i]
		if inv.keys[ev.Key] {
			continue // resent: already in the files
		}
		inv.keys[ev.Key] = true
		add = append(add, s.record(ev))
	}
	if len(add) > 0 {
		if err := s.appendJournal(id, add); err != nil {
			for _, r := range add {
				delete(inv.keys, r.Key)
			}
			return err
		}
		inv.recs = append(inv.recs, add...)
	}
	if inv.folder == "" && len(inv.recs) > 0 {
		inv.folder = folderName(id, inv.recs[0].Inventory)
	}
	// Rewritten even when nothing was added: a crash between the journal
	// and the files is repaired by the resend that follows it.
	return s.write(inv)
}

func (s *Sink) record(ev outbox.Event) record {
	p := ev.Data
	r := record{ID: ev.ID, Key: ev.Key, Kind: string(ev.Kind), Barcode: ev.Barcode, Inventory: p.Inventory,
		Title: p.Title, CallNumber: p.CallNumber, Library: p.Library, Location: p.Location,
		LostValue: outbox.Int(p.LostValue), HomeCart: p.HomeCart}
	if r.Barcode == "" {
		r.Barcode = p.Code
	}
	if s.opts.Lookup != nil && ev.Kind != outbox.Unknown {
		if it, ok := s.opts.Lookup(r.Barcode); ok {
			r.Title, r.Author, r.CallNumber = it.Title, it.Author, it.CallNumber
			r.Library, r.Location, r.Collection = it.Library, it.Location, it.Collection
			r.Status = it.Status
		}
	}
	return r
}

func (s *Sink) journalPath(id int64) string {
	return filepath.Join(s.dir, journalDir, fmt.Sprintf("inventory-%d.jsonl", id))
}

// load reads an inventory's journal once. A torn last line (a crash while
// appending) is cut off: its events were never confirmed and come again.
func (s *Sink) load(id int64) (*inventory, error) {
	if inv, ok := s.invs[id]; ok {
		return inv, nil
	}
	inv := &inventory{id: id, keys: map[string]bool{}}
	path := s.journalPath(id)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("export: read %s: %w", path, err)
	}
	good := 0
	for off := 0; off < len(data); {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			break // torn
		}
		var r record
		if err := json.Unmarshal(data[off:off+nl], &r); err != nil {
			return nil, fmt.Errorf("export: %s: byte %d: %v: move the file aside to start this inventory's files afresh", path, off, err)
		}
		if !inv.keys[r.Key] {
			inv.keys[r.Key] = true
			inv.recs = append(inv.recs, r)
		}
		off += nl + 1
		good = off
	}
	if good < len(data) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, fmt.Errorf("export: repair %s: %w", path, err)
		}
	}
	if len(inv.recs) > 0 {
		inv.folder = folderName(id, inv.recs[0].Inventory)
	}
	s.invs[id] = inv
	return inv, nil
}

func (s *Sink) appendJournal(id int64, recs []record) error {
	var buf bytes.Buffer
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	path := s.journalPath(id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	_, err = f.Write(buf.Bytes())
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("export: append to %s: %w", path, err)
	}
	return nil
}

// write rewrites an inventory's files from its records.
func (s *Sink) write(inv *inventory) error {
	if inv.folder == "" {
		return nil
	}
	dir := filepath.Join(s.dir, inv.folder)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	var seen, missing bytes.Buffer
	for _, r := range inv.recs {
		switch outbox.Kind(r.Kind) {
		case outbox.Seen:
			seen.WriteString(r.Barcode + "\n")
		case outbox.Missing, outbox.CartMissing:
			missing.WriteString(r.Barcode + "\n")
		}
	}
	files := []struct {
		name string
		data []byte
	}{{KohaCSV, kohaCSV(inv.recs)}, {SeenFile, seen.Bytes()}, {MissingFile, missing.Bytes()}}
	for _, f := range files {
		if f.name != KohaCSV && len(f.data) == 0 {
			continue // no list yet: no file, rather than an empty one that looks final
		}
		if err := WriteAtomic(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}

// problems in Koha's inventory vocabulary where it has a word for it.
var problems = map[outbox.Kind]string{
	outbox.Misplaced:         "wrong place",
	outbox.CheckedOutOnShelf: "checked out",
	outbox.Missing:           "missing",
	outbox.CartMissing:       "missing",
	outbox.Unknown:           "barcode not found",
	outbox.Found:             "found",
	outbox.CartForeign:       "wrong place",
}

// kohaCSV is one row per barcode, in the order first delivered, with its
// problems joined.
func kohaCSV(recs []record) []byte {
	type row struct {
		r        record
		problems []string
	}
	var rows []*row
	by := map[string]*row{}
	for _, r := range recs {
		x, ok := by[r.Barcode]
		if !ok {
			x = &row{r: r}
			by[r.Barcode] = x
			rows = append(rows, x)
		}
		// Catalog fields from whichever event carried them.
		fill(&x.r, r)
		if p := problems[outbox.Kind(r.Kind)]; p != "" {
			if outbox.Kind(r.Kind) == outbox.CartForeign && r.HomeCart != "" {
				p += " (belongs in " + r.HomeCart + ")"
			}
			if !contains(x.problems, p) {
				x.problems = append(x.problems, p)
			}
		}
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(KohaColumns)
	for _, x := range rows {
		r := x.r
		flag := func(st string) string {
			if r.Status == "" {
				return ""
			}
			if r.Status == st {
				return "1"
			}
			return "0"
		}
		lost := ""
		switch {
		case contains(x.problems, "missing") && r.LostValue > 0:
			lost = strconv.Itoa(r.LostValue)
		case r.Status == statusLost || r.Status == statusMissing:
			lost = "1"
		case r.Status != "":
			lost = "0"
		}
		w.Write([]string{r.Title, r.Author, r.Barcode, "", r.Library, r.Location, r.Collection, r.CallNumber,
			flag(statusNotForLoan), lost, flag(statusDamaged), flag(statusWithdrawn), "",
			strings.Join(x.problems, ", ")})
	}
	w.Flush()
	return buf.Bytes()
}

func fill(dst *record, src record) {
	set := func(d *string, s string) {
		if *d == "" {
			*d = s
		}
	}
	set(&dst.Title, src.Title)
	set(&dst.Author, src.Author)
	set(&dst.Library, src.Library)
	set(&dst.Location, src.Location)
	set(&dst.Collection, src.Collection)
	set(&dst.CallNumber, src.CallNumber)
	set(&dst.Status, src.Status)
	if dst.LostValue == 0 {
		dst.LostValue = src.LostValue
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// folderName is inventory-ID-slug: the id keeps it unique, the slug lets a
// person find it.
func folderName(id int64, name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if b.Len() > 0 && !dash {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 40 {
			break
		}
	}
	slug := strings.Trim(b.String(), "-")
	if slug == "" {
		return fmt.Sprintf("inventory-%d", id)
	}
	return fmt.Sprintf("inventory-%d-%s", id, slug)
}

// WriteAtomic replaces path with data: a temporary file in the same folder,
// fsync, rename over path, fsync of the folder. A reader sees the old file
// or the new one, and after a power cut the new one is there or the old.
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
