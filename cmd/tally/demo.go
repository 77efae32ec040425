package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/sample"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/rfid/chafon"
	"github.com/tally-inventory/tally/drivers/sim"
	"github.com/tally-inventory/tally/sync/export"
	"github.com/tally-inventory/tally/sync/sinks"
)

func init() {
	register("demo", "run the agent on a generated library with simulated devices (no hardware)", cmdDemo)
}

// demoOpts shape a demo run; tests shrink it.
type demoOpts struct {
	dir       string
	books     int
	scanEvery time.Duration
	cartDwell time.Duration
	listen    string
	metrics   string
	quiet     bool
	json      bool // print JSON lines: the addresses, then one line per read after commit
	once      bool // stop when the scripted walk and sweep are done
}

func cmdDemo(ctx context.Context, args []string) error {
	fs := newFlags("demo", "[flags]", `
Runs tally on an embedded default: a generated school library (40,000 books
over several sections, with lost, checked-out and withdrawn items, and a dozen
Chromebook carts), two open inventories, a simulated USB barcode scanner
walking the fiction shelves with realistic mistakes, and a simulated UHF RFID
wand on a pseudo-terminal sweeping the carts. It prints where the live UI and
the metrics are and runs until Ctrl-C. No hardware, no configuration.`)
	o := demoOpts{}
	fs.StringVar(&o.dir, "dir", "", "keep the demo's database and exports in this `folder` (default: a new temporary folder)")
	fs.IntVar(&o.books, "books", sample.DefaultOpts.Books, "books in the generated library")
	fs.DurationVar(&o.scanEvery, "scan-every", 600*time.Millisecond, "pace of the simulated scanner")
	fs.DurationVar(&o.cartDwell, "cart-dwell", 6*time.Second, "how long the wand sweeps each cart")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "UI address")
	fs.StringVar(&o.metrics, "metrics", "127.0.0.1:9464", "metrics address")
	fs.BoolVar(&o.quiet, "quiet", false, "do not print every read")
	fs.BoolVar(&o.json, "json", false, "print JSON lines: the addresses first, then each read once it is committed (for scripts and tests)")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	return runDemo(ctx, o)
}

