package sip2

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Errors a caller can test with errors.Is.
var (
	// ErrLoginFailed means the ACS refused the account (94 with ok 0). It is
	// permanent: retrying with the same credentials will not help.
	ErrLoginFailed = errors.New("sip2: login refused by the ACS")
	// ErrOutcomeUnknown means a request that is not safe to repeat (09
	// checkin) reached the ACS but no usable reply came back. The client does
	// not resend it; look the item up (ItemInformation) before trying again.
	ErrOutcomeUnknown = errors.New("sip2: request was sent but its outcome is unknown; look the item up before trying again")
	// ErrUnsupported means the ACS's status (98) says it does not do this.
	ErrUnsupported = errors.New("sip2: not supported by the ACS")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("sip2: client closed")
)

// Opts configures a Client. Start from DefaultOpts.
type Opts struct {
	Addr        string // host:port of the ACS's raw TCP SIP service
	User        string // CN: the SIP account's login
	Password    string // CO
	Location    string // CP: location code sent at login
	Institution string // AO: institution id sent with every request
	Terminal    string // AC: terminal password, sent (possibly empty) with 17 and 09
	// ErrorDetection adds AY sequence numbers and AZ checksums; the Koha
	// account's error_detect option should match.
	ErrorDetection bool
	// Timeout bounds one exchange (request to reply) and each connect.
	Timeout time.Duration
	// Terminator ends each request: "\r" (the SIP2 specification) or "\r\n".
	Terminator string
	// CheckinLocation is the AP (current location) of a checkin; empty uses Location.
	CheckinLocation string
	// Zone is the time zone dates are written in (SIP2 dates carry a blank
	// zone, meaning the ACS's local time); nil is time.Local.
	Zone *time.Location
	// Now is the clock for transaction dates; nil is time.Now.
	Now func() time.Time
}

// DefaultOpts are the settings of a stock Koha SIP account with error
// detection enabled.
var DefaultOpts = Opts{
	ErrorDetection: true,
	Timeout:        10 * time.Second,
	Terminator:     "\r",
}

// Stats counts what the client had to do to get replies; tests and metrics
// read it.
type Stats struct {
	Connects       int // connections made and logged in, the first included
	ResendRequests int // 97s sent because a reply failed its checksum
	Resends        int // requests resent because the ACS answered 96
	Retries        int // requests repeated on a new connection
}

// Client is a SIP2 self-check client. It is safe for concurrent use; it
// sends one request at a time on one connection, and reconnects (login and
// SC status again) when the connection breaks.
type Client struct {
	o Opts

	mu     sync.Mutex // serialises requests; guards everything below
	conn   net.Conn
	r      *bufio.Reader
	seq    int
	status ACSStatus
	stats  Stats
	closed bool
	wbuf   []byte
}

var _ io.Closer = (*Client)(nil)

