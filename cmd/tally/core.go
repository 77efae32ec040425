package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/report"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/sync/koha"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/sinks"
	"github.com/tally-inventory/tally/sync/snipeit"
)

func init() {
	register("import", "load the catalog: tally CSV (Koha columns too), Snipe-IT assets, MARC 21", cmdImport)
	register("inventory", "create, list, show, finalize inventories; attach pull lists", sub("inventory", map[string]func(context.Context, []string) error{
		"create": cmdInventoryCreate, "list": cmdInventoryList, "show": cmdInventoryShow, "finalize": cmdInventoryFinalize, "pull": cmdInventoryPull,
		"weed": cmdInventoryWeed,
	}, "An inventory is a campaign such as \"Spring 2027 — Fiction\": a scope and policies, many sessions, finalized once."))
	register("session", "start, pause, resume and end scanning sessions", sub("session", map[string]func(context.Context, []string) error{
		"start": cmdSessionStart, "pause": sessionState(store.SessionPaused), "resume": sessionState(store.SessionOpen), "end": cmdSessionEnd,
	}, "A session is one stretch of scanning — an operator, a device, a day — within an inventory."))
	register("scan", "read barcodes from stdin into a session, one per line", cmdScan)
	register("report", "missing, misplaced, out-of-order, found… as CSV, JSON or printable HTML", cmdReport)
	register("callnumber", "sort call numbers in shelf order (stdin → stdout)", sub("callnumber", map[string]func(context.Context, []string) error{
		"sort": cmdCallnumberSort,
	}, "Call-number tools. `tally callnumber sort` reads one call number per line and writes them in shelf order (Dewey with school prefixes, LC, others in natural order)."))
	register("version", "print the version", func(ctx context.Context, args []string) error {
		fmt.Fprintf(stdout, "tally %s %s\n", version, revision)
		return nil
	})
}

// openDB opens the database to record in it: this process becomes its one
// writer, and is refused (naming the agent or command that writes it) while
// another process does.
func openDB(ctx context.Context, path string) (*store.DB, error) {
	return store.OpenWith(ctx, path, store.Opts{Mode: store.Write})
}

// openReadOnly opens the database to read it: beside a running agent, and on
// a file this user may not write.
func openReadOnly(ctx context.Context, path string) (*store.DB, error) {
	return store.OpenWith(ctx, path, store.Opts{Mode: store.ReadOnly})
}

// openCatalog opens the database for an import: it may run beside the
// agent, which reloads the items that changed.
func openCatalog(ctx context.Context, path string) (*store.DB, error) {
	return store.OpenWith(ctx, path, store.Opts{Mode: store.Catalog})
}

func openEngine(ctx context.Context, path string) (*engine.Engine, func(), error) {
	return engineOn(ctx, path, openDB)
}

// openEngineReadOnly is an engine for reports: it decides nothing.
func openEngineReadOnly(ctx context.Context, path string) (*engine.Engine, func(), error) {
	return engineOn(ctx, path, openReadOnly)
}

func engineOn(ctx context.Context, path string, open func(context.Context, string) (*store.DB, error)) (*engine.Engine, func(), error) {
	db, err := open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	e, err := engine.NewEngine(ctx, db)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return e, func() { e.Close(); db.Close() }, nil
}

