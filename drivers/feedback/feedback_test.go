package feedback

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/physic"
)

// fakeClock runs patterns in virtual time. Stopped timers are removed, so
// every pending timer is one the player is waiting on.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	c  *fakeClock
	at time.Duration
	ch chan time.Time
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now + d, ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	i := slices.Index(t.c.timers, t)
	if i < 0 {
		return false
	}
	t.c.timers = slices.Delete(t.c.timers, i, i+1)
	return true
}

func (c *fakeClock) Now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// fire moves time to the earliest timer's deadline and fires it.
func (c *fakeClock) fire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return false
	}
	i := 0
	for j, t := range c.timers {
		if t.at < c.timers[i].at {
			i = j
		}
	}
	t := c.timers[i]
	c.timers = slices.Delete(c.timers, i, i+1)
	c.now = max(c.now, t.at)
	t.ch <- time.Time{}
	return true
}

// recPin is a gpiotest.Pin that logs every level change with the virtual time.
type recPin struct {
	*gpiotest.Pin
	log *eventLog
	err error // returned by Out when set
}

type eventLog struct {
	mu  sync.Mutex
	clk *fakeClock
	ev  []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, fmt.Sprintf("%4d ", l.clk.Now()/time.Millisecond)+fmt.Sprintf(format, args...))
}

func (l *eventLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.ev
	l.ev = nil
	return ev
}

func (p *recPin) Out(lv gpio.Level) error {
	if p.err != nil {
		return p.err
	}
	p.log.add("%s %s", p.N, lv)
	return p.Pin.Out(lv)
}

func (p *recPin) PWM(duty gpio.Duty, f physic.Frequency) error {
	p.log.add("%s pwm %s %s", p.N, duty, f)
	return p.Pin.PWM(duty, f)
}

type rig struct {
	t                  *testing.T
	clk                *fakeClock
	log                *eventLog
	buzzer, green, red *recPin
	dev                *Dev
}