// Dial connects to the ACS, logs in (93) and sends SC status (99). A refused
// login is ErrLoginFailed.
func Dial(ctx context.Context, o Opts) (*Client, error) {
	if o.Addr == "" {
		return nil, errors.New("sip2: no address: set Opts.Addr to the ACS's host:port")
	}
	switch o.Terminator {
	case "":
		o.Terminator = "\r"
	case "\r", "\r\n":
	default:
		return nil, fmt.Errorf("sip2: terminator %q: use \"\\r\" or \"\\r\\n\"", o.Terminator)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultOpts.Timeout
	}
	if o.Zone == nil {
		o.Zone = time.Local
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckinLocation == "" {
		o.CheckinLocation = o.Location
	}
	c := &Client{o: o}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// ACSStatus returns the ACS's status (98) from the latest login.
func (c *Client) ACSStatus() ACSStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Stats returns counters of connects, resends and retries so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// ItemInformation asks for an item's status (17). It is safe to repeat, so
// a timeout or broken connection leads to one reconnect and retry. With
// Koha's seen_on_item_information set on the account this also stamps the
// item's last-seen date (and with mark_found clears lost).
func (c *Client) ItemInformation(ctx context.Context, barcode string) (*ItemInfo, error) {
	if err := checkBarcode(barcode); err != nil {
		return nil, err
	}
	req := &ItemInformation{TransactionDate: c.o.Now(), Zone: c.o.Zone,
		Institution: c.o.Institution, ItemID: barcode, TerminalPassword: c.o.Terminal}
	f, err := c.roundTrip(ctx, req, CodeItemInfoResponse, true, SupportsItemInformation)
	if err != nil {
		return nil, fmt.Errorf("item information for %q: %w", barcode, err)
	}
	m, err := decodeItemInfo(f, c.o.Zone)
	if err != nil {
		return nil, fmt.Errorf("item information for %q: %w", barcode, err)
	}
	return m, nil
}

// Checkin checks an item in (09) as returned at time at. A checkin ends a
// loan and can trigger holds and transfers, so it is never sent twice: if
// the request may have reached the ACS and no usable reply came back, the
// error wraps ErrOutcomeUnknown. A reply with OK false is not an error; its
// ScreenMessages say why (Koha: the item was not checked out).
func (c *Client) Checkin(ctx context.Context, barcode string, at time.Time) (*CheckinResult, error) {
	if err := checkBarcode(barcode); err != nil {
		return nil, err
	}
	req := &Checkin{TransactionDate: at, ReturnDate: at, Zone: c.o.Zone, CurrentLocation: c.o.CheckinLocation,
		Institution: c.o.Institution, ItemID: barcode, TerminalPassword: c.o.Terminal}
	f, err := c.roundTrip(ctx, req, CodeCheckinResponse, false, SupportsCheckin)
	if err != nil {
		return nil, fmt.Errorf("checkin of %q: %w", barcode, err)
	}
	m, err := decodeCheckinResult(f, c.o.Zone)
	if err != nil {
		return nil, fmt.Errorf("checkin of %q: reply unreadable, the checkin may have been applied: %w: %w", barcode, ErrOutcomeUnknown, err)
	}
	return m, nil
}

// Close closes the connection. It waits for an in-flight request to finish.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return c.drop()
}

func checkBarcode(b string) error {
	if b == "" {
		return errors.New("sip2: empty barcode")
	}
	for i := 0; i < len(b); i++ {
		if b[i] < ' ' || b[i] == '|' || b[i] == 0x7f {
			return fmt.Errorf("sip2: barcode %q has byte %#x at index %d, which SIP2 cannot carry", b, b[i], i)
		}
	}
	return nil
}

// permanentError marks an error a retry cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// roundTrip sends req and returns the reply frame with code want. Callers
// hold no lock; roundTrip takes c.mu for the whole exchange.
func (c *Client) roundTrip(ctx context.Context, req Message, want string, idempotent bool, needs SupportedMessage) (*Frame, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	// Only BX is consulted: several Koha versions answer "checkin ok" N in
	// 98 (it concerns offline use) yet handle checkins.
	if !c.status.Supports(needs) {
		return nil, fmt.Errorf("%w: the ACS status (98) lists message %s as unsupported for this account", ErrUnsupported, req.Frame().Code)
	}
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if attempt > 0 {
			c.stats.Retries++
		}
		if c.conn != nil && !c.usable() {
			c.drop() // the ACS closed an idle connection (Koha does so periodically), or it is out of step
		}
		if c.conn == nil {
			if err := c.connect(ctx); err != nil {
				if errors.Is(err, ErrLoginFailed) || ctx.Err() != nil {
					return nil, err
				}
				lastErr = err
				continue
			}
		}
		f, mayApply, err := c.exchange(ctx, req.Frame(), want)
		if err == nil {
			return f, nil
		}
		c.drop()
		if !idempotent && mayApply {
			return nil, fmt.Errorf("%w (not resent, as it is not safe to repeat): %w", ErrOutcomeUnknown, err)
		}
		var pe permanentError
		if ctx.Err() != nil || errors.As(err, &pe) {
			return nil, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// connect dials, logs in and exchanges status. Called with c.mu held.
func (c *Client) connect(ctx context.Context) error {
	d := net.Dialer{Timeout: c.o.Timeout}
	conn, err := d.DialContext(ctx, "tcp", c.o.Addr)
	if err != nil {
		return fmt.Errorf("sip2: connect to %s: %w", c.o.Addr, err)
	}
	c.conn, c.r = conn, bufio.NewReaderSize(conn, 4096)

	login := &Login{UIDAlgorithm: '0', PWDAlgorithm: '0', User: c.o.User, Password: c.o.Password, Location: c.o.Location}
	f, _, err := c.exchange(ctx, login.Frame(), CodeLoginResponse)
	if err != nil {
		c.drop()
		return fmt.Errorf("sip2: login to %s: %w", c.o.Addr, err)
	}
	if lr, _ := decodeLoginResponse(f); !lr.OK {
		c.drop()
		return fmt.Errorf("%w: account %q at %s; check the SIP account's login and password", ErrLoginFailed, c.o.User, c.o.Addr)
	}
	sc := &SCStatus{Status: '0', MaxPrintWidth: 30, Protocol: defaultProtocolVersion}
	f, _, err = c.exchange(ctx, sc.Frame(), CodeACSStatus)
	if err != nil {
		c.drop()
		return fmt.Errorf("sip2: SC status to %s: %w", c.o.Addr, err)
	}
	st, err := decodeACSStatus(f, c.o.Zone)
	if err != nil {
		c.drop()
		return fmt.Errorf("sip2: SC status to %s: %w", c.o.Addr, err)
	}
	c.status = *st
	c.stats.Connects++
	return nil
}

// drop closes the connection, if any. Called with c.mu held.
func (c *Client) drop() error {
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn, c.r = nil, nil
	return err
}

// usable discards a CRLF's leftover LF and reports whether the connection
// is still fit for a request. Called with c.mu held.
func (c *Client) usable() bool {
	if n := c.r.Buffered(); n > 0 {
		left, _ := c.r.Peek(n)
		for _, b := range left {
			if b != '\r' && b != '\n' {
				return false // an unread reply: the connection is out of step
			}
		}
		c.r.Discard(n)
	}
	_ = c.conn.SetDeadline(time.Time{})
	return !connStale(c.conn)
}

// exchange writes req once and reads until a reply with code want arrives,
// handling one 96 (resend the request) and one bad checksum (ask with 97).
// mayApply reports whether the ACS may have acted on the request. Called
// with c.mu held.
func (c *Client) exchange(ctx context.Context, req *Frame, want string) (reply *Frame, mayApply bool, err error) {
	conn := c.conn
	deadline := time.Now().Add(c.o.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, false, err
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	req.Seq = -1
	if c.o.ErrorDetection {
		req.Seq = c.seq
		c.seq = (c.seq + 1) % 10
	}
	b, err := AppendEncode(c.wbuf[:0], req, c.o.ErrorDetection)
	if err != nil {
		return nil, false, permanentError{err}
	}
	b = append(b, c.o.Terminator...)
	c.wbuf = b

	write := func(p []byte) error {
		if _, err := conn.Write(p); err != nil {
			return c.ioErr(ctx, "send "+req.Code, err)
		}
		return nil
	}
	// A failed write never delivered the terminator, so the ACS has not
	// acted on a partial message.
	if err := write(b); err != nil {
		return nil, false, err
	}
	mayApply = true
	askedResend, resent := false, false
	for {
		line, err := ReadMessage(c.r)
		if err != nil {
			return nil, mayApply, c.ioErr(ctx, "read reply to "+req.Code, err)
		}
		f, err := ParseFrame(line)
		var ce *ChecksumError
		if errors.As(err, &ce) && !askedResend {
			askedResend = true
			c.stats.ResendRequests++
			rs, _ := AppendEncode(nil, (&Resend{Code: CodeRequestACSResend}).Frame(), c.o.ErrorDetection)
			if err := write(append(rs, c.o.Terminator...)); err != nil {
				return nil, mayApply, err
			}
			continue
		}
		if err != nil {
			return nil, mayApply, fmt.Errorf("reply to %s: %w", req.Code, err)
		}
		if f.Code == CodeRequestSCResend {
			// The ACS could not read the request and did not act on it.
			mayApply = false
			if resent {
				// A new connection would not fix a checksum disagreement.
				return nil, false, permanentError{fmt.Errorf("sip2: the ACS asked twice for %s to be resent; do both sides agree on error detection and checksums?", req.Code)}
			}
			resent = true
			c.stats.Resends++
			if err := write(b); err != nil {
				return nil, false, err
			}
			mayApply = true
			continue
		}
		if f.Code != want {
			return nil, mayApply, fmt.Errorf("sip2: sent %s, expected reply %s, got %s", req.Code, want, f.Code)
		}
		if req.Seq >= 0 && f.Seq >= 0 && f.Seq != req.Seq {
			return nil, mayApply, fmt.Errorf("sip2: reply %s has sequence number %d, request had %d: replies are out of step", f.Code, f.Seq, req.Seq)
		}
		return f, mayApply, nil
	}
}

func (c *Client) ioErr(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("sip2: %s to %s: %w", op, c.o.Addr, ctxErr)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("sip2: %s to %s: no reply within %v: %w", op, c.o.Addr, c.o.Timeout, err)
	}
	return fmt.Errorf("sip2: %s to %s: %w", op, c.o.Addr, err)
}