func cmdImport(ctx context.Context, args []string) error {
	fs := newFlags("import", "[flags] FILE...", `
Loads items into the catalog. The format is detected from the content:
  tally CSV    header: `+strings.Join(catalog.Columns, ",")+`
               Koha column names work too: a report's SELECT * FROM items
               (homebranch, itemcallnumber, ccode, itype, itemlost, notforloan,
               withdrawn, damaged, datelastseen, onloan, replacementprice) and
               the item search's Export CSV (Home library, Shelving location,
               Item type, Lost status, Withdrawn status, Due date …).
               Comma, semicolon or tab separated.
  Snipe-IT     the hardware list export (Asset Tag, …, Checked Out To) or the
               Custom Asset Report (Asset Tag, …, Checked Out, Type, Status):
               an asset checked out to a cart asset is in that cart.
  MARC 21      ISO 2709 (.mrc) or MARCXML: Koha 952, standard/Destiny/Polaris/
               Evergreen 852, or Sirsi 949/999 holdings.
With --from koha or --from snipeit (and --config naming the sync.koha or
sync.snipeit settings) it fetches the catalog from Koha's REST API, or the
carts and their devices from Snipe-IT, instead of reading files.
An import is one transaction: if any row is bad nothing is imported and every
error is listed as FILE:LINE: what is wrong. Importing again updates items in place.`)
	db := dbFlag(fs)
	format := fs.String("format", "auto", "auto, csv, snipeit or marc")
	skip := fs.String("skip-invalid", "", "import the good rows and write the rejected ones, with what is wrong beside each, to this `file` (same format as the input)")
	replace := fs.Bool("replace", false, "the file is the whole catalog: remove items that are not in it")
	from := fs.String("from", "", "fetch from an upstream instead of files: koha or snipeit")
	cfgPath := fs.String("config", "tally.yaml", "config `file` with the sync.koha / sync.snipeit settings (for --from)")
	if err := parseArgs(fs, args, -1); err != nil {
		return err
	}
	if *from != "" {
		if fs.NArg() > 0 {
			return fmt.Errorf("--from %s fetches the catalog from %s, not from %s: drop --from to import the file, or drop the file", *from, *from, fs.Arg(0))
		}
		return importFrom(ctx, *db, *from, *cfgPath, *replace)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("name the file(s) to import")
	}
	var results []*catalog.Result
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		res, err := catalog.Read(f, name, catalog.Format(*format))
		f.Close()
		if err != nil {
			return err
		}
		results = append(results, res)
	}
	// Row errors first, then warnings, then what concerns several files.
	var items []catalog.Item
	problems, unread, warnings := 0, 0, 0
	for _, res := range results {
		for _, e := range res.Errors {
			fmt.Fprintln(stderr, clipLines(e.Error()))
		}
		problems += res.Problems()
		unread += res.Unread
	}
	for _, res := range results {
		for _, w := range res.Warnings {
			fmt.Fprintln(stderr, "warning: "+clipLines(w.Error()))
		}
		warnings += len(res.Warnings)
		for _, r := range res.Records {
			items = append(items, r.Item)
		}
	}
	if dup := duplicateAcrossFiles(results); dup != "" {
		return errors.New(dup)
	}
	bad := fmt.Sprintf("%d bad rows", problems)
	if unread > 0 {
		bad += fmt.Sprintf(" (%d of them records that could not be read at all)", unread)
	}
	if problems > 0 {
		if *skip == "" {
			return fmt.Errorf("%s: nothing was imported; fix them, or import the good rows with --skip-invalid %s", bad, rejectsName(results))
		}
		if *replace {
			return fmt.Errorf("%s: nothing was imported; --replace would remove the items of the rejected rows from the catalog — fix the rows, or import without --replace", bad)
		}
		written, err := writeRejects(*skip, results)
		if err != nil {
			return fmt.Errorf("write rejects: %w", err)
		}
		fmt.Fprintf(stderr, "%s written to %s\n", bad, strings.Join(written, ", "))
	}
	d, err := openCatalog(ctx, *db)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := d.Import(ctx, nil, strings.Join(fs.Args(), ","), *format, items, *replace, problems)
	if err != nil {
		return err
	}
	summary := res.String()
	if warnings > 0 {
		summary += fmt.Sprintf(", %d warnings", warnings)
	}
	fmt.Fprintf(stdout, "imported %s: %s\n", strings.Join(fs.Args(), ", "), summary)
	return nil
}

