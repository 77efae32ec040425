package sip2

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
)

// Sink delivers inventory events to an ILS over SIP2. It implements
// relay.Sink:
//
//   - seen and found send Item Information (17). With Koha's SIP account
//     option seen_on_item_information (keep_lost or mark_found) that stamps
//     the item's last-seen date (mark_found also clears lost); elsewhere it
//     only confirms the ILS knows the barcode. 17 is safe to repeat.
//   - checked_out_on_shelf with "check_in": true in its payload (the
//     inventory's policy) sends Checkin (09), but only after a 17 shows the
//     item still on loan, since a checkin is not safe to repeat. If a
//     checkin reached the ILS and its reply was lost the event is rejected
//     for staff review, never retried automatically.
//   - Every other kind is skipped: SIP2 has no message for it.
//
// Connection failures are Retry for the rest of the batch; the client
// reconnects (login and SC status) on the next batch.
type Sink struct {
	name string
	o    Opts

	mu sync.Mutex // guards c; Deliver calls are serialised by the relay
	c  *Client
}

var _ relay.Sink = (*Sink)(nil)

// NewSink validates o and returns a sink named name ("" is "sip2"). It
// does not connect: the first Deliver does, so an ILS that is down at
// start-up only delays delivery.
func NewSink(name string, o Opts) (*Sink, error) {
	if o.Addr == "" {
		return nil, errors.New("sip2: no address: set the ACS's host:port")
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return nil, fmt.Errorf("sip2: address %q: want host:port (%v)", o.Addr, err)
	}
	switch o.Terminator {
	case "", "\r", "\r\n":
	default:
		return nil, fmt.Errorf("sip2: terminator %q: use \"\\r\" or \"\\r\\n\"", o.Terminator)
	}
	if o.User == "" {
		return nil, errors.New("sip2: no SIP login: set the SIP account's user (CN)")
	}
	if name == "" {
		name = "sip2"
	}
	return &Sink{name: name, o: o}, nil
}

// Name implements relay.Sink.
func (s *Sink) Name() string { return s.name }

// Close closes the connection, if any.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return nil
	}
	err := s.c.Close()
	s.c = nil
	return err
}

