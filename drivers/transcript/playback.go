package transcript

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ErrClosed is returned by a Playback's Read and Write after Close.
var ErrClosed = errors.New("transcript: device closed")

// DeviceError is what a Playback returns for a '!' event: the error the
// device gave the host when the transcript was recorded.
type DeviceError struct {
	Msg  string
	Line int
}

func (e *DeviceError) Error() string { return e.Msg }

// End says what a Playback's device does once every event has been played.
type End int

const (
	// Silent: the device says nothing more. Reads block until Close;
	// writes are taken and counted (Extra), as a reader that stopped
	// answering would take them.
	Silent End = iota
	// HangUpOnRead: the next Read fails with io.EOF, as if the device were
	// unplugged. For drivers that read and decode in order (HID scanners,
	// text readers): when their next Read fails they have handled
	// everything before it.
	HangUpOnRead
	// HangUpOnWrite: the next Write fails with io.EOF, and reads after it.
	// For drivers that poll: their next command proves they handled the
	// last reply, whereas a read-ahead goroutine reads before that.
	HangUpOnWrite
)

// Playback is a fake serial port or HID device that plays a transcript to
// a driver. Writes (and feature reports) must match the transcript's, in
// order; a driver may split or join writes, the bytes are compared as a
// stream. Each Read returns the bytes of the next '<' event once every
// event before it has been played (a smaller buffer gets them over
// several Reads); a Read blocks while a write is due. A '!' event fails the
// next Read or Write with a DeviceError, and every one after it.
//
// A write that differs from the transcript fails with an *Error naming the
// transcript line, and every later call fails the same way. Close and Err
// report that, or the events left unplayed: check one of them at the end
// of a test. It is safe for concurrent use (a driver's reader and writer
// goroutines).
type Playback struct {
	name string
	evs  []Event
	end  End

	mu     sync.Mutex
	cond   sync.Cond
	pos    int // next event
	off    int // bytes of evs[pos] already played
	at     time.Duration
	err    error // first mismatch, sticky
	gone   error // the device failed ('!' or a hang-up), sticky
	closed bool
	extra  int
	done   chan struct{}
	doneAt sync.Once

	speed    float64 // set by Pace; 0: no pacing
	start    time.Time
	closedCh chan struct{}
}

// NewPlayback returns a Playback of t's events.
func NewPlayback(t *Transcript, end End) *Playback {
	p := &Playback{name: t.Name, evs: t.Events, end: end, done: make(chan struct{}), closedCh: make(chan struct{})}
	if p.name == "" {
		p.name = "transcript"
	}
	p.cond.L = &p.mu
	if len(p.evs) == 0 {
		p.finish()
	}
	return p
}

// Events is a shorthand for a Playback of events built in code; name
// labels its errors (a test's name will do).
func Events(name string, end End, evs ...Event) *Playback {
	return NewPlayback(&Transcript{Name: name, Events: evs}, end)
}

// Exchange is a write answered by reads: a command the driver must send
// and the chunks of the device's reply.
func Exchange(req []byte, reply ...[]byte) []Event {
	return append([]Event{{Dir: Write, Data: req}}, Reads(reply...)...)
}

// TB is the part of testing.TB that Check needs.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Play is a Playback of evs for a test: named after it, and checked when
// the test ends.
func Play(t interface {
	TB
	Name() string
	Cleanup(func())
}, end End, evs ...Event) *Playback {
	p := Events(t.Name(), end, evs...)
	t.Cleanup(func() { p.Check(t) })
	return p
}

// Check fails the test unless the transcript has been played through:
// every event played and every write as the transcript says.
func (p *Playback) Check(t TB) {
	t.Helper()
	if err := p.Err(); err != nil {
		t.Errorf("%v", err)
	}
}

// Reads builds Read events, one per chunk or HID report; empty chunks are
// left out.
func Reads(chunks ...[]byte) []Event {
	evs := make([]Event, 0, len(chunks))
	for _, c := range chunks {
		if len(c) > 0 {
			evs = append(evs, Event{Dir: Read, Data: c})
		}
	}
	return evs
}

func (p *Playback) finish() { p.doneAt.Do(func() { close(p.done) }) }

// advance moves past the current event; p.mu is held.
func (p *Playback) advance() {
	p.at = p.evs[p.pos].At
	p.pos++
	p.off = 0
	if p.pos == len(p.evs) {
		p.finish()
	}
	p.cond.Broadcast()
}

// mismatch records the first divergence; p.mu is held.
func (p *Playback) mismatch(ev *Event, format string, args ...any) error {
	if p.err == nil {
		line := 0
		if ev != nil {
			line = ev.Line
		}
		p.err = &Error{File: p.name, Line: line, Msg: fmt.Sprintf(format, args...)}
		p.finish()
		p.cond.Broadcast()
	}
	return p.err
}

// fail plays a '!' event; p.mu is held.
func (p *Playback) fail() error {
	ev := p.evs[p.pos]
	p.gone = &DeviceError{Msg: ev.Err, Line: ev.Line}
	p.advance()
	return p.gone
}

// sticky returns the error every call gets once the device is closed,
// broken or gone; p.mu is held.
func (p *Playback) sticky() error {
	switch {
	case p.closed:
		return ErrClosed
	case p.err != nil:
		return p.err
	}
	return p.gone
}