// kohaFromConfig is the Koha API client options of the config's sync.koha
// section.
func kohaFromConfig(cfg *agent.Config, cfgPath string) (koha.Opts, error) {
	k, ok := cfg.Sync.Sinks["koha"].(*koha.Config)
	if !ok {
		return koha.Opts{}, fmt.Errorf("%s has no sync.koha section: add url and credentials (see tally.example.yaml)", cfgPath)
	}
	o, err := k.Opts()
	if err != nil {
		return o, sinks.KeyError("koha", err)
	}
	return o, nil
}

// importFrom fetches the catalog from Koha, or the carts from Snipe-IT, and
// imports it in one transaction.
func importFrom(ctx context.Context, dbPath, from, cfgPath string, replace bool) error {
	cfg, err := agent.LoadConfig(cfgPath)
	if err != nil {
		return err
	}
	var items []catalog.Item
	switch from {
	case "koha":
		o, oerr := kohaFromConfig(cfg, cfgPath)
		if oerr != nil {
			return oerr
		}
		items, err = kohaItems(ctx, o)
	case "snipeit":
		c, ok := cfg.Sync.Sinks["snipeit"].(*snipeit.Config)
		if !ok {
			return fmt.Errorf("%s has no sync.snipeit section: add url and token_file (see tally.example.yaml)", cfgPath)
		}
		var devs []snipeit.Device
		devs, err = snipeit.FetchCarts(ctx, c.Opts())
		for _, d := range devs {
			items = append(items, cartItem(d))
		}
	default:
		return fmt.Errorf("--from %q: want koha or snipeit", from)
	}
	if err != nil {
		return fmt.Errorf("fetch from %s: %w (nothing was imported)", from, err)
	}
	d, err := openCatalog(ctx, dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := d.Import(ctx, nil, from, from, items, replace, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported from %s: %s\n", from, res)
	return nil
}

// duplicateAcrossFiles names a barcode that two of the files both hold
// (duplicates inside one file are row errors already), or "".
func duplicateAcrossFiles(results []*catalog.Result) string {
	type where struct {
		file string
		line int
	}
	seen := map[string]where{}
	for _, res := range results {
		for _, r := range res.Records {
			bc := catalog.NormalizeID(r.Item.Barcode)
			if w, ok := seen[bc]; ok && w.file != res.File {
				return fmt.Sprintf("barcode %s appears in more than one file (%s:%d and %s:%d): import them one at a time or remove the duplicate", bc, w.file, w.line, res.File, r.Line)
			}
			if _, ok := seen[bc]; !ok {
				seen[bc] = where{res.File, r.Line}
			}
		}
	}
	return ""
}

// rejectsName suggests a rejects file name in the format of the first
// file with problems.
func rejectsName(results []*catalog.Result) string {
	for _, res := range results {
		switch {
		case res.Problems() == 0:
		case res.Format != catalog.FormatMARC:
			return "rejects.csv"
		case res.XML:
			return "rejects.xml"
		default:
			return "rejects.mrc"
		}
	}
	return "rejects.csv"
}

// writeRejects writes the rejected rows of each file that has some, in
// that file's own format with the messages beside them (see
// catalog.Result.WriteRejects). The first such file goes to path; further
// ones to path with -2, -3 … before the extension. ISO 2709 rejects get
// their messages in path.txt.
func writeRejects(path string, results []*catalog.Result) ([]string, error) {
	var written []string
	n := 0
	for _, res := range results {
		if res.Problems() == 0 {
			continue
		}
		n++
		p := path
		if n > 1 {
			ext := filepath.Ext(path)
			p = fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
		}
		var body, notes bytes.Buffer
		if err := res.WriteRejects(&body, &notes); err != nil {
			return written, err
		}
		if err := writeAtomic(p, body.Bytes()); err != nil {
			return written, err
		}
		written = append(written, p)
		if notes.Len() > 0 {
			if err := writeAtomic(p+".txt", notes.Bytes()); err != nil {
				return written, err
			}
			written = append(written, p+".txt")
		}
	}
	return written, nil
}

// writeOut writes what --out names (atomically), or stdout when it names
// nothing.
func writeOut(path, text string) error {
	if path == "" {
		_, err := fmt.Fprint(stdout, text)
		return err
	}
	if err := writeAtomic(path, []byte(text)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", path)
	return nil
}

// writeAtomic writes a file so that a crash leaves the old one or the new
// one, never half: tmp, fsync, rename, fsync the directory. The file is
// 0644, as the sync exports are: what --out writes (reports, setup sheets,
// rejects) is for people to open, print or share, and holds no secret.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes 0600
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
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
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func cmdInventoryCreate(ctx context.Context, args []string) error {
	fs := newFlags("inventory create", "--name NAME [scope flags] [policy flags]", `
Creates an inventory. Empty scope flags mean "any"; list flags take several
values, comma-separated or repeated. Items outside the scope that are scanned
are reported as misplaced, never as missing.`)
	db := dbFlag(fs)
	name := fs.String("name", "", "inventory `name`, e.g. \"Spring 2027 — Fiction\"")
	var libs, locs, colls, types, skips, carts, kinds multi
	fs.Var(&libs, "library", "libraries (Koha homebranch) in scope")
	fs.Var(&locs, "location", "shelving locations in scope")
	fs.Var(&colls, "collection", "collection codes in scope")
	fs.Var(&types, "item-type", "item types in scope")
	fs.Var(&carts, "container", "carts or kits in scope (equipment)")
	fs.Var(&kinds, "kind", "book and/or equipment")
	from := fs.String("call-from", "", "first call number of the range, e.g. 500")
	to := fs.String("call-to", "", "last call number of the range, inclusive as a prefix, e.g. 599")
	fs.Var(&skips, "skip-status", "statuses not expected on the shelf (default: "+statusList(engine.DefaultSkipStatuses())+"; none: expect every status)")
	since := fs.String("skip-seen-since", "", "skip items seen on or after this `date` (YYYY-MM-DD)")
	clearLost := fs.Bool("clear-lost", reconcile.DefaultPolicy.ClearLost, "clear the lost status of items found on the shelf (else only report)")
	checkIn := fs.Bool("check-in", reconcile.DefaultPolicy.CheckIn, "check in items found on the shelf that are checked out (else only report)")
	order := fs.Bool("shelf-order", reconcile.DefaultPolicy.ShelfOrder, "check call-number order in shelf sessions")
	lostVal := fs.Int("missing-lost-value", reconcile.DefaultPolicy.MissingLostValue, "lost value set upstream on missing items at finalize (Koha 4 = Missing; 0 = report only)")
	asJSON := fs.Bool("json", false, "print the inventory as JSON")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	sc := catalog.Scope{Libraries: libs, Locations: locs, Collections: colls, ItemTypes: types, Containers: carts,
		CallFrom: *from, CallTo: *to}
	for _, k := range kinds {
		switch catalog.Kind(k) {
		case catalog.KindBook, catalog.KindEquipment:
			sc.Kinds = append(sc.Kinds, catalog.Kind(k))
		default:
			return fmt.Errorf("--kind %q: want book or equipment", k)
		}
	}
	for _, s := range skips {
		if s == "none" {
			sc.SkipStatuses = []catalog.Status{}
			continue
		}
		st, err := catalog.ParseStatus(s)
		if err != nil {
			return fmt.Errorf("--skip-status: %w", err)
		}
		sc.SkipStatuses = append(sc.SkipStatuses, st)
	}
	sc = engine.WithDefaults(sc) // the same defaults as the UI and the API
	if *since != "" {
		t, err := catalog.ParseDate(*since)
		if err != nil {
			return fmt.Errorf("--skip-seen-since: %w", err)
		}
		sc.SkipSeenSince = t
	}
	pol := reconcile.Policy{ClearLost: *clearLost, CheckIn: *checkIn, ShelfOrder: *order, MissingLostValue: *lostVal}
	e, done, err := openEngine(ctx, *db)
	if err != nil {
		return err
	}
	defer done()
	if err := nameTaken(ctx, e.DB, *name); err != nil {
		return err
	}
	inv, err := e.DB.CreateInventory(ctx, *name, sc, pol)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(inv)
	}
	p, err := e.InventoryProgress(ctx, inv.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "inventory %d created: %s — %d items expected\nnext: tally session start --inventory %d\n", inv.ID, inv.Name, p.Expected, inv.ID)
	return nil
}

func statusList(ss []catalog.Status) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ",")
}

