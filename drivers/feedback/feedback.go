// Package feedback tells the person holding the scanner what each read
// meant, with a buzzer and LEDs on GPIO pins (periph.io gpio.PinOut), so a
// student assistant can scan a shelf without watching a screen.
//
// The outcome table is Patterns (see there). Pins are opened by name in
// cmd/ through periph.io/x/host; this package only drives gpio.PinOut, so
// tests use gpiotest pins and a fake Clock.
//
// Timing policy: Signal never waits for sound. A single player goroutine
// plays one pattern at a time and holds at most one more in reserve:
//
//   - the newest signal wins: it cuts the pattern playing short, so
//     feedback keeps up with a scanner reading several codes a second;
//   - except that an alarm (Pattern.Alarm: unknown, invalid, wrong place,
//     …) is not cut short by a routine signal (ok, duplicate, present):
//     the routine one waits in reserve and plays when the alarm ends. A
//     newer alarm does cut an alarm. A newer signal replaces whatever was
//     in reserve.
//
// So a problem is always heard in full, and a run of ok reads never builds
// up a backlog of beeps.
package feedback

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Sink is anything that can give feedback on an outcome: GPIO (Dev), a
// scanner's own beeper, the live UI. The runtime fans out with Multi.
type Sink interface {
	Signal(ctx context.Context, outcome string) error
}

// Multi signals every sink and joins their errors.
type Multi []Sink

