package sim

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrUnplugged is returned by Serve after Unplug.
var ErrUnplugged = errors.New("sim: reader unplugged")

// serveCommands is the host side every simulated command/response reader
// shares: it reads what the host sends into a buffer and hands the buffer
// to next, which says how many bytes it used (garbage, a bad frame, a
// command) and, when they held a command, returns the function that
// answers it. A buffer grown past max (if max > 0) never held a command
// and is dropped. Cancelling ctx unplugs the reader; once unplugged is set
// it returns ErrUnplugged, else the error of a read or an answer.
func serveCommands(ctx context.Context, read func([]byte) (int, error), unplug func(), unplugged *atomic.Bool, max int,
	next func(buf []byte) (used int, answer func() error)) error {
	stop := context.AfterFunc(ctx, unplug)
	defer stop()
	gone := func(err error) error {
		if unplugged.Load() {
			return ErrUnplugged
		}
		return err
	}
	buf := make([]byte, 0, 1024)
	chunk := make([]byte, 1024)
	for {
		n, err := read(chunk)
		if unplugged.Load() {
			return ErrUnplugged
		}
		buf = append(buf, chunk[:n]...)
		for {
			used, answer := next(buf)
			buf = buf[:copy(buf, buf[used:])]
			if answer == nil {
				break
			}
			if err := answer(); err != nil {
				return gone(err)
			}
		}
		if max > 0 && len(buf) > max {
			buf = buf[:0]
		}
		if err != nil {
			return gone(err)
		}
	}
}