func cmdInventoryList(ctx context.Context, args []string) error {
	fs := newFlags("inventory list", "", "Lists inventories, newest first.")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "JSON output")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	d, err := openReadOnly(ctx, *db)
	if err != nil {
		return err
	}
	defer d.Close()
	invs, err := d.Inventories(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(invs)
	}
	if len(invs) == 0 {
		fmt.Fprintln(stdout, "no inventories yet: create one with `tally inventory create --name NAME`")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tSTATE")
	for _, inv := range invs {
		state := "open"
		if !inv.Open() {
			state = "finalized " + inv.FinalizedAt.Local().Format("2006-01-02")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", inv.ID, inv.Name, inv.CreatedAt.Local().Format("2006-01-02 15:04"), state)
	}
	return tw.Flush()
}

func argID(fs *flag.FlagSet, what string) (int64, error) {
	if fs.NArg() != 1 {
		return 0, fmt.Errorf("give the %s id, e.g. `tally %s 1`", what, strings.TrimPrefix(fs.Name(), "tally "))
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a %s id", fs.Arg(0), what)
	}
	return id, nil
}

func cmdInventoryShow(ctx context.Context, args []string) error {
	fs := newFlags("inventory show", "ID [--json]", "Shows an inventory: scope, policies, progress and sessions.")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "JSON output: the inventory, its summary and its sessions")
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	id, err := argID(fs, "inventory")
	if err != nil {
		return err
	}
	e, done, err := openEngineReadOnly(ctx, *db)
	if err != nil {
		return err
	}
	defer done()
	inv, err := e.DB.Inventory(ctx, id)
	if err != nil {
		return err
	}
	ts, err := e.Reports(ctx, id, "summary")
	if err != nil {
		return err
	}
	ss, err := e.DB.Sessions(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		summary := map[string]string{}
		for _, r := range ts[0].Rows {
			summary[r[0]] = r[1]
		}
		return json.NewEncoder(stdout).Encode(struct {
			Inventory any               `json:"inventory"`
			Summary   map[string]string `json:"summary"`
			Sessions  any               `json:"sessions"`
		}{inv, summary, ss})
	}
	sc, _ := json.Marshal(inv.Scope)
	pol, _ := json.Marshal(inv.Policy)
	fmt.Fprintf(stdout, "inventory %d: %s\nscope:  %s\npolicy: %s\n", inv.ID, inv.Name, sc, pol)
	for _, r := range ts[0].Rows {
		fmt.Fprintf(stdout, "  %-28s %s\n", r[0], r[1])
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tKIND\tCART\tOPERATOR\tSTATE\tSTARTED")
	for _, s := range ss {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Kind, s.Cart, s.Operator, s.State, s.StartedAt.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func cmdInventoryFinalize(ctx context.Context, args []string) error {
	fs := newFlags("inventory finalize", "[--dry-run] ID", `
Closes the inventory: ends its sessions, lists the items never seen as
missing, and queues the upstream changes (missing items, with the lost value
of the policy). Run with --dry-run first to see what it will do.`)
	db := dbFlag(fs)
	dry := fs.Bool("dry-run", false, "only show what finalizing would do")
	asJSON := fs.Bool("json", false, "JSON output")
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	id, err := argID(fs, "inventory")
	if err != nil {
		return err
	}
	open := openEngine
	if *dry {
		open = openEngineReadOnly // a dry run writes nothing: it works beside the agent
	}
	e, done, err := open(ctx, *db)
	if err != nil {
		return err
	}
	defer done()
	res, err := e.Finalize(ctx, id, *dry)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	verb := "finalized"
	if *dry {
		verb = "would finalize"
	}
	fmt.Fprintf(stdout, "%s inventory %d (%s): %d missing, replacement value %d.%02d\n", verb, id, res.Inventory.Name,
		len(res.Missing), res.Value/100, res.Value%100)
	if n := len(res.StillMissing); n > 0 {
		fmt.Fprintf(stdout, "%d still missing: lost, missing or withdrawn before the inventory began and not seen (listed, not sent upstream again)\n", n)
	}
	fmt.Fprintf(stdout, "upstream changes queued for this inventory:")
	for _, k := range outbox.Kinds {
		if n := res.Outbox[string(k)]; n > 0 {
			fmt.Fprintf(stdout, " %s %d", k, n)
		}
	}
	fmt.Fprintln(stdout)
	if *dry {
		fmt.Fprintf(stdout, "run `tally inventory finalize %d` to do it\n", id)
	} else {
		fmt.Fprintf(stdout, "reports: tally report --inventory %d --format html --out report.html\n", id)
	}
	return nil
}

func cmdSessionStart(ctx context.Context, args []string) error {
	fs := newFlags("session start", "--inventory ID [--cart NAME] [--operator NAME]", `
Starts a session of an inventory. Shelf sessions walk the shelves in order;
cart sessions (--cart) check one equipment cart.`)
	db := dbFlag(fs)
	inv := fs.Int64("inventory", 0, "inventory `id`")
	cart := fs.String("cart", "", "check this cart (makes a cart session)")
	op := fs.String("operator", "", "who is scanning")
	dev := fs.String("device", "", "device bound to the session")
	asJSON := fs.Bool("json", false, "JSON output")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	if *inv == 0 {
		return errors.New("--inventory ID is required (see `tally inventory list`)")
	}
	d, err := openDB(ctx, *db)
	if err != nil {
		return err
	}
	defer d.Close()
	kind := store.SessionShelf
	if *cart != "" {
		kind = store.SessionCart
	}
	if err := inventoryBlocked(ctx, d, *inv); err != nil {
		return err
	}
	s, err := d.StartSession(ctx, *inv, kind, *cart, *op, *dev)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(s)
	}
	fmt.Fprintf(stdout, "session %d started (%s) in inventory %d\nnext: tally scan --session %d\n", s.ID, s.Kind, s.InventoryID, s.ID)
	return nil
}

func sessionState(state store.SessionState) func(context.Context, []string) error {
	verb := map[store.SessionState]string{store.SessionPaused: "pause", store.SessionOpen: "resume"}[state]
	return func(ctx context.Context, args []string) error {
		fs := newFlags("session "+verb, "ID", "Changes a session's state ("+verb+").")
		db := dbFlag(fs)
		if err := parseArgs(fs, args, 1); err != nil {
			return err
		}
		id, err := argID(fs, "session")
		if err != nil {
			return err
		}
		d, err := openDB(ctx, *db)
		if err != nil {
			return err
		}
		defer d.Close()
		if err := sessionBlocked(ctx, d, id, true); err != nil {
			return err
		}
		s, err := d.SetSessionState(ctx, id, state)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "session %d is %s\n", s.ID, s.State)
		return nil
	}
}

func cmdSessionEnd(ctx context.Context, args []string) error {
	fs := newFlags("session end", "ID", "Ends a session. A cart session lists the cart's devices not seen.")
	db := dbFlag(fs)
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	id, err := argID(fs, "session")
	if err != nil {
		return err
	}
	e, done, err := openEngine(ctx, *db)
	if err != nil {
		return err
	}
	defer done()
	if s, err := e.DB.Session(ctx, id); err == nil && s.State == store.SessionEnded {
		fmt.Fprintf(stdout, "session %d had already ended\n", id)
		return nil
	}
	s, err := e.SetSessionState(ctx, id, store.SessionEnded)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "session %d ended\n", s.ID)
	if s.Kind == store.SessionCart {
		seen, err := e.DB.Seen(ctx, s.InventoryID)
		if err != nil {
			return err
		}
		var miss []string
		for _, it := range e.Index.Container(s.Cart) {
			if _, ok := seen[it.Barcode]; !ok {
				miss = append(miss, it.Barcode)
			}
		}
		if len(miss) == 0 {
			fmt.Fprintf(stdout, "cart %s complete\n", s.Cart)
		} else {
			fmt.Fprintf(stdout, "cart %s: %d missing: %s\n", s.Cart, len(miss), strings.Join(miss, " "))
		}
	}
	return nil
}