func runDemo(ctx context.Context, o demoOpts) error {
	if o.dir == "" {
		d, err := os.MkdirTemp("", "tally-demo-")
		if err != nil {
			return err
		}
		o.dir = d
	} else if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	cfg := agent.DefaultConfig()
	cfg.Database = filepath.Join(o.dir, "tally.db")
	cfg.Listen, cfg.Metrics.Listen = o.listen, o.metrics
	exportDir := filepath.Join(o.dir, "export")
	cfg.Sync.Sinks = map[string]sinks.Config{"export": &export.Config{Dir: exportDir}}
	cfg.Sync.Interval = agent.Duration(2 * time.Second)
	var log io.Writer = stdout
	if o.json {
		log = stderr // stdout carries only JSON lines
	}
	// The simulated barcode scanner: a USB-HID keyboard-wedge device typing
	// boot reports, read through the real hidscanner decoder.
	scanner := sim.NewScanner("us")
	// The simulated RFID wand: a Chafon UHF reader on a pseudo-terminal,
	// read through the real chafon driver and go.bug.st/serial.
	pty, err := sim.OpenPty()
	if err != nil {
		return fmt.Errorf("demo: RFID wand: %w", err)
	}
	defer pty.Close()
	ao := agentOpts(log, &outcomePrinter{log: log, verbose: !o.quiet && !o.json, json: o.json})
	ao.PortFallback = 20
	ao.Devices = []engine.DeviceSpec{
		{Name: "demo-scanner", Kind: drivers.KindScanner, Profile: "generic-keyboard-wedge",
			Open: func(ctx context.Context) (drivers.Reader, error) {
				return hidscanner.New("demo-scanner", scanner, hidscanner.DefaultOpts)
			}},
		{Name: "demo-wand", Kind: drivers.KindRFID, Profile: "chafon-uhfreader288",
			Open: func(ctx context.Context) (drivers.Reader, error) {
				return chafon.Open("demo-wand", pty.Path, 57600, chafon.DefaultOpts)
			}},
	}
	a, err := agent.New(ctx, &cfg, ao)
	if err != nil {
		return err
	}
	defer a.Close()
	e := a.Engine()
	if e.Index.Len() == 0 {
		// The library is generated only for a new database (a restart
		// finds it in the index), and imported through the engine, which
		// keeps the index it fills instead of reading the whole catalog
		// back at the first read.
		fmt.Fprintf(log, "tally demo: generating a library of %d books and %d carts…\n", o.books, sample.DefaultOpts.Carts)
		so := sample.DefaultOpts
		so.Books = o.books
		if _, err := e.Import(ctx, "demo", "generated", sample.Generate(so), false, 0); err != nil {
			return err
		}
		// The generated library is garbage now: give it back, so that
		// the demo's memory is the agent's (BenchmarkAgentRSS reads it).
		debug.FreeOSMemory()
	}
	// The tags in the wand's field: the equipment's, from the index.
	var tags []sim.Tag
	var tagCart []string
	e.Index.Each(func(_ catalog.Ref, it *catalog.Item) bool {
		if epc, err := hex.DecodeString(it.RFID); err == nil && it.RFID != "" {
			tags = append(tags, sim.Tag{EPC: epc})
			tagCart = append(tagCart, it.Container)
		}
		return true
	})
	field := sim.NewPopulation(tags, 3)
	field.MissRate = 0.1
	wand := sim.NewChafon(pty.Master, sim.ChafonOpts{Field: field, Type: 0x0C,
		Noise: sim.Noise{GarbageRate: 0.01, BadCRCRate: 0.01, SplitRate: 0.2, Seed: 5}})
	// Two inventories: the fiction shelves and the carts.
	shelfInv, err := demoInventory(ctx, e.DB, "Demo — Fiction", catalog.Scope{Locations: []string{"Fiction"},
		SkipStatuses: []catalog.Status{catalog.StatusCheckedOut, catalog.StatusWithdrawn}})
	if err != nil {
		return err
	}
	cartInv, err := demoInventory(ctx, e.DB, "Demo — Chromebook carts", catalog.Scope{Kinds: []catalog.Kind{catalog.KindEquipment}})
	if err != nil {
		return err
	}
	shelfSess, err := e.StartSession(ctx, shelfInv.ID, store.SessionShelf, "", "student assistant", "demo-scanner")
	if err != nil {
		return err
	}
	if err := a.Devices().Bind(ctx, "demo-scanner", shelfSess.ID); err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	ui, met := a.UIURL(), a.MetricsURL()
	if o.json {
		json.NewEncoder(os.Stdout).Encode(map[string]string{"ui": ui, "metrics": met, "database": cfg.Database})
	}
	fmt.Fprintf(log, "\ntally demo is running.\n  live UI:   %s\n  metrics:   %s\n  database:  %s\n  exports:   %s\n%s%sPress Ctrl-C to stop.\n\n",
		orNone(ui), orNone(met), cfg.Database, exportDir, portTaken("the UI", o.listen, ui), portTaken("the metrics", o.metrics, met))
	// The wand answers on its pty until the agent has drained.
	wandCtx, stopWand := context.WithCancel(context.WithoutCancel(ctx))
	wandDone := make(chan struct{})
	go func() { wand.Serve(wandCtx); close(wandDone) }()
	defer func() { stopWand(); <-wandDone }()
	// The scripts: the walk along the fiction shelves, the sweep of the carts.
	scripts, cancelScripts := context.WithCancel(ctx)
	defer cancelScripts()
	done := make(chan struct{}, 2)
	go func() {
		demoWalk(scripts, e, scanner, o.scanEvery)
		done <- struct{}{}
	}()
	go func() {
		demoCarts(scripts, a, cartInv.ID, field, tagCart, o.cartDwell)
		done <- struct{}{}
	}()
	runCtx := ctx
	if o.once {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithCancel(ctx)
		go func() { <-done; <-done; time.Sleep(500 * time.Millisecond); cancel() }()
	}
	err = a.Run(runCtx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	// End the demo's sessions: the database it leaves is a finished day,
	// and a later demo on it starts sessions of its own.
	ended := 0
	for _, inv := range []int64{shelfInv.ID, cartInv.ID} {
		ss, serr := e.DB.Sessions(context.Background(), inv)
		if serr != nil {
			err = errors.Join(err, serr)
			continue
		}
		for _, s := range ss {
			if s.State != store.SessionEnded {
				if _, serr := e.SetSessionState(context.Background(), s.ID, store.SessionEnded); serr != nil {
					err = errors.Join(err, serr)
					continue
				}
				ended++
			}
		}
	}
	fmt.Fprintf(log, "\ntally demo stopped; its %d open sessions are ended. The database is kept in %s — try:\n  tally report --db %s --inventory %d --format html --out report.html\n",
		ended, o.dir, cfg.Database, shelfInv.ID)
	return err
}

// portTaken says when a listener took another port than the one asked
// for (it was in use), "" otherwise.
func portTaken(what, asked, url string) string {
	_, want, err := net.SplitHostPort(asked)
	if err != nil || want == "0" || url == "" {
		return ""
	}
	host := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
	host, _, _ = strings.Cut(host, "/")
	if _, got, err := net.SplitHostPort(host); err == nil && got != want {
		return fmt.Sprintf("  (port %s was in use, so %s is on port %s)\n", want, what, got)
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(not started)"
	}
	return s
}

func demoInventory(ctx context.Context, db *store.DB, name string, sc catalog.Scope) (*store.Inventory, error) {
	invs, err := db.Inventories(ctx)
	if err != nil {
		return nil, err
	}
	for _, inv := range invs {
		if inv.Name == name && inv.Open() {
			return inv, nil
		}
	}
	return db.CreateInventory(ctx, name, sc, reconcile.DefaultPolicy)
}

// demoWalk has the simulated scanner walk the fiction shelves, with the
// mistakes a student assistant makes, at a human pace.
func demoWalk(ctx context.Context, e *engine.Engine, sc *sim.Scanner, every time.Duration) {
	var section, others []catalog.Item
	e.Index.Each(func(_ catalog.Ref, it *catalog.Item) bool {
		if it.Kind != catalog.KindBook {
			return true
		}
		if it.Location == "Fiction" {
			section = append(section, *it)
		} else if len(others) < 2000 {
			others = append(others, *it)
		}
		return true
	})
	sortItems(section)
	wo := sample.DefaultWalk
	wo.Swaps = 3 // and a few neighbours the wrong way round, heard as swaps
	walk := sample.Walk(section, others, wo)
	r := rand.New(rand.NewPCG(11, 12))
	for _, code := range walk {
		if err := sc.Scan(ctx, code); err != nil {
			return
		}
		// A person is not a metronome.
		d := every/2 + time.Duration(r.Int64N(int64(every)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(d):
		}
	}
}

// demoCarts has the RFID wand sweep each cart in turn: one cart session
// per cart, with a device missing from some carts and a stray from another
// cart in others.
func demoCarts(ctx context.Context, a *agent.Agent, invID int64, field *sim.Population, tagCart []string, dwell time.Duration) {
	r := rand.New(rand.NewPCG(21, 22))
	e := a.Engine()
	carts := e.Index.Containers()
	for _, cart := range carts {
		s, err := e.StartSession(ctx, invID, store.SessionCart, cart, "technical assistant", "demo-wand")
		if err != nil {
			return
		}
		if err := a.Devices().Bind(ctx, "demo-wand", s.ID); err != nil {
			return
		}
		var in []int
		for i, c := range tagCart {
			if strings.EqualFold(c, cart) {
				in = append(in, i)
			}
		}
		// One device missing (left in a classroom) in most carts.
		if len(in) > 0 && r.Float64() < 0.7 {
			in = append(in[:0:0], in[1:]...)
		}
		// A stray from another cart now and then.
		if r.Float64() < 0.4 {
			in = append(in, r.IntN(len(tagCart)))
		}
		field.Enter(in...)
		select {
		case <-ctx.Done():
			return
		case <-time.After(dwell):
		}
		field.LeaveAll()
		time.Sleep(300 * time.Millisecond) // let reads in flight land in this cart's session
		a.Devices().Bind(ctx, "demo-wand", 0)
		e.SetSessionState(ctx, s.ID, store.SessionEnded)
	}
}
