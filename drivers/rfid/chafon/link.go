package chafon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"
)

// link is the command/response exchange over one port: the shared
// seriallink.Link reads the port, the Decoder finds this reader's answers.
type link struct {
	sl   *seriallink.Link
	dec  *Decoder
	wbuf []byte
}

// transact sends c and hands each answer frame to each until each returns
// more=false. Stale input is dropped before sending so a late answer to
// an earlier command is not taken for this one. A corrupt frame is
// skipped, not retried: the wait goes on until timeout passes with no
// good frame, which fails with ErrTimeout.
func (l *link) transact(ctx context.Context, c Command, timeout time.Duration, each func(Response) (more bool, err error)) error {
	if err := l.sl.Flush(&l.dec.sc); err != nil {
		return err
	}
	var err error
	l.wbuf, err = c.Append(l.wbuf[:0])
	if err != nil {
		return err
	}
	if err := l.sl.Write(l.wbuf); err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
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
			deadline = time.Now().Add(timeout)
		}
		if err := l.sl.Wait(ctx, deadline, l.dec); err != nil {
			if errors.Is(err, seriallink.ErrTimeout) {
				return fmt.Errorf("command 0x%02X: %w within %v", c.Cmd, ErrTimeout, timeout)
			}
			return err
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