func cmdScan(ctx context.Context, args []string) error {
	fs := newFlags("scan", "--session ID [--json]", `
Reads codes from stdin, one per line — which is how a keyboard-wedge scanner
types into a terminal — and prints one outcome per read once it is committed.
Ctrl-D (end of input) stops. Every printed line is durable.`)
	db := dbFlag(fs)
	sid := fs.Int64("session", 0, "session `id` (from `tally session start`)")
	asJSON := fs.Bool("json", false, "print JSON lines: barcode, outcome, flags, detail…")
	dev := fs.String("device", "stdin", "device name recorded with each read")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	if *sid == 0 {
		return errors.New("--session ID is required (start one with `tally session start --inventory ID`)")
	}
	e, done, err := openEngine(ctx, *db)
	if err != nil {
		return err
	}
	defer done()
	if err := sessionBlocked(ctx, e.DB, *sid, false); err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	// Keep up to 256 reads in flight so a pasted file commits in groups,
	// while every result is still printed in order, after its commit.
	type inflight struct {
		wait func() (*engine.Result, error)
	}
	queue := make(chan inflight, 256)
	errc := make(chan error, 1)
	go func() {
		var first error
		for q := range queue {
			res, err := q.wait()
			if err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			if *asJSON {
				_ = enc.Encode(scanJSON(res))
			} else {
				fmt.Fprintln(out, scanText(res))
			}
			if len(queue) == 0 {
				out.Flush()
			}
		}
		errc <- first
	}()
	lr := newLineReader(stdin, maxLine)
	var submitErr, readErr error
	for {
		b, n, long, err := lr.Next()
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
		if long > 0 {
			fmt.Fprintf(stderr, "line %d: %d bytes, longer than any code (%d at most): skipped; the lines after it are read\n", n, long, maxLine)
			continue
		}
		line := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
		if line == "" {
			continue
		}
		wait, err := e.SubmitAsync(ctx, *sid, drivers.Read{Device: *dev, Kind: drivers.KindManual, Raw: []byte(line), Code: line, Time: time.Now()})
		if err != nil {
			submitErr = err
			break
		}
		queue <- inflight{wait}
	}
	close(queue)
	werr := <-errc
	if errors.Is(submitErr, engine.ErrSessionClosed) {
		// Paused or ended meanwhile (from the UI, or another terminal).
		if b := sessionBlocked(ctx, e.DB, *sid, false); b != nil {
			submitErr = b
		}
	}
	if submitErr != nil {
		return submitErr
	}
	if werr != nil {
		return werr
	}
	return readErr
}

