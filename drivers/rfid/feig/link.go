package feig

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

var (
	errTimeout = errors.New("no reply in time")
	errStopped = errors.New("stopped")
	errCorrupt = errors.New("reply corrupt (bad CRC)")
)

// link owns the read side of a port. One goroutine reads chunks so that the
// protocol loop can wait for bytes with a deadline on any io.Reader, and so
// that Close on the port unblocks a pending Read.
type link struct {
	port   io.ReadWriter
	chunks chan []byte
	free   chan []byte
	rerr   chan error    // the read error that ended the reader, once
	quit   chan struct{} // closed by shutdown
	done   chan struct{} // closed when the reader goroutine has returned
	once   sync.Once
	timer  *time.Timer
}

const chunkSize = 4096

func newLink(port io.ReadWriter) *link {
	l := &link{
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

func (l *link) readLoop() {
	defer close(l.done)
	for {
		var b []byte
		select {
		case b = <-l.free:
		default:
			b = make([]byte, chunkSize)
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

// shutdown stops the reader: it closes the port if it can be closed (the
// Dev owns its port) and waits for the reader goroutine when that will
// unblock it.
func (l *link) shutdown() {
	l.once.Do(func() {
		close(l.quit)
		if c, ok := l.port.(io.Closer); ok {
			c.Close()
			<-l.done
		}
	})
}

// wait appends the next chunk of bytes to s, or fails with errTimeout at
// deadline, errStopped when stop is closed or ctx is done, or an error
// wrapping drivers.ErrDisconnected when the port fails.
func (l *link) wait(ctx context.Context, stop <-chan struct{}, deadline time.Time, s *scanner) error {
	d := time.Until(deadline)
	if d <= 0 {
		return errTimeout
	}
	l.timer.Reset(d)
	defer l.timer.Stop()
	select {
	case b := <-l.chunks:
		s.feed(b)
		select {
		case l.free <- b[:cap(b)]:
		default:
		}
		return nil
	case err := <-l.rerr:
		l.rerr <- err // sticky: every later wait fails the same way
		return fmt.Errorf("read: %w (%w)", drivers.ErrDisconnected, err)
	case <-l.timer.C:
		return errTimeout
	case <-stop:
		return errStopped
	case <-ctx.Done():
		return errStopped
	}
}

// write sends a whole frame.
func (l *link) write(frame []byte) error {
	for len(frame) > 0 {
		n, err := l.port.Write(frame)
		if err != nil {
			return fmt.Errorf("write: %w (%w)", drivers.ErrDisconnected, err)
		}
		frame = frame[n:]
	}
	return nil
}

// scanner finds frames in a byte stream that may hold garbage, split
// frames and corrupt frames. It hunts for a frame start the protocol's
// probe accepts, verifies the CRC, and on a mismatch drops one byte and
// hunts again, so a real frame hiding behind a false start is still found.
type scanner struct {
	buf     []byte
	off     int
	frames  uint64
	badCRC  uint64
	garbage uint64
	sawBad  bool // a complete candidate failed verification since clearBad
}

// maxBuffered bounds memory: beyond it the oldest bytes are dropped.
const maxBuffered = 8 * chunkSize

func (s *scanner) feed(b []byte) {
	if s.off > 0 && (s.off == len(s.buf) || s.off > len(s.buf)/2) {
		n := copy(s.buf, s.buf[s.off:])
		s.buf = s.buf[:n]
		s.off = 0
	}
	s.buf = append(s.buf, b...)
	if over := len(s.buf) - s.off - maxBuffered; over > 0 {
		s.off += over
		s.garbage += uint64(over)
	}
}

// reset drops everything buffered: stale bytes from an earlier exchange.
func (s *scanner) reset() {
	s.garbage += uint64(len(s.buf) - s.off)
	s.buf, s.off = s.buf[:0], 0
}

// next returns the next frame that probe accepts and verify passes. probe
// returns the frame length if one may start at b[0] (possibly more than
// len(b)), 0 when it cannot tell yet, and -1 when none starts there. The
// frame aliases the buffer until the next feed.
func (s *scanner) next(probe func(b []byte) int, verify func(f []byte) bool) ([]byte, bool) {
	for s.off < len(s.buf) {
		b := s.buf[s.off:]
		n := probe(b)
		switch {
		case n < 0:
			s.off++
			s.garbage++
		case n == 0 || n > len(b):
			// The front is incomplete. If it was a false start (garbage
			// that looks like a header with a long length), a complete
			// valid frame behind it must not wait for bytes that never come.
			for k := 1; k < len(b); k++ {
				m := probe(b[k:])
				if m > 0 && k+m <= len(b) && verify(b[k:k+m]) {
					s.garbage += uint64(k)
					s.frames++
					s.off += k + m
					return b[k : k+m], true
				}
			}
			return nil, false
		default:
			if verify(b[:n]) {
				s.frames++
				s.off += n
				return b[:n], true
			}
			s.badCRC++
			s.sawBad = true
			s.off++
			s.garbage++
		}
	}
	return nil, false
}
