// Package seriallink is the shell every serial RFID driver (chafon, feig,
// thingmagic, ascii) runs in: a Link whose reader goroutine turns a
// blocking port into chunks a protocol loop can wait on with a deadline; a
// Scanner that hunts frames in a byte stream that may hold garbage; the
// request/reply helpers Await, Retry and Rounds; and the Shell that gives
// a driver its Start/Stop/Err lifecycle. Protocol knowledge (where a frame
// starts, how long it is, how it is checked, what a text line holds) stays
// in each driver and is passed in as functions or a Feeder.
package seriallink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// Errors callers match with errors.Is to choose between retrying
// (ErrTimeout, ErrCorrupt) and giving up (ErrStopped).
var (
	// ErrTimeout means no bytes arrived before the deadline; the reader
	// may simply have missed the request, so a retry can help.
	ErrTimeout = errors.New("no reply in time")
	// ErrStopped means the caller asked to stop (ctx), not
	// that the device failed.
	ErrStopped = errors.New("stopped")
	// ErrCorrupt is returned by drivers (not by this package) when a
	// complete frame failed verification; it lives here so every driver
	// reports line noise the same way.
	ErrCorrupt = errors.New("reply corrupt (bad CRC)")
)

// ChunkSize is the size of one read from the port, and the unit of the
// Scanner's memory bound.
const ChunkSize = 4096

// Link owns the read side of a port. One goroutine reads chunks so that the
// protocol loop can wait for bytes with a deadline on any io.Reader, and so
// that Close on the port unblocks a pending Read.
//
// Wait and Write are meant for one protocol goroutine; Shutdown may be
// called from any goroutine, any number of times.
type Link struct {
	port   io.ReadWriter
	chunks chan []byte
	free   chan []byte
	rerr   chan error    // the read error that ended the reader, once
	quit   chan struct{} // closed by Shutdown
	done   chan struct{} // closed when the reader goroutine has returned
	once   sync.Once
	timer  *time.Timer
}

// New starts reading port in a goroutine. The Link owns the read side
// from now on: nothing else may Read from port. Call Shutdown to stop it.
func New(port io.ReadWriter) *Link {
	l := &Link{
		port:   port,
		chunks: make(chan []byte, 4),
		free:   make(chan []byte, 6),
		rerr:   make(chan error, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		timer:  time.NewTimer(time.Hour),
	}
	l.timer.Stop()
	go l.readLoop()
	return l
}

func (l *Link) readLoop() {
	defer close(l.done)
	for {
		var b []byte
		select {
		case b = <-l.free:
		default:
			b = make([]byte, ChunkSize)
		}
		n, err := l.port.Read(b[:cap(b)])
		if n > 0 {
			select {
			case l.chunks <- b[:n]:
			case <-l.quit:
				return
			}
		}
		if err != nil {
			l.rerr <- err
			return
		}
		select {
		case <-l.quit:
			return
		default:
		}
	}
}

// Shutdown stops the reader: it closes the port if it can be closed (the
// driver's Dev owns its port) and waits for the reader goroutine when that
// will unblock it. A port that cannot be closed leaves the goroutine
// blocked in Read until the port returns, so callers passing such a port
// must end it themselves.
func (l *Link) Shutdown() {
	l.once.Do(func() {
		close(l.quit)
		if c, ok := l.port.(io.Closer); ok {
			c.Close()
			<-l.done
		}
	})
}

// Feeder takes the bytes a Link read: a Scanner for a framed binary
// protocol, or a driver's own decoder for a text protocol (lines, STX…ETX
// records) that has no CRC to hunt by. Feed must copy what it keeps: the
// Link reuses b for a later read.
type Feeder interface {
	Feed(b []byte)
}

// Wait hands the next chunk of bytes to f, or fails with ErrTimeout at
// deadline, ErrStopped when ctx is done, or an error
// wrapping drivers.ErrDisconnected when the port fails. A zero deadline
// waits without limit, for a reader that only listens. A port failure is
// sticky: every later Wait fails the same way, so a caller that retries
// cannot hang on a dead port.
func (l *Link) Wait(ctx context.Context, deadline time.Time, f Feeder) error {
	var expire <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return ErrTimeout
		}
		l.timer.Reset(d)
		defer l.timer.Stop()
		expire = l.timer.C
	}
	select {
	case b := <-l.chunks:
		l.feed(f, b)
		return nil
	case err := <-l.rerr:
		// The reader sent every chunk before the error: hand those over
		// first, or the last reply before an unplug would be lost.
		select {
		case b := <-l.chunks:
			l.rerr <- err
			l.feed(f, b)
			return nil
		default:
		}
		return l.failed(err)
	case <-expire:
		return ErrTimeout
	case <-ctx.Done():
		return ErrStopped
	}
}

// Flush hands whatever has arrived to s and then drops it (Scanner.Reset,
// counted as garbage): bytes from an earlier exchange, such as a late
// answer to a command that timed out, must not be taken for the reply to
// the next request. It fails as Wait does when the port has failed, so a
// driver does not write to a port it knows is gone.
func (l *Link) Flush(s *Scanner) error {
	for {
		select {
		case b := <-l.chunks:
			l.feed(s, b)
		case err := <-l.rerr:
			s.Reset()
			return l.failed(err)
		default:
			s.Reset()
			return nil
		}
	}
}

func (l *Link) feed(f Feeder, b []byte) {
	f.Feed(b)
	select {
	case l.free <- b[:cap(b)]:
	default:
	}
}

func (l *Link) failed(err error) error {
	l.rerr <- err // sticky: every later Wait fails the same way
	return fmt.Errorf("read: %w (%w)", drivers.ErrDisconnected, err)
}

// Write sends a whole frame, looping over short writes so a frame is never
// left half sent.
func (l *Link) Write(frame []byte) error {
	for len(frame) > 0 {
		n, err := l.port.Write(frame)
		if err != nil {
			return fmt.Errorf("write: %w (%w)", drivers.ErrDisconnected, err)
		}
		frame = frame[n:]
	}
	return nil
}