// Read returns the next chunk the device sent.
func (p *Playback) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if err := p.sticky(); err != nil {
			return 0, err
		}
		if p.pos == len(p.evs) {
			if p.end == HangUpOnRead {
				p.gone = io.EOF
				return 0, io.EOF
			}
			p.cond.Wait()
			continue
		}
		ev := &p.evs[p.pos]
		if (ev.Dir == Read || ev.Dir == Fail) && p.off == 0 && p.speed > 0 {
			if wait := time.Until(p.start.Add(time.Duration(float64(ev.At) / p.speed))); wait > 0 {
				p.mu.Unlock()
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-p.closedCh:
					t.Stop()
				}
				p.mu.Lock()
				continue
			}
		}
		switch ev.Dir {
		case Read:
			if len(b) == 0 {
				return 0, nil
			}
			n := copy(b, ev.Data[p.off:])
			p.off += n
			if p.off == len(ev.Data) {
				p.advance()
			}
			return n, nil
		case Fail:
			return 0, p.fail()
		}
		p.cond.Wait() // a write is due first
	}
}

// Write checks b against the transcript's next writes.
func (p *Playback) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.sticky(); err != nil {
		return 0, err
	}
	for done := 0; done < len(b); {
		if p.pos == len(p.evs) {
			if p.end == HangUpOnWrite {
				p.gone = io.EOF
				p.cond.Broadcast()
				return done, io.EOF
			}
			p.extra++
			return len(b), nil
		}
		ev := &p.evs[p.pos]
		switch ev.Dir {
		case Fail:
			return done, p.fail()
		case Write:
		default:
			if done > 0 {
				return done, p.mismatch(ev, "driver wrote % X, %d bytes more than the transcript's write before this %s", b[done:], len(b)-done, ev.Dir)
			}
			return 0, p.mismatch(ev, "driver wrote % X where the transcript has a %s", b, ev.Dir)
		}
		want := ev.Data[p.off:]
		n := min(len(want), len(b)-done)
		if !bytes.Equal(want[:n], b[done:done+n]) {
			return done, p.mismatch(ev, "driver wrote % X, transcript has % X", b[done:done+n], want[:n])
		}
		done += n
		p.off += n
		if p.off == len(ev.Data) {
			p.advance()
		}
	}
	return len(b), nil
}

// SendFeatureReport checks a HID feature report against the transcript's
// next event, which must be an 'F' with the same bytes.
func (p *Playback) SendFeatureReport(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.sticky(); err != nil {
		return 0, err
	}
	if p.pos == len(p.evs) {
		return 0, p.mismatch(nil, "driver sent feature report % X after the transcript's end", b)
	}
	ev := &p.evs[p.pos]
	switch {
	case ev.Dir == Fail:
		return 0, p.fail()
	case ev.Dir != Feature || p.off != 0:
		return 0, p.mismatch(ev, "driver sent feature report % X where the transcript has a %s", b, ev.Dir)
	case !bytes.Equal(ev.Data, b):
		return 0, p.mismatch(ev, "driver sent feature report % X, transcript has % X", b, ev.Data)
	}
	p.advance()
	return len(b), nil
}

// Close ends the playback: blocked and later Reads and Writes fail with
// ErrClosed. It returns Err.
func (p *Playback) Close() error {
	p.mu.Lock()
	if !p.closed {
		close(p.closedCh)
	}
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	return p.Err()
}

// Err is the verdict so far: the first write that differed from the
// transcript, else the events not yet played, else nil.
func (p *Playback) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if p.pos < len(p.evs) {
		ev := p.evs[p.pos]
		what := fmt.Sprintf("% X", ev.Data)
		if ev.Dir == Fail {
			what = ev.Err
		}
		if p.off > 0 {
			what = fmt.Sprintf("% X (%d of %d bytes played)", ev.Data[p.off:], p.off, len(ev.Data))
		}
		return &Error{File: p.name, Line: ev.Line,
			Msg: fmt.Sprintf("%d of %d events not played; next the transcript has a %s: %s", len(p.evs)-p.pos, len(p.evs), ev.Dir, shorten(what))}
	}
	return nil
}

// Pace makes the device send as it did when recorded: each '<' and '!'
// event waits until its time in the transcript, divided by speed, counted
// from now. Without Pace a Playback sends as soon as the driver reads.
func (p *Playback) Pace(speed float64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.speed, p.start = speed, time.Now()
}

// Done is closed when every event has been played, or a write differed.
func (p *Playback) Done() <-chan struct{} { return p.done }

// Next is the next event to play; false when none is left.
func (p *Playback) Next() (Event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pos == len(p.evs) {
		return Event{}, false
	}
	return p.evs[p.pos], true
}

// Played is how many events have been played.
func (p *Playback) Played() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pos
}

// Extra is how many writes came after the end of a Silent playback.
func (p *Playback) Extra() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.extra
}

// Now is the transcript time of the last event played: a clock for
// stages that measure time between reads (dedupe), so a replay sees the
// gaps the capture had.
func (p *Playback) Now() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.at
}

// Closed reports whether Close was called.
func (p *Playback) Closed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}