type scanLine struct {
	ReadID     int64            `json:"read_id"`
	Code       string           `json:"code"`
	Barcode    string           `json:"barcode"`
	Outcome    string           `json:"outcome"`
	Flags      []string         `json:"flags"`
	Meaning    string           `json:"meaning"`
	Title      string           `json:"title,omitempty"`
	CallNumber string           `json:"call_number,omitempty"`
	Detail     reconcile.Detail `json:"detail"`
	Retro      []engine.Retro   `json:"retro,omitempty"`
	Seen       int              `json:"seen"`
	Expected   int              `json:"expected"`
}

func scanJSON(r *engine.Result) scanLine {
	bc := r.Barcode
	if bc == "" {
		bc = r.Code
	}
	flags := []string(r.Flags)
	if flags == nil {
		flags = []string{}
	}
	return scanLine{ReadID: r.ReadID, Code: r.Code, Barcode: bc, Outcome: string(r.Outcome), Flags: flags,
		Meaning: r.Meaning, Title: r.Title, CallNumber: r.CallNumber, Detail: r.Detail, Retro: r.Retro,
		Seen: r.Seen, Expected: r.Expected}
}

func scanText(r *engine.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s %-15s", strings.ToUpper(string(r.Outcome)), printable(r.Code))
	if r.Title != "" {
		fmt.Fprintf(&b, " %s", printable(r.Title))
		if r.CallNumber != "" {
			fmt.Fprintf(&b, " [%s]", printable(r.CallNumber))
		}
	}
	d := r.Detail
	switch {
	case d.Prev != "" || d.Next != "":
		fmt.Fprintf(&b, " — belongs between %s and %s", place(d.PrevCall, d.Prev, "the start"), place(d.NextCall, d.Next, "the end"))
	case d.Home != "":
		fmt.Fprintf(&b, " — belongs in %s", printable(d.Home))
	case d.Problem != "":
		fmt.Fprintf(&b, " — %s", printable(d.Problem))
	}
	if len(r.Flags) > 0 {
		fmt.Fprintf(&b, " (also: %s)", strings.Join(r.Flags, ", "))
	}
	if d.Swap != "" {
		fmt.Fprintf(&b, "\n%-20s %-15s %s", "SWAP", "", d.Swap)
	}
	if d.Pull != "" {
		fmt.Fprintf(&b, "\n%-20s %-15s %s", "PULL", "", printable(d.Pull))
	}
	for _, m := range r.Retro {
		fmt.Fprintf(&b, "\n%-20s %-15s %s [%s] — read earlier; belongs between %s and %s", "OUT_OF_ORDER", printable(m.Barcode), printable(m.Title), printable(m.CallNumber),
			place(m.PrevCall, m.Prev, "the start"), place(m.NextCall, m.Next, "the end"))
	}
	if r.Expected > 0 {
		fmt.Fprintf(&b, "  [%d/%d]", r.Seen, r.Expected)
	}
	return b.String()
}

