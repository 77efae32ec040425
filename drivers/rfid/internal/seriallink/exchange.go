package seriallink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// Await waits for the next frame that probe and verify accept (see
// Scanner.Next), reading from the Link until deadline. It fails at once
// with ErrCorrupt when a complete candidate failed verification, since a
// request/response reader will not send that reply again, and with
// ErrTimeout at deadline; both name the request as kind and code
// ("opcode 0x22"). Other errors are Wait's. The frame aliases s's buffer
// until the next Feed.
func (l *Link) Await(ctx context.Context, deadline time.Time, s *Scanner, probe func([]byte) int, verify func([]byte) bool, kind string, code byte) ([]byte, error) {
	s.ClearBad()
	for {
		if f, ok := s.Next(probe, verify); ok {
			return f, nil
		}
		if s.SawBad() {
			return nil, fmt.Errorf("%s 0x%02X: %w", kind, code, ErrCorrupt)
		}
		if err := l.Wait(ctx, deadline, s); err != nil {
			if errors.Is(err, ErrTimeout) {
				return nil, fmt.Errorf("%s 0x%02X: %w", kind, code, err)
			}
			return nil, err
		}
	}
}

// Retry runs attempt, and again up to retries more times while it fails
// with ErrTimeout or ErrCorrupt (line noise, a missed request), calling
// retried before each new try. It is for requests a reader may safely be
// sent twice.
func Retry[T any](retries int, attempt func() (T, error), retried func()) (T, error) {
	for try := 0; ; try++ {
		r, err := attempt()
		if try >= retries || !(errors.Is(err, ErrTimeout) || errors.Is(err, ErrCorrupt)) {
			return r, err
		}
		retried()
	}
}

// Rounds runs round until ctx ends, as the inventory loop of a reader that
// is polled: a round that ends with ErrStopped, or a done ctx, ends it
// with nil; a disconnected port ends it at once; otherwise maxFailures
// rounds failing in a row end it, as drivers.ErrDisconnected when the last
// failure was a timeout (the reader has stopped answering). ok is called
// after each good round.
func Rounds(ctx context.Context, maxFailures int, round func(context.Context) error, ok func()) error {
	failures := 0
	for ctx.Err() == nil {
		err := round(ctx)
		switch {
		case err == nil:
			failures = 0
			ok()
			continue
		case errors.Is(err, ErrStopped):
			return nil
		case errors.Is(err, drivers.ErrDisconnected):
			return err
		}
		if failures++; failures >= maxFailures {
			if errors.Is(err, ErrTimeout) {
				return fmt.Errorf("%w: %d commands in a row failed, last: %w", drivers.ErrDisconnected, failures, err)
			}
			return fmt.Errorf("%d commands in a row failed, last: %w", failures, err)
		}
	}
	return nil
}
