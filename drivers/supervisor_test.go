package drivers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeReader is a Reader the test drives: it delivers the Reads it is
// given and fails when the test says so.
type fakeReader struct {
	name     string
	startErr error
	reads    []Read
	errc     chan error

	mu      sync.Mutex
	started bool
	stopped bool
	wg      sync.WaitGroup
}

func newFakeReader(name string, reads ...Read) *fakeReader {
	return &fakeReader{name: name, reads: reads, errc: make(chan error, 1)}
}

func (f *fakeReader) Name() string      { return f.name }
func (f *fakeReader) Err() <-chan error { return f.errc }
func (f *fakeReader) fail(err error)    { f.errc <- err }
func (f *fakeReader) wasStopped() bool  { f.mu.Lock(); defer f.mu.Unlock(); return f.stopped }
func (f *fakeReader) Start(ctx context.Context, out chan<- Read) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return f.startErr
	}
	f.started = true
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for _, r := range f.reads {
			select {
			case out <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}
func (f *fakeReader) Stop() error {
	f.wg.Wait()
	f.mu.Lock()
	f.stopped = true
	f.mu.Unlock()
	return nil
}

type stateChange struct {
	s   State
	err error
}

// harness runs a Supervisor whose factory hands out whatever the test
// pushes on next, and whose sleeps are recorded instead of waited.
type harness struct {
	t      *testing.T
	sup    *Supervisor
	next   chan func() (Reader, error)
	sleeps chan time.Duration
	states chan stateChange
	out    chan Read
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T, opts SupervisorOpts) *harness {
	h := &harness{
		t:      t,
		next:   make(chan func() (Reader, error)),
		sleeps: make(chan time.Duration, 100),
		states: make(chan stateChange, 100),
		out:    make(chan Read),
		done:   make(chan error, 1),
	}
	opts.OnState = func(name string, s State, err error) {
		if name != "desk" {
			t.Errorf("OnState name %q", name)
		}
		h.states <- stateChange{s, err}
	}
	opts.Sleep = func(ctx context.Context, d time.Duration) error {
		h.sleeps <- d
		return ctx.Err()
	}
	opts.Jitter = func() float64 { return 0.5 }
	h.sup = NewSupervisor("desk", func(ctx context.Context) (Reader, error) {
		select {
		case f := <-h.next:
			return f()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, opts)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.sup.Run(ctx, h.out) }()
	return h
}

func (h *harness) open(r Reader, err error) {
	h.t.Helper()
	select {
	case h.next <- func() (Reader, error) { return r, err }:
	case <-time.After(5 * time.Second):
		h.t.Fatal("supervisor did not call the factory")
	}
}

func (h *harness) wantState(s State) stateChange {
	h.t.Helper()
	select {
	case c := <-h.states:
		if c.s != s {
			h.t.Fatalf("state %s (%v), want %s", c.s, c.err, s)
		}
		if got, _ := h.sup.State(); got != s {
			h.t.Fatalf("State() = %s, want %s", got, s)
		}
		return c
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no state change, want %s", s)
	}
	return stateChange{}
}

func (h *harness) wantSleep(d time.Duration) {
	h.t.Helper()
	select {
	case got := <-h.sleeps:
		if got != d {
			h.t.Fatalf("backoff %v, want %v", got, d)
		}
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no backoff, want %v", d)
	}
}

func (h *harness) wantRead(code string) {
	h.t.Helper()
	select {
	case r := <-h.out:
		if r.Code != code {
			h.t.Fatalf("read %q, want %q", r.Code, code)
		}
	case <-time.After(5 * time.Second):
		h.t.Fatalf("no read, want %q", code)
	}
}

func TestSupervisorHotPlug(t *testing.T) {
	h := newHarness(t, SupervisorOpts{MinBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond, FailingAfter: 3})
	absent := errors.New("no HID device matches")

	// Not plugged in at start: retried with growing backoff (jitter 0.5 → ¾ of the step).
	h.open(nil, absent)
	c := h.wantState(StateDisconnected)
	if !errors.Is(c.err, absent) {
		t.Fatalf("disconnected error %v, want it to wrap %v", c.err, absent)
	}
	h.wantSleep(75 * time.Millisecond)
	h.open(nil, absent)
	h.wantSleep(150 * time.Millisecond)

	// Plugged in: connected, reads flow.
	a := newFakeReader("desk", Read{Code: "30234000517861"}, Read{Code: "30234000517879"})
	h.open(a, nil)
	h.wantState(StateConnected)
	h.wantRead("30234000517861")
	h.wantRead("30234000517879")

	// Unplugged: disconnected, and the backoff starts over from MinBackoff.
	a.fail(fmt.Errorf("read: %w", ErrDisconnected))
	c = h.wantState(StateDisconnected)
	if !errors.Is(c.err, ErrDisconnected) {
		t.Fatalf("disconnect error %v, want ErrDisconnected", c.err)
	}
	if !a.wasStopped() {
		t.Fatal("failed reader was not stopped")
	}
	h.wantSleep(75 * time.Millisecond)

	// Stays away: failing after FailingAfter attempts; backoff capped.
	h.open(nil, absent) // 2
	h.wantSleep(150 * time.Millisecond)
	h.open(nil, absent) // 3
	h.wantState(StateFailing)
	h.wantSleep(225 * time.Millisecond) // capped at 300 ms
	bad := newFakeReader("desk")
	bad.startErr = errors.New("claim interface: busy")
	h.open(bad, nil) // 4: a reader that cannot start counts as a failure
	h.wantSleep(225 * time.Millisecond)
	if !bad.wasStopped() {
		t.Fatal("reader that failed to start was not stopped")
	}

	// Plugged back in: picked up again without a restart.
	b := newFakeReader("desk", Read{Code: "30234000517887"})
	h.open(b, nil)
	h.wantState(StateConnected)
	h.wantRead("30234000517887")

	h.cancel()
	h.wantState(StateStopped)
	if err := <-h.done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	if !b.wasStopped() {
		t.Fatal("running reader was not stopped when Run returned")
	}
}

// A Reader that ends without an error while the supervisor still runs is a
// disconnect too, not a reason to give up.
func TestSupervisorCleanEndIsDisconnect(t *testing.T) {
	h := newHarness(t, SupervisorOpts{MinBackoff: time.Second, MaxBackoff: time.Minute})
	a := newFakeReader("desk")
	h.open(a, nil)
	h.wantState(StateConnected)
	a.fail(nil)
	c := h.wantState(StateDisconnected)
	if !errors.Is(c.err, ErrDisconnected) {
		t.Fatalf("error %v, want ErrDisconnected", c.err)
	}
	h.wantSleep(750 * time.Millisecond)
	h.cancel()
	h.wantState(StateStopped)
	<-h.done
}

func TestSupervisorBackoff(t *testing.T) {
	for _, tc := range []struct {
		jitter float64
		want   []time.Duration // for n = 1..7
	}{
		{0, []time.Duration{50, 100, 200, 400, 500, 500, 500}},
		{0.5, []time.Duration{75, 150, 300, 600, 750, 750, 750}},
		{0.999999, []time.Duration{99, 199, 399, 799, 999, 999, 999}},
	} {
		s := NewSupervisor("x", nil, SupervisorOpts{
			MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second,
			Jitter: func() float64 { return tc.jitter },
		})
		for i, w := range tc.want {
			got := s.Backoff(i + 1).Truncate(time.Millisecond)
			if got != w*time.Millisecond {
				t.Errorf("jitter %v: Backoff(%d) = %v, want %v", tc.jitter, i+1, got, w*time.Millisecond)
			}
		}
	}
	// No overflow far out.
	s := NewSupervisor("x", nil, SupervisorOpts{MinBackoff: time.Second, MaxBackoff: time.Hour, Jitter: func() float64 { return 0 }})
	if got := s.Backoff(1000); got != 30*time.Minute {
		t.Errorf("Backoff(1000) = %v, want 30m", got)
	}
}