// Deliver implements relay.Sink.
func (s *Sink) Deliver(ctx context.Context, events []outbox.Event) []relay.Outcome {
	out := make([]relay.Outcome, len(events))
	var todo []int
	for i, ev := range events {
		switch ev.Kind {
		case outbox.Seen, outbox.Found, outbox.CheckedOutOnShelf:
		default:
			out[i] = relay.Outcome{Verdict: relay.Skip}
			continue
		}
		if ev.Kind == outbox.CheckedOutOnShelf && !outbox.Flag(ev.Data.CheckIn) {
			out[i] = relay.Outcome{Verdict: relay.Skip} // the policy says report only
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return out
	}
	c, err := s.client(ctx)
	if err != nil {
		o := s.classify(err)
		for _, i := range todo {
			out[i] = o
		}
		return out
	}
	// What a 17 said about each barcode in this batch; one 17 serves a
	// seen and a found for the same item. A checkin invalidates it.
	infos := map[string]*ItemInfo{}
	var halt *relay.Outcome
	for _, i := range todo {
		if halt == nil && ctx.Err() != nil {
			halt = &relay.Outcome{Verdict: relay.Retry, Err: fmt.Errorf("sip2: stopped before delivery: %w", ctx.Err())}
		}
		if halt != nil {
			out[i] = *halt
			continue
		}
		o, stop := s.deliver(ctx, c, events[i], infos)
		out[i] = o
		if stop {
			halt = &o
		}
	}
	return out
}

// client returns the connection, dialling when there is none.
func (s *Sink) client(ctx context.Context) (*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c != nil {
		return s.c, nil
	}
	c, err := Dial(ctx, s.o)
	if err != nil {
		return nil, err
	}
	s.c = c
	return c, nil
}

// deliver handles one event; stop means every later event would fail the
// same way.
func (s *Sink) deliver(ctx context.Context, c *Client, ev outbox.Event, infos map[string]*ItemInfo) (relay.Outcome, bool) {
	bc := ev.Barcode
	if err := checkBarcode(bc); err != nil {
		return relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("event %d (%s): %w", ev.ID, ev.Kind, err)}, false
	}
	info := infos[bc]
	if info == nil {
		var err error
		if info, err = c.ItemInformation(ctx, bc); err != nil {
			o := s.classify(err)
			return o, o.Verdict == relay.Retry || errors.Is(err, ErrUnsupported)
		}
		infos[bc] = info
	}
	if info.Unknown() {
		return relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("sip2: the ILS does not know barcode %q (item information: status %02d, no title)%s",
			bc, int(info.CirculationStatus), screen(info.ScreenMessages))}, false
	}
	if ev.Kind != outbox.CheckedOutOnShelf {
		return relay.Outcome{Verdict: relay.Accept}, false
	}
	if !onLoan(info.CirculationStatus) {
		// Already checked in (by a person, or by an earlier delivery whose
		// confirmation was lost): nothing to do.
		return relay.Outcome{Verdict: relay.Accept}, false
	}
	at := time.Now()
	if t, err := time.Parse(time.RFC3339, ev.Data.At); err == nil {
		at = t
	}
	delete(infos, bc)
	res, err := c.Checkin(ctx, bc, at)
	switch {
	case errors.Is(err, ErrOutcomeUnknown):
		return relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("sip2: checkin of %q was sent but no usable reply came back, so it may or may not have happened; "+
			"staff: check the item in the ILS (retrying this event is safe: tally looks the item up before checking it in): %w", bc, err)}, false
	case err != nil:
		o := s.classify(err)
		return o, o.Verdict == relay.Retry || errors.Is(err, ErrUnsupported)
	case !res.OK:
		return relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("sip2: the ILS refused the checkin of %q%s", bc, screen(res.ScreenMessages))}, false
	}
	return relay.Outcome{Verdict: relay.Accept}, false
}

// onLoan reports whether a circulation status means the item is checked
// out. Claimed returned (11) is a loan the patron says ended: finding the
// item on the shelf is what a checkin settles.
func onLoan(st CirculationStatus) bool {
	switch st {
	case CircCharged, CircChargedNoRecall, CircRecalled, CircClaimedReturned:
		return true
	}
	return false
}

func screen(msgs []string) string {
	if len(msgs) == 0 {
		return ""
	}
	return ": " + strings.Join(msgs, "; ")
}

// classify maps a client error to a verdict: the connection or the ACS
// being away is Retry; an ACS that refuses this kind of request, or a reply
// it cannot read for this item, is Reject.
func (s *Sink) classify(err error) relay.Outcome {
	var pe permanentError
	var perr *ParseError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return relay.Outcome{Verdict: relay.Retry, Err: err}
	case errors.Is(err, ErrLoginFailed):
		// Usually a changed password; rejecting would dead-letter the
		// whole backlog. Retry, with the reason on the status page.
		return relay.Outcome{Verdict: relay.Retry, Err: fmt.Errorf("%w; fix the SIP login and password in the config", err)}
	case errors.Is(err, ErrUnsupported):
		return relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("%w; allow it for this SIP account in the ILS, then retry the dead letters", err)}
	case errors.As(err, &pe):
		return relay.Outcome{Verdict: relay.Reject, Err: err}
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, ErrClosed):
		s.dropIfClosed()
		return relay.Outcome{Verdict: relay.Retry, Err: err}
	case errors.As(err, &perr):
		return relay.Outcome{Verdict: relay.Reject, Err: fmt.Errorf("sip2: the ILS's reply cannot be read: %w", err)}
	}
	return relay.Outcome{Verdict: relay.Retry, Err: err}
}

// dropIfClosed forgets a client that was closed, so the next batch dials.
// A client whose connection broke reconnects by itself.
func (s *Sink) dropIfClosed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return
	}
	s.c.mu.Lock()
	closed := s.c.closed
	s.c.mu.Unlock()
	if closed {
		s.c = nil
	}
}
