package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/internal/benchdb"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/sample"
)

var benchDBs sync.Map // size → path

// benchDB returns a database holding n generated books (and the sample's
// carts), this run's own copy of the one kept across runs and packages
// (benchdb), made by importing them once.
func benchDB(b *testing.B, n int) string {
	if p, ok := benchDBs.Load(n); ok {
		return p.(string)
	}
	o := sample.DefaultOpts
	o.Books = n
	src, err := benchdb.Path(o, SchemaVersion(), benchdb.ImportRecipe, Create)
	if err != nil {
		b.Fatal(err)
	}
	path, err := benchdb.RunCopy(src)
	if err != nil {
		b.Fatal(err)
	}
	benchDBs.Store(n, path)
	return path
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkIndexBuild loads the index from the store, beside a baseline
// that loads the same rows into a plain map of Items. bytes/item is the
// heap the index holds beyond the strings' own bytes.
func BenchmarkIndexBuild(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		path := benchDB(b, n)
		ctx := context.Background()
		db, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("items=%d/index", n), func(b *testing.B) {
			var x *catalog.Index
			var extra float64
			var took time.Duration
			for i := 0; i < b.N; i++ {
				x = nil
				before := heapInUse()
				start := time.Now()
				x, err = db.ScanIndex(ctx)
				took += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				after := heapInUse()
				extra = (float64(after) - float64(before) - float64(stringBytes(x))) / float64(x.Len())
			}
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/build")
			b.ReportMetric(extra, "bytes/item")
			runtime.KeepAlive(x)
		})
		b.Run(fmt.Sprintf("items=%d/baseline-map", n), func(b *testing.B) {
			var m map[string]catalog.Item
			var extra float64
			var took time.Duration
			for i := 0; i < b.N; i++ {
				m = nil
				before := heapInUse()
				start := time.Now()
				m, err = loadMap(ctx, db)
				took += time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				after := heapInUse()
				var sb int
				for _, it := range m {
					sb += len(it.Barcode) + len(it.Title) + len(it.Author) + len(it.CallNumber)
				}
				extra = (float64(after) - float64(before) - float64(sb)) / float64(len(m))
			}
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/build")
			b.ReportMetric(extra, "bytes/item")
			runtime.KeepAlive(m)
		})
		db.Close()
	}
}

