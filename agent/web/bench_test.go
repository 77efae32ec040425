package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/sample"
	"github.com/tally-inventory/tally/drivers"
)

// benchEnv is the demo collection (40,000 books) with a Fiction inventory.
func benchEnv(b *testing.B, books int) (*testBackend, *Server, *engine.Hub, int64, []catalog.Item) {
	o := sample.DefaultOpts
	o.Books = books
	items := sample.Generate(o)
	be := newBackend(b, items)
	hub := engine.NewHub()
	be.OnResult = hub.Publish
	s, err := New(be, hub, Opts{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	inv, err := be.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	if err != nil {
		b.Fatal(err)
	}
	ss, err := be.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	if err != nil {
		b.Fatal(err)
	}
	var fic []catalog.Item
	for _, it := range items {
		if it.Location == "Fiction" {
			fic = append(fic, it)
		}
	}
	return be, s, hub, ss.ID, fic
}

// BenchmarkSubmit is the baseline: a read committed by the engine, with
// nobody watching.
func BenchmarkSubmit(b *testing.B) {
	be, _, _, sid, fic := benchEnv(b, 40000)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		code := fic[i%len(fic)].Barcode
		if _, err := be.Submit(ctx, sid, drivers.Read{Device: "bench", Kind: drivers.KindScanner, Code: code}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/read")
}

// BenchmarkLiveRead is a read from Submit until its "read" event has
// arrived at a scan screen's event stream over HTTP: what the person at
// the shelf waits for beyond the commit.
func BenchmarkLiveRead(b *testing.B) {
	be, s, _, sid, fic := benchEnv(b, 40000)
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/sessions/%d/events", srv.URL, sid), nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	events := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "event: ") {
				events <- strings.TrimPrefix(l, "event: ")
			}
		}
		close(events)
	}()
	if ev := <-events; ev != "state" {
		b.Fatalf("first event %q", ev)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		code := fic[i%len(fic)].Barcode
		if _, err := be.Submit(ctx, sid, drivers.Read{Device: "bench", Kind: drivers.KindScanner, Code: code}); err != nil {
			b.Fatal(err)
		}
		for ev := range events {
			if ev == "read" {
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/read")
}

// BenchmarkScanPage renders a scan screen of the demo collection from the
// store: the journal replay, the missing list of the whole scope (12,000
// Fiction books) and the template.
func BenchmarkScanPage(b *testing.B) {
	be, s, _, sid, fic := benchEnv(b, 40000)
	ctx := context.Background()
	for _, it := range fic[:500] {
		if _, err := be.Submit(ctx, sid, drivers.Read{Device: "bench", Kind: drivers.KindScanner, Code: it.Barcode}); err != nil {
			b.Fatal(err)
		}
	}
	path := fmt.Sprintf("/sessions/%d", sid)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest("GET", path, nil)
		req.RemoteAddr, req.Host = "127.0.0.1:1", "127.0.0.1"
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkFeedbackP99 is the time from a read to its feedback (Submit
// returns after the commit; the beep follows) at a steady 100 reads/s,
// with nobody watching (the baseline) and with 200 scan screens open on
// the same session over real HTTP. Each op is 500 paced reads; it reports
// the p50, p99 and worst latency of all of them.
func BenchmarkFeedbackP99(b *testing.B) {
	for _, n := range []int{0, 200} {
		name := fmt.Sprintf("watchers=%d", n)
		if n == 0 {
			name = "baseline-no-watchers"
		}
		b.Run(name, func(b *testing.B) { benchFeedback(b, n) })
	}
}

func benchFeedback(b *testing.B, watchers int) {
	const reads, every = 500, 10 * time.Millisecond
	be, s, _, sid, fic := benchEnv(b, 40000)
	srv := httptest.NewServer(s)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan error, watchers)
	for range watchers {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/sessions/%d/events", srv.URL, sid), nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				ready <- err
				return
			}
			defer res.Body.Close()
			br := bufio.NewReaderSize(res.Body, 64<<10)
			first := true
			for {
				l, err := br.ReadSlice('\n')
				if err != nil && err != bufio.ErrBufferFull {
					if first {
						ready <- fmt.Errorf("stream ended before its state: %v", err)
					}
					return
				}
				if first && strings.HasPrefix(string(l), "event: state") {
					first = false
					ready <- nil
				}
			}
		}()
	}
	for range watchers {
		if err := <-ready; err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tick := time.NewTicker(every)
		for j := 0; j < reads; j++ {
			<-tick.C
			code := fic[(i*reads+j)%len(fic)].Barcode
			t0 := time.Now()
			if _, err := be.Submit(ctx, sid, drivers.Read{Device: "bench", Kind: drivers.KindScanner, Code: code, Time: t0}); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t0))
		}
		tick.Stop()
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(0, "ns/op")
}
