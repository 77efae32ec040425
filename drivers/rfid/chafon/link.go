package chafon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// chunk is what the pump read from the port: bytes, or the error that
// ended reading.
type chunk struct {
	b   []byte
	err error
}

// link is the command/response state machine over one port. A pump
// goroutine reads the port so that waiting for an answer can time out on
// any io.ReadWriter, blocking or not.
type link struct {
	w    io.Writer
	in   chan chunk
	free chan []byte
	dec  Decoder
	wbuf []byte
	dead error         // the pump's final error, once seen
	quit chan struct{} // closed by close: the pump stops sending
}

func newLink(port io.ReadWriter, addr byte, c *Counters) *link {
	l := &link{
		w:    port,
		in:   make(chan chunk, 8),
		free: make(chan []byte, 8),
		dec:  Decoder{Addr: addr, Stats: c},
		quit: make(chan struct{}),
	}
	go l.pump(port)
	return l
}

// pump reads the port until it fails. It exits when the port is closed
// (Stop closes ports it opened) or reports an error; with a port that has
// a read timeout, a zero-byte read is simply retried.
func (l *link) pump(r io.Reader) {
	for {
		var buf []byte
		select {
		case buf = <-l.free:
		default:
			buf = make([]byte, 4096)
		}
		n, err := r.Read(buf[:cap(buf)])
		if n > 0 {
			select {
			case l.in <- chunk{b: buf[:n]}:
			case <-l.quit:
				return
			}
		}
		if err != nil {
			select {
			case l.in <- chunk{err: err}:
			case <-l.quit:
			}
			return
		}
	}
}

// close tells the pump to stop handing over input. The pump itself ends
// when its Read returns.
func (l *link) close() { close(l.quit) }

// feed hands a chunk to the decoder and recycles its buffer.
func (l *link) feed(c chunk) error {
	if c.err != nil {
		l.dead = c.err
		return l.deadErr()
	}
	l.dec.Feed(c.b)
	select {
	case l.free <- c.b[:cap(c.b)]:
	default:
	}
	return nil
}

func (l *link) deadErr() error {
	if errors.Is(l.dead, io.EOF) || isClosed(l.dead) {
		return fmt.Errorf("port closed: %w: %w", drivers.ErrDisconnected, l.dead)
	}
	return fmt.Errorf("read: %w: %w", drivers.ErrDisconnected, l.dead)
}

// transact sends c and hands each answer frame to each until each returns
// more=false. Stale input is dropped before sending so a late answer to
// an earlier command is not taken for this one. A timeout between frames
// first rescans the buffer past a possibly bogus length byte, then gives
// up with ErrTimeout.
func (l *link) transact(ctx context.Context, c Command, timeout time.Duration, each func(Response) (more bool, err error)) error {
	if l.dead != nil {
		return l.deadErr()
	}
	// Drop whatever arrived since the last exchange.
	for drained := false; !drained; {
		select {
		case ch := <-l.in:
			if err := l.feed(ch); err != nil {
				return err
			}
		default:
			drained = true
		}
	}
	l.dec.Reset()

	var err error
	l.wbuf, err = c.Append(l.wbuf[:0])
	if err != nil {
		return err
	}
	if _, err := l.w.Write(l.wbuf); err != nil {
		return fmt.Errorf("write: %w: %w", drivers.ErrDisconnected, err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		for {
			r, ok := l.dec.Next(c.Cmd)
			if !ok {
				break
			}
			more, err := each(r)
			if err != nil || !more {
				return err
			}
			timer.Reset(timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ch := <-l.in:
			if err := l.feed(ch); err != nil {
				return err
			}
		case <-timer.C:
			// Maybe a garbage length byte is holding up a real frame:
			// rescan past it before giving up.
			found := false
			for !found && l.dec.Buffered() > 0 {
				l.dec.Resync()
				if r, ok := l.dec.Next(c.Cmd); ok {
					found = true
					more, err := each(r)
					if err != nil || !more {
						return err
					}
				}
			}
			if !found {
				return fmt.Errorf("command 0x%02X: %w within %v", c.Cmd, ErrTimeout, timeout)
			}
			timer.Reset(timeout)
		}
	}
}

// transactOne sends c and returns its single answer frame. The Data is
// copied so it outlives the decoder buffer.
func (l *link) transactOne(ctx context.Context, c Command, timeout time.Duration) (Response, error) {
	var out Response
	err := l.transact(ctx, c, timeout, func(r Response) (bool, error) {
		out = r
		out.Data = append([]byte(nil), r.Data...)
		return false, nil
	})
	return out, err
}