func newRig(t *testing.T, opts Opts) *rig {
	t.Helper()
	clk := &fakeClock{}
	log := &eventLog{clk: clk}
	pin := func(n string) *recPin { return &recPin{Pin: &gpiotest.Pin{N: n}, log: log} }
	r := &rig{t: t, clk: clk, log: log, buzzer: pin("buzz"), green: pin("green"), red: pin("red")}
	opts.Clock = clk
	d, err := New(r.buzzer, r.green, r.red, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.dev = d
	r.log.take() // New sets every pin Low
	t.Cleanup(func() {
		done := make(chan error)
		go func() { done <- d.Stop() }()
		for {
			select {
			case <-done:
				return
			default:
				r.clk.fire()
				time.Sleep(time.Millisecond)
			}
		}
	})
	return r
}

func (r *rig) idle() bool {
	r.dev.mu.Lock()
	defer r.dev.mu.Unlock()
	return !r.dev.playing && !r.dev.hasNext && r.dev.seen == r.dev.seq
}

// fireIfBlocked fires the player's timer, but only once the player has seen
// every Signal: the decision to cut and the timer's Stop happen together
// under dev.mu, so holding it here gives a consistent view.
func (r *rig) fireIfBlocked() bool {
	r.dev.mu.Lock()
	defer r.dev.mu.Unlock()
	if r.dev.seen != r.dev.seq || r.clk.pending() != 1 {
		return false
	}
	return r.clk.fire()
}

// blocked waits (in real time, generously) until the player waits on a timer.
func (r *rig) blocked() {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !r.caughtUp() || r.clk.pending() != 1 {
		if time.Now().After(deadline) {
			r.t.Fatalf("player never waited on a timer (pending %d)", r.clk.pending())
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (r *rig) caughtUp() bool {
	r.dev.mu.Lock()
	defer r.dev.mu.Unlock()
	return r.dev.seen == r.dev.seq
}

// run fires timers until the player is idle and returns the log.
func (r *rig) run() []string {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !r.idle() || r.clk.pending() > 0 {
		if time.Now().After(deadline) {
			r.t.Fatalf("player did not go idle; log so far %q", r.log.ev)
		}
		r.fireIfBlocked()
		time.Sleep(50 * time.Microsecond)
	}
	return r.log.take()
}

func (r *rig) signal(outcome string) {
	r.t.Helper()
	if err := r.dev.Signal(context.Background(), outcome); err != nil {
		r.t.Fatal(err)
	}
}

func check(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("pin log:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestPatterns asserts exact pin transcripts, in virtual milliseconds.
func TestPatterns(t *testing.T) {
	tests := []struct {
		outcome string
		pwm     bool
		want    []string
	}{
		{OK, false, []string{
			"   0 green High", "   0 buzz High", "  60 buzz Low", " 460 green Low"}},
		{Duplicate, false, []string{
			"   0 green High", "   0 buzz High", "  40 buzz Low", " 100 buzz High", " 140 buzz Low", " 540 green Low"}},
		{Unknown, false, []string{
			"   0 red High", "   0 buzz High", " 500 buzz Low", " 900 red Low"}},
		{WrongLocation, true, []string{
			"   0 green High", "   0 red High",
			"   0 buzz pwm 50% 2.700kHz", " 150 buzz Low", " 200 buzz pwm 50% 900Hz", " 350 buzz Low",
			" 750 green Low", " 750 red Low"}},
		{HoldPickup, false, []string{
			"   0 green High", "   0 red High",
			"   0 buzz High", "  80 buzz Low", " 160 buzz High", " 240 buzz Low", " 320 buzz High", " 400 buzz Low",
			" 800 green Low", " 800 red Low"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/pwm=%v", tt.outcome, tt.pwm), func(t *testing.T) {
			r := newRig(t, Opts{PWM: tt.pwm, LEDHold: 400 * time.Millisecond})
			r.signal(tt.outcome)
			check(t, r.run(), tt.want)
			if r.buzzer.Read() || r.green.Read() || r.red.Read() {
				t.Error("a pin was left High")
			}
		})
	}
}

// TestEveryPattern plays each table entry and checks the buzzer's on and
// off times and the LEDs against the table.
func TestEveryPattern(t *testing.T) {
	for name, p := range Patterns {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, Opts{})
			r.signal(name)
			var want []string
			if p.Light&Green != 0 {
				want = append(want, "   0 green High")
			}
			if p.Light&Red != 0 {
				want = append(want, "   0 red High")
			}
			var at time.Duration
			for _, s := range p.Steps {
				want = append(want, fmt.Sprintf("%4d buzz High", at/ms))
				at += s.On
				want = append(want, fmt.Sprintf("%4d buzz Low", at/ms))
				at += s.Off
			}
			if p.Light&Green != 0 {
				want = append(want, fmt.Sprintf("%4d green Low", at/ms))
			}
			if p.Light&Red != 0 {
				want = append(want, fmt.Sprintf("%4d red Low", at/ms))
			}
			check(t, r.run(), want)
		})
	}
}

// TestPatternsDistinct: every outcome differs by rhythm alone (an active
// buzzer has one pitch), and every outcome a read can have is there.
func TestPatternsDistinct(t *testing.T) {
	seen := map[string]string{}
	for name, p := range Patterns {
		var b strings.Builder
		for _, s := range p.Steps {
			fmt.Fprintf(&b, "%d/%d ", s.On/ms, s.Off/ms)
		}
		if other, dup := seen[b.String()]; dup {
			t.Errorf("%s and %s have the same rhythm %s", name, other, b.String())
		}
		seen[b.String()] = name
		if len(p.Steps) == 0 || p.Light == Dark {
			t.Errorf("%s: silent or dark", name)
		}
		if p.Duration() > 1500*ms {
			t.Errorf("%s lasts %v; too long for one read", name, p.Duration())
		}
	}
	for _, o := range []string{OK, Duplicate, Unknown, Invalid, PatronCard, Error, WrongLocation, OutOfOrder, Swap, Pull,
		CheckedOutOnShelf, Found, WithdrawnOnShelf, HoldPickup, Present, Foreign, Missing} {
		if _, ok := Patterns[o]; !ok {
			t.Errorf("no pattern for %s", o)
		}
	}
	for _, o := range []string{OK, Duplicate, Present} {
		if Patterns[o].Alarm {
			t.Errorf("%s is an alarm; a run of ok reads would queue", o)
		}
	}
}

// TestNewerCutsShort: a newer routine signal cuts a routine one at once.
func TestNewerCutsShort(t *testing.T) {
	r := newRig(t, Opts{LEDHold: 400 * ms})
	r.signal(OK)
	r.blocked() // in the 60 ms beep, at t=0
	r.signal(Duplicate)
	check(t, r.run(), []string{
		"   0 green High", "   0 buzz High", "   0 buzz Low", // ok cut short
		"   0 buzz High", "  40 buzz Low", " 100 buzz High", " 140 buzz Low", " 540 green Low"})
}

// TestAlarmNotCutByRoutine: an ok arriving during an alarm waits for it.
func TestAlarmNotCutByRoutine(t *testing.T) {
	r := newRig(t, Opts{LEDHold: 400 * ms})
	r.signal(Unknown)
	r.blocked()
	r.signal(OK)
	r.signal(Duplicate) // replaces the ok in reserve
	check(t, r.run(), []string{
		"   0 red High", "   0 buzz High", " 500 buzz Low", // unknown in full; the hold ends at once
		" 500 green High", " 500 red Low", " 500 buzz High", " 540 buzz Low", " 600 buzz High", " 640 buzz Low",
		"1040 green Low"})
}

// TestAlarmCutByAlarm: a newer alarm cuts an older one.
func TestAlarmCutByAlarm(t *testing.T) {
	r := newRig(t, Opts{LEDHold: 400 * ms})
	r.signal(Unknown)
	r.blocked()
	r.fireIfBlocked() // unknown's beep ends at 500; LED hold starts
	r.blocked()
	r.signal(WrongLocation) // cuts the hold at 500
	check(t, r.run(), []string{
		"   0 red High", "   0 buzz High", " 500 buzz Low",
		" 500 green High", " 500 buzz High", " 650 buzz Low", " 700 buzz High", " 850 buzz Low",
		"1250 green Low", "1250 red Low"})

	r.signal(Error)
	r.blocked()
	r.signal(Invalid)
	check(t, r.run(), []string{
		"1250 red High", "1250 buzz High", "1250 buzz Low", // error cut by the newer alarm
		"1250 buzz High", "1750 buzz Low", "1830 buzz High", "1910 buzz Low", "2310 red Low"})
}

// TestSignalDoesNotBlock: with the clock frozen no pattern can finish, yet
// a burst of signals returns; every pattern cut short by a newer one is cut
// at once (time 0), and the last one plays in full.
func TestSignalDoesNotBlock(t *testing.T) {
	r := newRig(t, Opts{})
	r.signal(Error)
	r.blocked()
	for i := 0; i < 1000; i++ {
		r.signal([]string{Unknown, Invalid}[i%2])
	}
	if now := r.clk.Now(); now != 0 {
		t.Fatalf("virtual time moved to %v during the burst", now)
	}
	r.signal(Found)
	log := r.run()
	// Found's transcript after the last cut: colour change, then 4 beeps.
	want := []string{"   0 green High", "   0 buzz High", "  60 buzz Low", "  80 buzz High", " 140 buzz Low",
		" 160 buzz High", " 220 buzz Low", " 240 buzz High", " 440 buzz Low", " 440 green Low", " 440 red Low"}
	if len(log) < len(want) {
		t.Fatalf("log too short: %q", log)
	}
	check(t, log[len(log)-len(want):], want)
	for _, e := range log[:len(log)-len(want)] {
		if !strings.HasPrefix(e, "   0 ") {
			t.Errorf("an older pattern was not cut at once: %s", e)
		}
	}
}

func TestUnknownOutcome(t *testing.T) {
	r := newRig(t, Opts{})
	err := r.dev.Signal(context.Background(), "bogus")
	if err == nil || !strings.Contains(err.Error(), `no pattern for outcome "bogus"`) {
		t.Fatalf("err = %v", err)
	}
	check(t, r.run(), []string{"   0 red High", "   0 buzz High", "1000 buzz Low", "1000 red Low"})
}

func TestCancelledContext(t *testing.T) {
	r := newRig(t, Opts{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.dev.Signal(ctx, OK); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	check(t, r.run(), nil)
}

// TestStopWaits: Stop lets the pattern finish, turns everything off, and
// returns only then; Signal fails afterwards.
func TestStopWaits(t *testing.T) {
	clk := &fakeClock{}
	log := &eventLog{clk: clk}
	b := &recPin{Pin: &gpiotest.Pin{N: "buzz"}, log: log}
	g := &recPin{Pin: &gpiotest.Pin{N: "green"}, log: log}
	d, err := New(b, g, nil, Opts{Clock: clk, LEDHold: 400 * ms})
	if err != nil {
		t.Fatal(err)
	}
	log.take()
	if err := d.Signal(context.Background(), Duplicate); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- d.Stop() }()
	var fired int
	for {
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatal(err)
			}
			if fired < 4 {
				t.Errorf("Stop returned after %d timers; the pattern needs 4", fired)
			}
			check(t, log.take(), []string{
				"   0 green High", "   0 buzz High", "  40 buzz Low", " 100 buzz High", " 140 buzz Low", " 540 green Low"})
			if err := d.Signal(context.Background(), OK); !errors.Is(err, ErrStopped) {
				t.Errorf("Signal after Stop = %v", err)
			}
			return
		default:
			if clk.pending() == 1 {
				clk.fire()
				fired++
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

func TestPinError(t *testing.T) {
	r := newRig(t, Opts{})
	r.green.err = errors.New("gpio write failed")
	r.signal(OK)
	r.run()
	err := r.dev.Signal(context.Background(), OK)
	if err == nil || !strings.Contains(err.Error(), "pin green(0): gpio write failed") {
		t.Errorf("pin error not reported: %v", err)
	}
	r.run()
}

func TestNew(t *testing.T) {
	if _, err := New(nil, nil, nil, DefaultOpts); err == nil {
		t.Error("New with no pins succeeded")
	}
	// A buzzer alone works; real clock, so keep it short.
	b := &gpiotest.Pin{N: "buzz", L: gpio.High}
	d, err := New(b, nil, nil, Opts{Patterns: map[string]Pattern{OK: {Steps: []Step{{time.Millisecond, 0, High}}, Light: Green}}})
	if err != nil {
		t.Fatal(err)
	}
	if b.Read() != gpio.Low {
		t.Error("New did not set the buzzer Low")
	}
	if err := d.Signal(context.Background(), OK); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if b.Read() != gpio.Low {
		t.Error("buzzer High after Stop")
	}
}

type recSink struct{ got []string }

func (s *recSink) Signal(_ context.Context, o string) error {
	s.got = append(s.got, o)
	if o == Error {
		return errors.New("sink failed")
	}
	return nil
}

func TestMulti(t *testing.T) {
	a, b := &recSink{}, &recSink{}
	m := Multi{a, b}
	if err := m.Signal(context.Background(), OK); err != nil {
		t.Fatal(err)
	}
	if err := m.Signal(context.Background(), Error); err == nil {
		t.Error("Multi dropped the sinks' errors")
	}
	if !slices.Equal(a.got, []string{OK, Error}) || !slices.Equal(b.got, a.got) {
		t.Errorf("sinks got %v and %v", a.got, b.got)
	}
}
