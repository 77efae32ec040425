package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/internal/benchdb"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/sample"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
)

var benchOnce sync.Map

// benchStore is a database with n generated books (and the sample's
// carts) and its index snapshot: this run's copy of the one kept across
// runs and packages (benchdb), snapshotted once per run, so the snapshot
// is always in the format this tally writes. Copy it per use (copyDB).
func benchStore(b *testing.B, n int) string {
	if p, ok := benchOnce.Load(n); ok {
		return p.(string)
	}
	o := sample.DefaultOpts
	o.Books = n
	src, err := benchdb.Path(o, store.SchemaVersion(), benchdb.ImportRecipe, store.Create)
	if err != nil {
		b.Fatal(err)
	}
	path, err := benchdb.RunCopy(src)
	if err != nil {
		b.Fatal(err)
	}
	snapshot(b, path)
	benchOnce.Store(n, path)
	return path
}

// snapshot brings the index snapshot beside a fixture up to date, as an
// agent that ran finds it: otherwise the benchmark would measure the
// snapshot being written (its fsync) beside what it means to measure.
func snapshot(b *testing.B, path string) {
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close() // waits for the snapshot
	if _, err := db.LoadIndex(ctx); err != nil {
		b.Fatal(err)
	}
}

// copyDB copies a fixture and its index snapshot.
func copyDB(b *testing.B, src string) string {
	dst := filepath.Join(b.TempDir(), "db")
	for _, ext := range []string{"", ".index"} {
		data, err := os.ReadFile(src + ext)
		if errors.Is(err, os.ErrNotExist) && ext != "" {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(dst+ext, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dst
}

// finalizeFixture is a 100k-item store with an open inventory of the whole
// collection in which 95% of the items were seen, made once per run.
func finalizeFixture(b *testing.B) string {
	if p, ok := benchOnce.Load("finalize"); ok {
		return p.(string)
	}
	ctx := context.Background()
	path := copyDB(b, benchStore(b, 100_000))
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	e, err := NewEngine(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	// Read in barcode order, not shelf order: no shelf-order check.
	pol := reconcile.DefaultPolicy
	pol.ShelfOrder = false
	inv, _ := db.CreateInventory(ctx, "bench", catalog.Scope{}, pol)
	s, _ := db.StartSession(ctx, inv.ID, "shelf", "", "", "")
	var waits []func() (*Result, error)
	for i, bc := range e.Index.Barcodes() {
		if i%20 == 0 {
			continue
		}
		w, err := e.SubmitAsync(ctx, s.ID, drivers.Read{Code: bc})
		if err != nil {
			b.Fatal(err)
		}
		waits = append(waits, w)
	}
	for _, w := range waits {
		if _, err := w(); err != nil {
			b.Fatal(err)
		}
	}
	e.Close()
	db.Close()
	// Keep it outside b.TempDir, which ends with this benchmark.
	snapshot(b, path)
	keep := filepath.Join(os.TempDir(), fmt.Sprintf("tally-finalize-%d.db", os.Getpid()))
	for _, ext := range []string{"", ".index"} {
		data, _ := os.ReadFile(path + ext)
		os.WriteFile(keep+ext, data, 0o644)
	}
	benchOnce.Store("finalize", keep)
	return keep
}

// BenchmarkFinalize finalizes a 100k-item scope (the whole collection, 95%
// seen): the missing list, and with it the outbox rows and status changes in
// one transaction. The dry run is the missing list alone.
func BenchmarkFinalize(b *testing.B) {
	src := finalizeFixture(b)
	ctx := context.Background()
	for _, dry := range []bool{true, false} {
		name := "items=100000/finalize"
		if dry {
			name = "items=100000/dry-run"
		}
		b.Run(name, func(b *testing.B) {
			var took time.Duration
			for i := 0; i < b.N; i++ {
				db, err := store.Open(ctx, copyDB(b, src))
				if err != nil {
					b.Fatal(err)
				}
				e, err := NewEngine(ctx, db)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := e.Progress(ctx); err != nil { // load the inventory, as a running agent has
					b.Fatal(err)
				}
				start := time.Now()
				res, err := e.Finalize(ctx, 1, dry)
				took += time.Since(start)
				if err != nil || len(res.Missing) < 4000 {
					b.Fatalf("finalize: %v, %v", res, err)
				}
				e.Close()
				db.Close()
			}
			b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "ms/finalize")
			if !dry {
				b.ReportMetric(50, "goal-ms/finalize")
			}
		})
	}
}

// BenchmarkPipeline feeds the whole pipeline — driver Read, device runner,
// engine, group commit, feedback after commit — from simulated devices and
// reports durable reads per second, beside a baseline with one commit per
// read.
func BenchmarkPipeline(b *testing.B) {
	src := benchStore(b, 100_000)
	for _, batch := range []int{1024, 1} {
		name := "devices=8/group-commit"
		if batch == 1 {
			name = "devices=8/baseline-commit-per-read"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db, err := store.Open(ctx, copyDB(b, src))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			e, err := NewEngine(ctx, db)
			if err != nil {
				b.Fatal(err)
			}
			if batch == 1 {
				// The engine's own writer with batches of one: its Flush
				// writes the batch's journal and outbox rows.
				e.w.Close()
				e.w = db.NewWriterWith(store.WriterOpts{MaxBatch: 1, Before: e.beginBatch, Flush: e.flushBatch})
			}
			defer e.Close()
			codes := e.Index.Barcodes()
			inv, _ := db.CreateInventory(ctx, "bench", catalog.Scope{}, reconcile.Policy{})
			const devices = 8
			per := (b.N + devices - 1) / devices
			var specs []DeviceSpec
			for d := 0; d < devices; d++ {
				s, _ := e.StartSession(ctx, inv.ID, store.SessionShelf, "", "", "")
				d := d
				specs = append(specs, DeviceSpec{Name: fmt.Sprint("sim", d), Kind: drivers.KindScanner, Session: s.ID,
					Open: func(ctx context.Context) (drivers.Reader, error) {
						return &scriptReader{name: fmt.Sprint("sim", d), codes: codes, from: d * per, n: per}, nil
					}})
			}
			var got sync.WaitGroup
			got.Add(devices * per)
			fb := feedbackFunc(func(string, drivers.Read, *Result, error) { got.Done() })
			devs, err := NewDevices(e, specs, 0, fb)
			if err != nil {
				b.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			b.ResetTimer()
			go devs.Run(runCtx)
			got.Wait()
			b.StopTimer()
			cancel()
			// Every read acknowledged is in the journal: a writer that
			// skipped the rows would look fast.
			var n int
			if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM reads WHERE inventory_id = ?", inv.ID).Scan(&n); err != nil || n != devices*per {
				b.Fatalf("%d reads in the journal after %d acknowledged (%v)", n, devices*per, err)
			}
			b.ReportMetric(float64(devices*per)/b.Elapsed().Seconds(), "reads/s")
			if batch > 1 {
				b.ReportMetric(40_000, "goal-reads/s")
			}
		})
	}
}

// BenchmarkLatency paces reads at 1,000/s through the pipeline and reports
// the time from a Read's decode to its feedback (after commit): p50 and
// p99, on a loaded machine (a CPU-bound process per core beside the
// benchmark) and, with GOMAXPROCS=1, as on a Pi's single busy core, beside
// the quiet machine as baseline.
func BenchmarkLatency(b *testing.B) {
	src := benchStore(b, 100_000)
	for _, c := range []struct {
		name   string
		load   bool
		procs1 bool
	}{{"loaded", true, false}, {"loaded-gomaxprocs=1", true, true}, {"baseline-quiet", false, false}} {
		b.Run("1000-reads-per-s/"+c.name, func(b *testing.B) {
			if c.procs1 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			}
			if c.load {
				stop := burnCPU(b, runtime.NumCPU())
				defer stop()
			}
			latency(b, src)
		})
	}
}

// burnCPU starts n CPU-bound processes (not goroutines: the scheduler of
// this process must not see them) and returns a function that ends them.
func burnCPU(b *testing.B, n int) func() {
	var cmds []*exec.Cmd
	for range n {
		c := exec.Command("sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			b.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	return func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}
}

func latency(b *testing.B, src string) {
	ctx := context.Background()
	db, err := store.Open(ctx, copyDB(b, src))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	e, err := NewEngine(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	codes := e.Index.Barcodes()
	inv, _ := db.CreateInventory(ctx, "bench", catalog.Scope{}, reconcile.Policy{})
	s, _ := e.StartSession(ctx, inv.ID, store.SessionShelf, "", "", "")
	n := max(b.N, 3000)
	var mu sync.Mutex
	var lat []time.Duration
	var got sync.WaitGroup
	got.Add(n)
	// The commits' own durations (BEGIN to COMMIT with its fsync), to tell
	// the store's share of the tail from the wait for a CPU.
	var commits []time.Duration
	e.Writer().OnBatch = func(_ int, d time.Duration, _ error) {
		mu.Lock()
		commits = append(commits, d)
		mu.Unlock()
	}
	fb := feedbackFunc(func(_ string, rd drivers.Read, _ *Result, _ error) {
		mu.Lock()
		lat = append(lat, time.Since(rd.Time))
		mu.Unlock()
		got.Done()
	})
	devs, _ := NewDevices(e, []DeviceSpec{{Name: "paced", Kind: drivers.KindScanner, Session: s.ID,
		Open: func(ctx context.Context) (drivers.Reader, error) {
			return &scriptReader{name: "paced", codes: codes, n: n, every: time.Millisecond}, nil
		}}}, 0, fb)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.ResetTimer()
	go devs.Run(runCtx)
	got.Wait()
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	mu.Lock()
	sort.Slice(commits, func(i, j int) bool { return commits[i] < commits[j] })
	b.ReportMetric(float64(commits[len(commits)*99/100].Microseconds())/1000, "p99-commit-ms")
	mu.Unlock()
	b.ReportMetric(10, "goal-p99-ms")
}

// BenchmarkStartup opens a store and builds the engine (integrity check,
// index, writer) with 100k and 1M items: from the index snapshot, beside
// the scan of the items table it replaces, and from the snapshot with
// GOMAXPROCS=1. The agent's resident memory is measured in a separate
// process (cmd/tally BenchmarkAgentRSS), not here.
func BenchmarkStartup(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		for _, c := range []struct {
			name         string
			scan, procs1 bool
		}{{"snapshot", false, false}, {"snapshot-gomaxprocs=1", false, true}, {"baseline-sqlite-scan", true, false}} {
			b.Run(fmt.Sprintf("items=%d/%s", n, c.name), func(b *testing.B) {
				if c.procs1 {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
				}
				ctx := context.Background()
				src := copyDB(b, benchStore(b, n)) // the fixture made (and filtered out) only when needed
				snapshot(b, src)
				var took time.Duration
				for i := 0; i < b.N; i++ {
					if c.scan {
						os.Remove(src + ".index")
					}
					start := time.Now()
					db, err := store.Open(ctx, src)
					if err != nil {
						b.Fatal(err)
					}
					e, err := NewEngine(ctx, db)
					took += time.Since(start)
					if err != nil {
						b.Fatal(err)
					}
					if e.Index.Len() < n {
						b.Fatalf("%d items", e.Index.Len())
					}
					e.Close()
					db.Close() // waits for a snapshot being written
				}
				b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/start")
				if !c.scan && n == 1_000_000 {
					b.ReportMetric(1000, "goal-ms/start")
				}
			})
		}
	}
}

type feedbackFunc func(device string, rd drivers.Read, res *Result, err error)

func (f feedbackFunc) Feedback(device string, rd drivers.Read, res *Result, err error) {
	f(device, rd, res, err)
}

// scriptReader is a device that reads codes[from:from+n] (cycling), paced
// by every (0: as fast as the pipeline takes them).
type scriptReader struct {
	name    string
	codes   []string
	from, n int
	every   time.Duration
	stop    chan struct{}
	done    chan struct{}
	errc    chan error
}

func (r *scriptReader) Name() string { return r.name }

func (r *scriptReader) Start(ctx context.Context, out chan<- drivers.Read) error {
	r.stop, r.done, r.errc = make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		defer close(r.done)
		t := time.Now()
		for i := 0; i < r.n; i++ {
			if r.every > 0 {
				t = t.Add(r.every)
				time.Sleep(time.Until(t))
			}
			code := r.codes[(r.from+i)%len(r.codes)]
			select {
			case out <- drivers.Read{Device: r.name, Kind: drivers.KindScanner, Code: code, Raw: []byte(code), Time: time.Now()}:
			case <-ctx.Done():
				return
			case <-r.stop:
				return
			}
		}
		<-ctx.Done()
	}()
	return nil
}

func (r *scriptReader) Stop() error {
	close(r.stop)
	<-r.done
	close(r.errc)
	return nil
}

func (r *scriptReader) Err() <-chan error { return r.errc }