// Signal implements Sink.
func (m Multi) Signal(ctx context.Context, outcome string) error {
	var errs []error
	for _, s := range m {
		if err := s.Signal(ctx, outcome); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Clock makes timers. Tests inject a fake one so patterns play in virtual
// time; nil means real time.
type Clock interface {
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the player uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realClock struct{}

type realTimer struct{ t *time.Timer }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }
func (t realTimer) C() <-chan time.Time          { return t.t.C }
func (t realTimer) Stop() bool                   { return t.t.Stop() }

// Opts configures a Dev.
type Opts struct {
	// Clock times the patterns; nil is real time.
	Clock Clock
	// PWM drives the buzzer with PWM at each step's pitch (a passive piezo).
	// False drives it High/Low (an active buzzer with its own oscillator).
	PWM bool
	// LEDHold keeps the outcome colour lit after the sound ends, so a 60 ms
	// ok is still visible. A newer signal ends it.
	LEDHold time.Duration
	// Patterns replaces the default table; nil uses Patterns.
	Patterns map[string]Pattern
}

// DefaultOpts suits an active buzzer and a bi-colour LED.
var DefaultOpts = Opts{LEDHold: 400 * time.Millisecond}

// ErrStopped is returned by Signal after Stop.
var ErrStopped = errors.New("feedback: stopped")

type request struct {
	outcome string
	p       Pattern
}

// Dev plays outcome patterns on a buzzer and a green and a red LED.
type Dev struct {
	buzzer, green, red gpio.PinOut
	opts               Opts
	clock              Clock
	patterns           map[string]Pattern

	wake chan struct{} // cap 1: something changed under mu
	done chan struct{} // closed when the player has exited

	mu       sync.Mutex
	next     request // to play next, when hasNext
	hasNext  bool
	preempt  bool // next cuts the current pattern short
	playing  bool
	alarm    bool // the sound playing is an alarm
	stopping bool
	err      error // first pin error not yet reported
	// seq counts Signals; seen is seq when the player last looked at the
	// state. Tests use them to know the player has caught up.
	seq, seen uint64

	// Pin state, owned by the player goroutine.
	on             bool
	greenOn, redOn bool
}

var _ Sink = (*Dev)(nil)

// New returns a Dev driving the given pins; any of them may be nil (a
// board with no buzzer, say), not all. All pins are set Low.
func New(buzzer, green, red gpio.PinOut, opts Opts) (*Dev, error) {
	if buzzer == nil && green == nil && red == nil {
		return nil, errors.New("feedback: no pins; give at least a buzzer or an LED")
	}
	d := &Dev{
		buzzer: buzzer, green: green, red: red, opts: opts,
		clock: opts.Clock, patterns: opts.Patterns,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	if d.clock == nil {
		d.clock = realClock{}
	}
	if d.patterns == nil {
		d.patterns = Patterns
	}
	for _, p := range []gpio.PinOut{buzzer, green, red} {
		if p == nil {
			continue
		}
		if err := p.Out(gpio.Low); err != nil {
			return nil, fmt.Errorf("feedback: set %s low: %w", p, err)
		}
	}
	go d.run()
	return d, nil
}

// Signal queues the pattern for outcome and returns at once (see the
// package comment for how it interacts with the pattern playing). An
// outcome missing from the table plays the error pattern and returns an
// error. A pin failure from an earlier pattern is reported once, here or
// by Stop.
func (d *Dev) Signal(ctx context.Context, outcome string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, ok := d.patterns[outcome]
	var errs []error
	if !ok {
		p = d.patterns[Error]
		errs = append(errs, fmt.Errorf("feedback: no pattern for outcome %q; played %q instead", outcome, Error))
	}
	d.mu.Lock()
	if d.stopping {
		d.mu.Unlock()
		return ErrStopped
	}
	d.seq++
	d.next, d.hasNext = request{outcome: outcome, p: p}, true
	d.preempt = p.Alarm || !(d.playing && d.alarm)
	if d.err != nil {
		errs = append(errs, d.err)
		d.err = nil
	}
	d.mu.Unlock()
	d.notify()
	return errors.Join(errs...)
}

// Stop lets the pattern playing and the one in reserve finish, turns every
// pin off and waits for that; it returns any pin error not yet reported.
// Signal fails with ErrStopped afterwards.
func (d *Dev) Stop() error {
	d.mu.Lock()
	d.stopping = true
	d.mu.Unlock()
	d.notify()
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	err := d.err
	d.err = nil
	return err
}

func (d *Dev) notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Dev) run() {
	defer close(d.done)
	for {
		r := d.take()
		if r == nil {
			break
		}
		d.play(r.p)
	}
	d.buzz(false, Step{})
	d.light(Dark)
}

// take waits for the next request; nil once stopping and nothing is left.
// The pins are off before the player counts as idle.
func (d *Dev) take() *request {
	for {
		d.mu.Lock()
		d.seen = d.seq
		if d.hasNext {
			r := d.next
			d.next, d.hasNext = request{}, false
			d.playing, d.alarm = true, r.p.Alarm
			d.mu.Unlock()
			return &r
		}
		stopping := d.stopping
		d.mu.Unlock()
		if stopping {
			return nil
		}
		d.buzz(false, Step{})
		d.light(Dark)
		d.mu.Lock()
		idle := !d.hasNext && !d.stopping
		if idle {
			d.playing, d.alarm = false, false
		}
		d.mu.Unlock()
		if idle {
			<-d.wake
		}
	}
}

// play sounds p; it returns early when a newer request may cut it.
func (d *Dev) play(p Pattern) {
	d.light(p.Light)
	for _, s := range p.Steps {
		d.buzz(true, s)
		if !d.wait(s.On, false) {
			d.buzz(false, Step{})
			return
		}
		d.buzz(false, Step{})
		if s.Off > 0 && !d.wait(s.Off, false) {
			return
		}
	}
	d.mu.Lock()
	d.alarm = false // the sound is over; anything may end the LED hold
	d.mu.Unlock()
	if d.opts.LEDHold > 0 {
		d.wait(d.opts.LEDHold, true)
	}
}

// wait sleeps for dur; false if a request arrived that may cut the
// pattern (any request when anyQueued, else only a preempting one).
func (d *Dev) wait(dur time.Duration, anyQueued bool) bool {
	if d.cut(anyQueued, nil) {
		return false
	}
	t := d.clock.NewTimer(dur)
	for {
		select {
		case <-t.C():
			return true
		case <-d.wake:
			// Stop, or a routine signal behind an alarm, does not cut:
			// keep playing. take() rechecks the state under mu.
			if d.cut(anyQueued, t) {
				return false
			}
		}
	}
}

// cut reports whether a request waiting may cut the pattern; if so it
// stops t in the same critical section, so the decision and the timer
// agree for anyone looking at the state under mu.
func (d *Dev) cut(anyQueued bool, t Timer) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seen = d.seq
	c := d.hasNext && (d.preempt || anyQueued)
	if c && t != nil {
		t.Stop()
	}
	return c
}

func (d *Dev) buzz(on bool, s Step) {
	if d.buzzer == nil || on == d.on {
		return
	}
	d.on = on
	var err error
	switch {
	case !on:
		err = d.buzzer.Out(gpio.Low)
	case d.opts.PWM && s.Hz > 0:
		err = d.buzzer.PWM(gpio.DutyHalf, s.Hz)
	default:
		err = d.buzzer.Out(gpio.High)
	}
	d.record(d.buzzer, err)
}

func (d *Dev) light(l Light) {
	set := func(p gpio.PinOut, cur *bool, on bool) {
		if p == nil || *cur == on {
			return
		}
		*cur = on
		d.record(p, p.Out(gpio.Level(on)))
	}
	set(d.green, &d.greenOn, l&Green != 0)
	set(d.red, &d.redOn, l&Red != 0)
}

func (d *Dev) record(p gpio.PinOut, err error) {
	if err == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err == nil {
		d.err = fmt.Errorf("feedback: pin %s: %w", p, err)
	}
}
