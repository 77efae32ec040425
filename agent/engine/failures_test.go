package engine

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
)

// chanReader is a device whose reads the test hands it one at a time.
type chanReader struct {
	name string
	in   chan drivers.Read
	stop chan struct{}
	done chan struct{}
	errc chan error
}

func (r *chanReader) Name() string { return r.name }
func (r *chanReader) Start(ctx context.Context, out chan<- drivers.Read) error {
	r.stop, r.done, r.errc = make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		defer close(r.done)
		for {
			select {
			case rd := <-r.in:
				out <- rd
			case <-ctx.Done():
				return
			case <-r.stop:
				return
			}
		}
	}()
	return nil
}
func (r *chanReader) Stop() error                                  { close(r.stop); <-r.done; close(r.errc); return nil }
func (r *chanReader) Err() <-chan error                            { return r.errc }
func (r *chanReader) open(context.Context) (drivers.Reader, error) { return r, nil }

// fbRecorder hears every read's fate, as the buzzer would.
type fbRecorder struct {
	mu   sync.Mutex
	errs []error
	ok   int
	c    chan struct{}
}

func (f *fbRecorder) Feedback(device string, rd drivers.Read, res *Result, err error) {
	f.mu.Lock()
	if err != nil {
		f.errs = append(f.errs, err)
	} else {
		f.ok++
	}
	f.mu.Unlock()
	f.c <- struct{}{}
}

// logBuf collects Devices' log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) logf(format string, args ...any) {
	l.mu.Lock()
	fmt.Fprintf(&l.b, format+"\n", args...)
	l.mu.Unlock()
}
func (l *logBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// When the store cannot commit (here SQLite's own "database or disk is
// full"), every refused read reaches the error signal and the commit error
// hook with its reason, the device shows "not recording" until a read of it
// commits again, and the log says so once each way — not once per read.
func TestCommitFailureIsVisible(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, slices.Clone(fixture))
	inv, _ := e.DB.CreateInventory(ctx, "Fiction", catalog.Scope{Locations: []string{"Fiction"}}, reconcile.DefaultPolicy)
	s, _ := e.DB.StartSession(ctx, inv.ID, "shelf", "", "", "")
	var reasons []string
	var rmu sync.Mutex
	e.OnCommitError = func(rd drivers.Read, reason string, err error) {
		rmu.Lock()
		reasons = append(reasons, reason)
		rmu.Unlock()
	}
	dev := &chanReader{name: "desk", in: make(chan drivers.Read)}
	fb := &fbRecorder{c: make(chan struct{}, 16)}
	d, err := NewDevices(e, []DeviceSpec{{Name: "desk", Kind: drivers.KindScanner, Open: dev.open, Session: s.ID}}, 0, fb)
	if err != nil {
		t.Fatal(err)
	}
	var log logBuf
	d.Logf = log.logf
	runCtx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	go func() { d.Run(runCtx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	read := func(code string, raw []byte) {
		t.Helper()
		select {
		case dev.in <- drivers.Read{Device: "desk", Kind: drivers.KindScanner, Code: code, Raw: raw, Time: time.Now()}:
		case <-time.After(30 * time.Second):
			t.Fatal("the device was never started")
		}
		<-fb.c
	}
	state := func() DeviceStatus { return d.Status()[0] }

	read("F1", nil)
	if st := state(); st.State != string(drivers.StateConnected) {
		t.Fatalf("state %q after a good read", st.State)
	}
	// The disk is full: the database may not grow, and a read with a large
	// raw payload needs new pages.
	if err := e.w.Do(ctx, store.Func(func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRow("PRAGMA page_count").Scan(&n); err != nil {
			return err
		}
		_, err := tx.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", n))
		return err
	})); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 256<<10)
	for _, code := range []string{"F2", "F3", "F4"} {
		read(code, big)
	}
	fb.mu.Lock()
	nerr := len(fb.errs)
	fb.mu.Unlock()
	if nerr != 3 {
		t.Fatalf("%d reads reached the error signal, want 3", nerr)
	}
	rmu.Lock()
	got := strings.Join(reasons, ",")
	rmu.Unlock()
	if got != "disk_full,disk_full,disk_full" {
		t.Errorf("commit error reasons %q, want disk_full three times", got)
	}
	if st := state(); st.State != StateNotRecording || !strings.Contains(st.Error, "full") {
		t.Errorf("device state %q (%s) while nothing commits, want %s", st.State, st.Error, StateNotRecording)
	}
	// Space again: the next read commits and the device records again.
	if err := e.w.Do(ctx, store.Func(func(tx *sql.Tx) error {
		_, err := tx.Exec("PRAGMA max_page_count = 1073741823")
		return err
	})); err != nil {
		t.Fatal(err)
	}
	read("F2", nil)
	if st := state(); st.State != string(drivers.StateConnected) {
		t.Errorf("state %q after the store accepts reads again", st.State)
	}
	lines := log.String()
	if n := strings.Count(lines, "device desk: not recording"); n != 1 {
		t.Errorf("%d 'not recording' lines for three refused reads, want 1:\n%s", n, lines)
	}
	if n := strings.Count(lines, "device desk: recording again"); n != 1 {
		t.Errorf("%d 'recording again' lines, want 1:\n%s", n, lines)
	}
	if n := strings.Count(lines, "device desk: connected"); n != 1 {
		t.Errorf("%d 'connected' lines, want 1:\n%s", n, lines)
	}
}

func TestErrorReason(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t, slices.Clone(fixture))
	err := e.w.Do(ctx, store.Func(func(tx *sql.Tx) error {
		_, err := tx.Exec("INSERT INTO meta (key, value) VALUES ('catalog_rev', '1')")
		return err
	}))
	if r := store.ErrorReason(err); r != "constraint" {
		t.Errorf("duplicate key: reason %q (%v), want constraint", r, err)
	}
	if r := store.ErrorReason(fmt.Errorf("wrapped: %w", context.Canceled)); r != "other" {
		t.Errorf("a non-SQLite error: reason %q, want other", r)
	}
}
