package drivers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// State is what a Supervisor knows about its device; the values are stable
// strings for the UI and metrics.
type State string

const (
	StateStarting     State = "starting"     // first attempt under way
	StateConnected    State = "connected"    // a Reader is running
	StateDisconnected State = "disconnected" // it went away or cannot be opened; retrying
	StateFailing      State = "failing"      // FailingAfter attempts in a row have failed; still retrying
	StateStopped      State = "stopped"      // Run has returned
)

// Factory opens a device and returns a Reader for it, not yet started. An
// error (device absent, permission denied) is retried with backoff.
type Factory func(ctx context.Context) (Reader, error)

// SupervisorOpts tunes a Supervisor. Zero fields take the defaults of
// DefaultSupervisorOpts.
type SupervisorOpts struct {
	// MinBackoff is the wait before the first retry; it doubles with every
	// failed attempt up to MaxBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// FailingAfter is how many failed attempts in a row turn the state from
	// disconnected to failing (worth a person's attention).
	FailingAfter int
	// OnState is called on every change of state, from Run's goroutine,
	// with the error that caused it (nil for connected and stopped).
	OnState func(name string, s State, err error)

	// Sleep waits d or until ctx is done; nil uses a timer. Tests inject it
	// to drive retries without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1); nil uses math/rand/v2.
	Jitter func() float64
}

// DefaultSupervisorOpts retries quickly at first (a scanner re-plugged by a
// student is back within a second) and settles at one try every 30 s.
var DefaultSupervisorOpts = SupervisorOpts{
	MinBackoff:   250 * time.Millisecond,
	MaxBackoff:   30 * time.Second,
	FailingAfter: 5,
}

// Supervisor keeps one device's Reader running: it opens it through a
// Factory, starts it, waits for it to fail or disconnect, and opens it
// again after a capped exponential backoff with jitter. A device unplugged
// and plugged back in is picked up without a restart.
type Supervisor struct {
	name    string
	factory Factory
	opts    SupervisorOpts

	mu    sync.Mutex
	state State
	err   error
}

// NewSupervisor returns a Supervisor for the device called name.
func NewSupervisor(name string, f Factory, opts SupervisorOpts) *Supervisor {
	d := DefaultSupervisorOpts
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = d.MinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = d.MaxBackoff
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = opts.MinBackoff
	}
	if opts.FailingAfter <= 0 {
		opts.FailingAfter = d.FailingAfter
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	return &Supervisor{name: name, factory: f, opts: opts, state: StateStarting}
}

// Name is the supervised device's name.
func (s *Supervisor) Name() string { return s.name }

// State returns the current state and the error behind it, if any.
func (s *Supervisor) State() (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.err
}

func (s *Supervisor) set(st State, err error) {
	s.mu.Lock()
	changed := st != s.state
	s.state, s.err = st, err
	s.mu.Unlock()
	if changed && s.opts.OnState != nil {
		s.opts.OnState(s.name, st, err)
	}
}

// Run supervises until ctx is cancelled, delivering every Reader's Reads on
// out, and returns ctx's error. The running Reader is stopped (and has
// delivered its in-flight Reads) before Run returns.
func (s *Supervisor) Run(ctx context.Context, out chan<- Read) error {
	failures := 0 // failed attempts since the last good connection
	for {
		err := s.once(ctx, out, &failures)
		if ctx.Err() != nil {
			s.set(StateStopped, nil)
			return ctx.Err()
		}
		st := StateDisconnected
		if failures >= s.opts.FailingAfter {
			st = StateFailing
		}
		s.set(st, err)
		if s.opts.Sleep(ctx, s.Backoff(failures)) != nil {
			s.set(StateStopped, nil)
			return ctx.Err()
		}
	}
}

// once opens, starts and waits for one Reader. It returns why it ended.
func (s *Supervisor) once(ctx context.Context, out chan<- Read, failures *int) error {
	r, err := s.factory(ctx)
	if err != nil {
		*failures++
		return fmt.Errorf("open %s: %w", s.name, err)
	}
	if err := r.Start(ctx, out); err != nil {
		*failures++
		r.Stop()
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	*failures = 0
	s.set(StateConnected, nil)
	select {
	case err = <-r.Err():
		r.Stop()
		if err == nil {
			err = fmt.Errorf("%s: reader ended: %w", s.name, ErrDisconnected)
		}
		*failures = 1 // the first retry after a disconnect waits MinBackoff
		return err
	case <-ctx.Done():
		r.Stop()
		return ctx.Err()
	}
}

// Backoff returns the wait before the next attempt after n failed ones:
// MinBackoff·2^(n-1), capped at MaxBackoff, with "equal jitter" (between
// half and all of it) so many agents restarted together spread out yet
// never hammer a device.
func (s *Supervisor) Backoff(n int) time.Duration {
	d := s.opts.MinBackoff
	for i := 1; i < n && d < s.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opts.MaxBackoff)
	half := d / 2
	return half + time.Duration(s.opts.Jitter()*float64(d-half))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
