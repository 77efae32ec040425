package seriallink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"go.bug.st/serial"

	"github.com/tally-inventory/tally/drivers"
)

// Shell is the Start/Stop/Err lifecycle of drivers.Reader that every serial
// RFID driver shares, so that a driver keeps only its protocol: Start gets
// the port, starts a Link on it and runs the driver's init (Start fails if
// init does), then runs the driver's read loop in a goroutine until ctx is
// cancelled, Stop is called or the loop fails; Err delivers that failure
// once and is then closed.
//
// A driver embeds it, which gives its Dev the Name, Err and Stop of
// drivers.Reader. The Link closes the port when reading ends if the port
// is an io.Closer: a driver that must leave a caller's port open hands
// Start a wrapper without Close (see Borrowed).
type Shell struct {
	name   string // the configured device name
	prefix string // starts every error: the driver's kind and the name, "chafon desk"
	errc   chan error

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewShell returns the Shell of the kind driver ("chafon") for the device
// configured as name; its errors start with both.
func NewShell(kind, name string) *Shell {
	return &Shell{name: name, prefix: kind + " " + name, errc: make(chan error, 1)}
}

// Name is the configured device name, carried in every Read.
func (s *Shell) Name() string { return s.name }

// Start gets the port from open, runs init and then run on a Link over
// it, and returns once init has succeeded. init may be nil. Both see a ctx
// that Stop cancels; they report a stop as ErrStopped or nil. A driver that
// hands over reads already decoded before Stop returns, as drivers.Reader
// asks, sends them selecting on its caller's ctx rather than this one.
func (s *Shell) Start(ctx context.Context, open func() (io.ReadWriter, error), init, run func(ctx context.Context, l *Link) error) error {
	s.mu.Lock()
	if s.done != nil {
		s.mu.Unlock()
		return fmt.Errorf("%s: Start called twice", s.prefix)
	}
	// cancel is in place before anything blocks, so a Stop during Start
	// ends it.
	ctx, cancel := context.WithCancel(ctx)
	s.cancel, s.done = cancel, make(chan struct{})
	s.mu.Unlock()

	fail := func(err error) error {
		cancel()
		close(s.errc)
		close(s.done)
		return fmt.Errorf("%s: %w", s.prefix, err)
	}
	port, err := open()
	if err != nil {
		return fail(err)
	}
	l := New(port)
	if init != nil {
		if err := init(ctx, l); err != nil {
			l.Shutdown()
			return fail(err)
		}
	}
	go func() {
		defer close(s.done)
		err := run(ctx, l)
		l.Shutdown()
		if err != nil && !errors.Is(err, ErrStopped) && ctx.Err() == nil {
			s.errc <- fmt.Errorf("%s: %w", s.prefix, err)
		}
		close(s.errc)
		cancel()
	}()
	return nil
}

// Stop ends reading and waits until the read loop has returned: after it
// the driver never sends a Read again. It is safe to call more than once,
// and before Start. It always returns nil: a port is closed when reading
// ends, and its error then is not the caller's to act on.
func (s *Shell) Stop() error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	<-done
	return nil
}

// Err delivers the error that ended reading, once; it is closed without a
// value after a clean Stop, when ctx is cancelled, or after Start failed.
func (s *Shell) Err() <-chan error { return s.errc }

// Borrowed hides port's Close from the Link, for a driver whose caller
// owns the port: reading then ends without closing it, and a Read blocked
// on it returns only when the caller closes it.
func Borrowed(port io.ReadWriter) io.ReadWriter {
	return struct{ io.ReadWriter }{port}
}

// OpenSerial opens the serial port at path in mode. A port that is not
// there (unplugged, not yet enumerated) fails with an error wrapping
// drivers.ErrDisconnected, so that a supervisor tries again later.
func OpenSerial(path string, mode *serial.Mode) (serial.Port, error) {
	p, err := serial.Open(path, mode)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isGone(err) {
			return nil, fmt.Errorf("open %s: %w: %w", path, drivers.ErrDisconnected, err)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return p, nil
}

// isGone reports whether err says the port is closed or not there.
func isGone(err error) bool {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortClosed, serial.PortNotFound:
			return true
		}
	}
	return errors.Is(err, os.ErrClosed)
}

// OpenNow opens the serial port at path in mode now (as OpenSerial, its
// error starting with kind), drops whatever the port had buffered, and
// hands it to newDev, which owns it from then on; the port is closed if
// newDev fails.
func OpenNow[D any](kind, path string, mode *serial.Mode, newDev func(port io.ReadWriter) (D, error)) (D, error) {
	var none D
	p, err := OpenSerial(path, mode)
	if err != nil {
		return none, fmt.Errorf("%s: %w", kind, err)
	}
	_ = p.ResetInputBuffer()
	d, err := newDev(p)
	if err != nil {
		p.Close()
		return none, err
	}
	return d, nil
}
