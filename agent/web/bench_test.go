package web

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/sample"
	"github.com/tally-inventory/tally/drivers"
)

// benchEnv is the demo collection (40,000 books) with a Fiction inventory.
func benchEnv(b *testing.B, books int) (*testBackend, *Server, *agent.Hub, int64, []catalog.Item) {
	o := sample.DefaultOpts
	o.Books = books
	items := sample.Generate(o)
	be := newBackend(b, items)
	hub := agent.NewHub()
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