// BenchmarkIndexStart is the index at start-up: decoded from its snapshot
// file (nothing changed since it was written), beside the scan of the
// items table it replaces.
func BenchmarkIndexStart(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		ctx := context.Background()
		db, err := Open(ctx, benchDB(b, n))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.LoadIndex(ctx); err != nil { // writes the snapshot when there is none
			b.Fatal(err)
		}
		db.bg.Wait()
		for _, snap := range []bool{true, false} {
			name := fmt.Sprintf("items=%d/snapshot", n)
			if !snap {
				name = fmt.Sprintf("items=%d/baseline-sqlite-scan", n)
			}
			b.Run(name, func(b *testing.B) {
				var x *catalog.Index
				for i := 0; i < b.N; i++ {
					x = nil
					var info IndexLoad
					if snap {
						x, info, err = db.LoadIndexInfo(ctx)
						if err == nil && !info.FromSnapshot {
							b.Fatalf("snapshot not used: %s", info.Why)
						}
					} else {
						x, err = db.ScanIndex(ctx)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
				if n == 1_000_000 && snap {
					b.ReportMetric(1000, "goal-ms/load")
				}
				runtime.KeepAlive(x)
			})
		}
		db.Close()
	}
}

// stringBytes is the size of the per-item strings the index keeps.
func stringBytes(x *catalog.Index) int {
	n := 0
	x.Each(func(ref catalog.Ref, it *catalog.Item) bool {
		n += len(it.Barcode) + len(it.Title) + len(it.Author) + len(it.CallNumber) + len(x.SortKey(ref))
		return true
	})
	return n
}

func loadMap(ctx context.Context, db *DB) (map[string]catalog.Item, error) {
	rows, err := db.SQL.QueryContext(ctx, "SELECT "+itemCols+" FROM items")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[string]catalog.Item{}
	for rows.Next() {
		var it catalog.Item
		var st, kind string
		var due, seen int64
		if err := rows.Scan(&it.Barcode, &it.Title, &it.Author, &it.CallNumber, &it.Library,
			&it.Location, &it.Collection, &it.ItemType, &st, &due, &seen, &it.Price, &kind,
			&it.Container, &it.AssetTag, &it.Serial, &it.RFID, &it.HoldWaiting, &it.Year); err != nil {
			return nil, err
		}
		it.Status, it.Kind = catalog.Status(st), catalog.Kind(kind)
		it.DueDate, it.LastSeen = fromDays(due), fromDays(seen)
		m[it.Barcode] = it
	}
	return m, rows.Err()
}

// BenchmarkJournal measures durable reads per second: many concurrent
// callers sharing group commits, beside a baseline of one transaction per
// read.
func BenchmarkJournal(b *testing.B) {
	run := func(b *testing.B, group bool) {
		ctx := context.Background()
		db, err := Open(ctx, filepath.Join(b.TempDir(), "j.db"))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		if _, err := db.CreateInventory(ctx, "bench", catalog.Scope{}, defaultPolicy()); err != nil {
			b.Fatal(err)
		}
		s, _ := db.StartSession(ctx, 1, "shelf", "", "", "")
		// What a first sighting costs the store: its journal row, flagged
		// as the first sighting, gathered without a savepoint (a Lean job,
		// as the engine's) and written with the batch's others at its end.
		var jn Journal
		w := db.NewWriterWith(WriterOpts{MaxBatch: 1024,
			Before: func(*sql.Tx) error { jn.Reset(); return nil },
			Flush:  func(tx *sql.Tx) error { return db.Tx(tx).InsertJournal(&jn) }})
		defer w.Close()
		job := func(i int) Job {
			return &leanRead{run: func(tx *sql.Tx) error {
				code := "C" + strconv.Itoa(i)
				_, err := db.Tx(tx).AddRead(&jn, &ReadRow{SessionID: s.ID, InventoryID: 1, At: time.Now(), Code: code, Barcode: code, Outcome: "ok"}, true)
				return err
			}}
		}
		b.ResetTimer()
		if group {
			// 64 devices, each with up to 16 reads in flight, as the
			// engine's device runners keep them (SubmitAsync): a commit
			// then takes what arrived during the one before.
			var wg sync.WaitGroup
			per := (b.N + 63) / 64
			for g := 0; g < 64; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					inflight := make(chan (<-chan error), 16)
					wait := func() bool {
						if err := <-<-inflight; err != nil {
							b.Error(err)
							return false
						}
						return true
					}
					for i := 0; i < per; i++ {
						if len(inflight) == cap(inflight) && !wait() {
							return
						}
						done, err := w.Enqueue(ctx, job(g*per+i))
						if err != nil {
							b.Error(err)
							return
						}
						inflight <- done
					}
					for len(inflight) > 0 && wait() {
					}
				}(g)
			}
			wg.Wait()
			b.ReportMetric(float64(per*64)/b.Elapsed().Seconds(), "reads/s")
			b.ReportMetric(100_000, "goal-reads/s")
		} else {
			for i := 0; i < b.N; i++ {
				if err := w.Do(ctx, job(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
		}
	}
	b.Run("group-commit", func(b *testing.B) { run(b, true) })
	b.Run("baseline-commit-per-read", func(b *testing.B) { run(b, false) })
}

type leanRead struct{ run func(*sql.Tx) error }

func (j *leanRead) Run(tx *sql.Tx) error { return j.run(tx) }
func (*leanRead) Committed()             {}
func (*leanRead) Aborted(error)          {}
func (*leanRead) Lean()                  {}

func defaultPolicy() reconcile.Policy { return reconcile.DefaultPolicy }

// BenchmarkReconcile is the per-read decision against a 1M-item index, as
// the engine makes it (readJob.Run): the normalized code's Find, which hands
// the rules what they read without building an Item, then the outcome
// rules. Beside it a baseline that looks each read up in SQLite, as
// per-item tools do. The codes are fresh strings, as a device's reads are,
// not the index's own memory.
func BenchmarkReconcile(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, benchDB(b, 1_000_000))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	x, err := db.LoadIndex(ctx)
	if err != nil {
		b.Fatal(err)
	}
	codes := x.Barcodes()
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
	for i, c := range codes {
		codes[i] = strings.Clone(c)
	}
	scope := &catalog.Scope{Locations: []string{"Fiction"}, SkipStatuses: []catalog.Status{catalog.StatusCheckedOut}}
	ok := reconcile.Check{Valid: true}
	b.Run("index", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for i := 0; i < b.N; i++ {
			var item *catalog.Hit
			h, found := x.Find(catalog.NormalizeID(codes[i%len(codes)]))
			if found {
				item = &h
			}
			res := reconcile.Evaluate(ok, item, false, scope, reconcile.ShelfMode, "")
			if res.Outcome == reconcile.OK {
				n++
			}
		}
		if b.N >= 1000 && n == 0 {
			b.Fatal("no read was ok")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/read")
		b.ReportMetric(300, "goal-ns/read")
	})
	b.Run("baseline-sql-lookup", func(b *testing.B) {
		st, err := db.SQL.PrepareContext(ctx, "SELECT "+itemCols+" FROM items WHERE barcode = ?")
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var it catalog.Item
			var st2, kind string
			var due, seen int64
			err := st.QueryRowContext(ctx, codes[i%len(codes)]).Scan(&it.Barcode, &it.Title, &it.Author, &it.CallNumber, &it.Library,
				&it.Location, &it.Collection, &it.ItemType, &st2, &due, &seen, &it.Price, &kind,
				&it.Container, &it.AssetTag, &it.Serial, &it.RFID, &it.HoldWaiting, &it.Year)
			if err != nil {
				b.Fatal(err)
			}
			h := catalog.Hit{Barcode: it.Barcode, Title: it.Title, CallNumber: it.CallNumber, Library: it.Library,
				Location: it.Location, Collection: it.Collection, ItemType: it.ItemType, Container: it.Container,
				Status: catalog.Status(st2), Kind: catalog.Kind(kind), HoldWaiting: it.HoldWaiting}
			reconcile.Evaluate(ok, &h, false, scope, reconcile.ShelfMode, "")
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/read")
	})
}

// BenchmarkImportCSV imports a 100k-row tally CSV: parse, validate, one
// transaction. The baseline only reads the CSV records.
func BenchmarkImportCSV(b *testing.B) {
	o := sample.DefaultOpts
	o.Books, o.Carts = 100_000, 0
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(catalog.Columns)
	for _, it := range sample.Generate(o) {
		row := []string{it.Barcode, it.Title, it.Author, it.CallNumber, it.Library, it.Location, it.Collection,
			it.ItemType, string(it.Status), "", it.LastSeen.Format("2006-01-02"), fmt.Sprintf("%d.%02d", it.Price/100, it.Price%100),
			string(it.Kind), "", "", "", "", "", yearText(it.Year)}
		// Columns added later stay empty: the row is as wide as the header.
		w.Write(append(row, make([]string, len(catalog.Columns)-len(row))...))
	}
	w.Flush()
	data := buf.Bytes()
	b.Run("rows=100000/import", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db, err := Open(context.Background(), filepath.Join(b.TempDir(), fmt.Sprint("i", i, ".db")))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			recs, bad, err := catalog.Parse(bytes.NewReader(data), "bench.csv", catalog.FormatAuto)
			if err != nil || len(bad) > 0 {
				b.Fatalf("%v; %d rows refused, the first: %v", err, len(bad), bad[:min(1, len(bad))])
			}
			items := make([]catalog.Item, len(recs))
			for j, r := range recs {
				items[j] = r.Item
			}
			if _, err := db.Import(context.Background(), nil, "bench.csv", "csv", items, false, 0); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/import")
	})
	b.Run("rows=100000/baseline-csv-read", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := csv.NewReader(bytes.NewReader(data))
			for {
				if _, err := r.Read(); err != nil {
					break
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/import")
	})
}

// yearText is a CSV year cell: empty when unknown.
func yearText(y int) string {
	if y == 0 {
		return ""
	}
	return fmt.Sprint(y)
}