// place names a shelf neighbour: its call number and barcode.
func place(call, bc, end string) string {
	switch {
	case bc == "":
		return end
	case call == "":
		return printable(bc)
	}
	return printable(call) + " (" + printable(bc) + ")"
}

func cmdReport(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "collection" {
		return cmdReportCollection(ctx, args[1:])
	}
	fs := newFlags("report", "--inventory ID [--format csv|json|html] [--out FILE] [REPORT...]", `
Writes an inventory's reports. REPORT is one or more of:
  `+strings.Join(engine.ReportNames, ", ")+`
(default: all). CSV cells that a spreadsheet would run as formulas are
neutralized. HTML is a printable page. The collection report (ages per
class) is `+"`tally report collection [--inventory ID]`"+`.`)
	db := dbFlag(fs)
	inv := fs.Int64("inventory", 0, "inventory `id`")
	format := fs.String("format", "csv", "csv, json or html")
	outPath := fs.String("out", "", "write to this `file` (atomically) instead of stdout")
	if err := parseArgs(fs, args, -1); err != nil {
		return err
	}
	if *inv == 0 {
		return errors.New("--inventory ID is required (see `tally inventory list`)")
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return err
	}
	e, done, err := openEngineReadOnly(ctx, *db)
	if err != nil {
		return err
	}
	defer done()
	tables, err := e.Reports(ctx, *inv, fs.Args()...)
	if err != nil {
		return err
	}
	i, err := e.DB.Inventory(ctx, *inv)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := report.Write(&b, f, "Inventory report — "+i.Name, tables...); err != nil {
		return err
	}
	return writeOut(*outPath, b.String())
}

func cmdCallnumberSort(ctx context.Context, args []string) error {
	fs := newFlags("callnumber sort", "< FILE", "Reads one call number per line on stdin and writes them in shelf order.")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	return callnumber.SortLines(stdin, stdout)
}
