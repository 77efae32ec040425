package web

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// stuckWriter is a screen that takes nothing until let go.
type stuckWriter struct {
	h    http.Header
	gate chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (w *stuckWriter) Header() http.Header { return w.h }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) Flush()              {}
func (w *stuckWriter) Write(b []byte) (int, error) {
	<-w.gate
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

// liveStream follows a session's event stream over real HTTP and counts
// its events by name.
func liveStream(t *testing.T, ctx context.Context, url string) (func(string) int, chan string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	var mu sync.Mutex
	counts := map[string]int{}
	evc := make(chan string, 1024)
	go func() {
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				mu.Lock()
				counts[ev]++
				mu.Unlock()
				select {
				case evc <- ev:
				default:
				}
			}
		}
	}()
	return func(ev string) int { mu.Lock(); defer mu.Unlock(); return counts[ev] }, evc
}

// TestStuckWatcherNeverBlocksPublisher: a screen that takes nothing does
// not hold up the reads (every Submit returns), the other screens get
// every read, and the stuck one is dropped and told to reload.
func TestStuckWatcherNeverBlocksPublisher(t *testing.T) {
	e := newEnv(t, Opts{})
	srv := httptest.NewServer(e.s)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stuck := &stuckWriter{h: http.Header{}, gate: make(chan struct{})}
	req := httptest.NewRequest("GET", "/sessions/1/events", nil).WithContext(ctx)
	req.SetPathValue("id", "1")
	handlerDone := make(chan struct{})
	go func() { e.s.events(stuck, req); close(handlerDone) }()

	count, evc := liveStream(t, ctx, srv.URL+"/sessions/1/events")
	if ev := <-evc; ev != "state" {
		t.Fatalf("first event %q", ev)
	}
	const n = 5 * watcherBuffer
	codes := []string{"F1", "F2", "F3", "F4", "F5", "N1", "NOPE-1"}
	published := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			if _, err := e.b.Submit(ctx, e.sess, drivers.Read{Device: "t", Kind: drivers.KindScanner, Code: codes[i%len(codes)]}); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	select {
	case err := <-published:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // a bound for a loaded machine, not a measurement
		t.Fatalf("the publisher is blocked behind a stuck screen")
	}
	for end := time.Now().Add(time.Minute); count("read") < n && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := count("read"); got != n {
		t.Fatalf("the healthy screen got %d of %d reads", got, n)
	}
	if count("reload") != 0 {
		t.Fatal("the healthy screen was told to reload")
	}
	// Let the stuck screen go: it gets what it had queued, then "reload",
	// and its stream ends.
	close(stuck.gate)
	select {
	case <-handlerDone:
	case <-time.After(time.Minute):
		t.Fatal("the stuck screen's stream did not end")
	}
	body := stuck.buf.String()
	if !strings.HasSuffix(body, "event: reload\ndata: {}\n\n") {
		t.Fatalf("the stuck screen was not told to reload; it got %d bytes ending %q", len(body), body[max(0, len(body)-200):])
	}
	if got := strings.Count(body, "event: read\n"); got >= n {
		t.Fatalf("the stuck screen got all %d reads: it was never behind", got)
	}
	e.s.mu.Lock()
	open := e.s.watchers
	e.s.mu.Unlock()
	if open != 1 {
		t.Fatalf("%d screens counted open, want 1", open)
	}
}

// TestWatcherCap: screens beyond Opts.MaxWatchers are refused, and a
// place frees up when one closes.
func TestWatcherCap(t *testing.T) {
	e := newEnv(t, Opts{MaxWatchers: 3})
	srv := httptest.NewServer(e.s)
	defer srv.Close()
	var cancels []context.CancelFunc
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		_, evc := liveStream(t, ctx, fmt.Sprintf("%s/sessions/%d/events", srv.URL, 1+i%2))
		if ev := <-evc; ev != "state" {
			t.Fatalf("screen %d: first event %q", i, ev)
		}
	}
	res, err := http.Get(srv.URL + "/sessions/1/events")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth screen: %d, want 503 with Retry-After", res.StatusCode)
	}
	cancels[0]()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		e.s.mu.Lock()
		n := e.s.watchers
		e.s.mu.Unlock()
		if n == 2 {
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, evc := liveStream(t, ctx, srv.URL+"/sessions/2/events"); <-evc != "state" {
		t.Fatal("no state after a place freed up")
	}
	for _, c := range cancels {
		c()
	}
}

// TestManyWatchersGetEveryRead: with more screens than batchAbove the
// events go out in batches; every screen still gets every read, and is
// never told to reload.
func TestManyWatchersGetEveryRead(t *testing.T) {
	e := newEnv(t, Opts{})
	srv := httptest.NewServer(e.s)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type screen struct {
		count func(string) int
		evc   chan string
	}
	var screens []screen
	for i := 0; i < batchAbove+4; i++ {
		count, evc := liveStream(t, ctx, srv.URL+"/sessions/1/events")
		if <-evc != "state" {
			t.Fatal("no state")
		}
		screens = append(screens, screen{count, evc})
	}
	codes := []string{"F1", "F2", "F3", "F4", "F5", "N1", "NOPE-1", "F6"}
	const n = 40
	for i := 0; i < n; i++ {
		e.read(t, e.sess, codes[i%len(codes)])
	}
	for i, sc := range screens {
		for end := time.Now().Add(time.Minute); sc.count("read") < n && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		if got := sc.count("read"); got != n {
			t.Errorf("screen %d got %d of %d reads", i, got, n)
		}
		if sc.count("reload") != 0 {
			t.Errorf("screen %d was told to reload", i)
		}
	}
}
