// Package chafon drives Chafon UHFReader18 / UHFReader288 family UHF RFID
// readers (CF-RU5102, CF-RU6402, CF-MU804 and their many rebrands) over a
// serial link.
//
// The reader speaks a command/response protocol: the host sends
// Len Adr Cmd Data… CRC (CRC-16/MCRF4XX, LSB first) and the reader answers
// Len Adr Cmd Status Data… CRC. An inventory may be answered by several
// frames (status 0x03 means more follow). The driver runs continuous
// inventory and turns every tag in every answer into a drivers.Read; the
// pipeline dedupes them and maps EPCs to items.
package chafon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"
)

// Opts configures a Dev.
type Opts struct {
	// Address is the reader's bus address; BroadcastAddr (0xFF) reaches
	// whichever reader is on the link.
	Address byte
	// Protocol is the inventory answer layout; ProtocolAuto asks the reader.
	Protocol Protocol
	// Power is the RF output power in dBm (1..30) set at start; 0 leaves
	// the reader's setting.
	Power int
	// Region, when set, is written at start (band and channel range).
	Region *Region
	// ScanTime is the reader's inventory scan time, written at start on
	// the 18 layout and sent with each inventory on the 288 layout; 0
	// leaves the reader's setting (288: 1 s).
	ScanTime time.Duration
	// Q and Session are the 288-layout anticollision parameters.
	Q, Session byte
	// Antenna is the 288-layout antenna (1..4).
	Antenna int
	// Interval is the pause between inventory rounds; 0 runs them back to
	// back, which is what a wand wants.
	Interval time.Duration
	// Timeout is how long to wait for an answer beyond the scan time.
	Timeout time.Duration
	// MaxTimeouts is how many commands in a row may go unanswered before
	// the reader is reported gone (drivers.ErrDisconnected).
	MaxTimeouts int
	// ReadPC reads each newly seen tag's PC word (EPC bank word 1, one
	// Read Data command per tag, remembered while the tag is seen) and
	// hands over PC ‖ EPC in Read.Raw: the inventory reports the EPC
	// alone, and ISO/TS 28560-4 tags are told from GS1 EPCs by the PC's
	// toggle bit. Off by default: it costs a command per new tag. 18
	// layout only.
	ReadPC bool
}

// DefaultOpts suits a UHFReader18/288 on its own link at factory settings.
var DefaultOpts = Opts{
	Address:     BroadcastAddr,
	Protocol:    ProtocolAuto,
	Q:           4,
	Antenna:     1,
	Timeout:     500 * time.Millisecond,
	MaxTimeouts: 3,
}

func (o Opts) validate() error {
	if o.Power < 0 || o.Power > 30 {
		return fmt.Errorf("chafon: power %d dBm out of range; use 1..30, or 0 to leave the reader's setting", o.Power)
	}
	if o.ScanTime != 0 && (o.ScanTime < 300*time.Millisecond || o.ScanTime > 25500*time.Millisecond) {
		return fmt.Errorf("chafon: scan time %v out of range; use 300ms..25.5s, or 0 to leave the reader's setting", o.ScanTime)
	}
	if o.Q > 15 || o.Session > 3 {
		return fmt.Errorf("chafon: Q %d / session %d out of range; use Q 0..15, session 0..3", o.Q, o.Session)
	}
	if o.Antenna < 0 || o.Antenna > 4 {
		return fmt.Errorf("chafon: antenna %d out of range; use 1..4", o.Antenna)
	}
	if o.Protocol < ProtocolAuto || o.Protocol > Protocol288 {
		return fmt.Errorf("chafon: unknown protocol %d", o.Protocol)
	}
	if o.Region != nil && (o.Region.Min > 63 || o.Region.Max > 63 || o.Region.Min > o.Region.Max) {
		return fmt.Errorf("chafon: region channels %d..%d invalid; use 0 <= min <= max <= 63", o.Region.Min, o.Region.Max)
	}
	if o.ReadPC && o.Protocol == Protocol288 {
		return errors.New("chafon: ReadPC works with the UHFReader18 layout only (its Read Data frame is the one checked against a public source)")
	}
	if o.Timeout <= 0 || o.MaxTimeouts <= 0 {
		return errors.New("chafon: Timeout and MaxTimeouts must be positive; start from DefaultOpts")
	}
	return nil
}

// Stats are the driver's counters.
type Stats struct {
	Frames   uint64 // good frames
	BadCRC   uint64 // frames dropped for a bad CRC
	Skipped  uint64 // garbage bytes skipped while resynchronizing
	Timeouts uint64 // commands that went unanswered
	Rounds   uint64 // inventory rounds completed
	Tags     uint64 // tag reads delivered
}

// ErrTimeout is wrapped by errors for commands the reader did not answer.
var ErrTimeout = errors.New("no answer from reader")

// Dev is a Chafon reader. It implements drivers.Reader.
type Dev struct {
	*seriallink.Shell // Name, Err, Stop
	opts              Opts
	open              func() (io.ReadWriter, error) // the port, at Start

	dec      Decoder // the answer hunt; its totals are read by Stats while running
	timeouts atomic.Uint64
	rounds   atomic.Uint64
	tags     atomic.Uint64

	pcs     map[string][2]byte // EPC (raw string) → PC word, with ReadPC
	pcOrder []string           // pcs' keys, oldest first

	mu    sync.Mutex
	info  Info
	proto Protocol
}

var _ drivers.Reader = (*Dev)(nil)

// New returns a driver for the reader on port. The caller owns port: the
// driver never closes it, and a read blocked on a port without a read
// timeout returns only when the caller closes it.
func New(name string, port io.ReadWriter, opts Opts) (*Dev, error) {
	if port == nil {
		return nil, errors.New("chafon: nil port")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	return newDev(name, opts, func() (io.ReadWriter, error) { return seriallink.Borrowed(port), nil }), nil
}

func newDev(name string, opts Opts, open func() (io.ReadWriter, error)) *Dev {
	return &Dev{Shell: seriallink.NewShell("chafon", name), opts: opts, open: open}
}

// Info is what the reader reported about itself at start.
func (d *Dev) Info() Info {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.info
}

// Protocol is the inventory layout in use (after ProtocolAuto resolved).
func (d *Dev) Protocol() Protocol {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.proto
}

// Stats returns the counters; safe while running.
func (d *Dev) Stats() Stats {
	frames, badCRC, skipped := d.dec.Stats()
	return Stats{
		Frames:   frames,
		BadCRC:   badCRC,
		Skipped:  skipped,
		Timeouts: d.timeouts.Load(),
		Rounds:   d.rounds.Load(),
		Tags:     d.tags.Load(),
	}
}

// Start opens the port (for a Dev from Open), asks the reader who it is,
// applies the init commands (region, power, scan time) and starts
// continuous inventory. It returns once inventory has begun.
func (d *Dev) Start(ctx context.Context, out chan<- drivers.Read) error {
	var l *link
	return d.Shell.Start(ctx, d.open,
		func(ctx context.Context, sl *seriallink.Link) error {
			d.dec.Addr = d.opts.Address
			l = &link{sl: sl, dec: &d.dec}
			if err := d.init(ctx, l); err != nil {
				return fmt.Errorf("init: %w", err)
			}
			return nil
		},
		func(ctx context.Context, _ *seriallink.Link) error { return d.run(ctx, l, out) })
}

// init reads the reader information and applies the init commands.
func (d *Dev) init(ctx context.Context, l *link) error {
	o := d.opts
	to := o.Timeout
	// Init commands are idempotent: retry the ones lost on the link.
	ask := func(c Command) (r Response, err error) {
		for range o.MaxTimeouts {
			r, err = l.transactOne(ctx, c, to)
			if !errors.Is(err, ErrTimeout) {
				return r, err
			}
			d.timeouts.Add(1)
		}
		return r, fmt.Errorf("%w: %w", drivers.ErrDisconnected, err)
	}
	r, err := ask(Command{Addr: o.Address, Cmd: CmdReaderInfo})
	if err != nil {
		return fmt.Errorf("reader info: %w", err)
	}
	if r.Status != StatusOK {
		return fmt.Errorf("reader info: %s", StatusText(r.Status))
	}
	info, err := ParseInfo(r.Data)
	if err != nil {
		return err
	}
	if o.Address == BroadcastAddr {
		l.dec.Addr = r.Addr // lock onto the reader that answered
	}
	proto := o.Protocol
	if proto == ProtocolAuto {
		proto = protocolFor(info.Type)
	}
	if o.ReadPC && proto != Protocol18 {
		return fmt.Errorf("read_pc: reader type 0x%02X speaks the 288 layout; reading the PC word works with the UHFReader18 layout only", info.Type)
	}
	if cmd, data, ok := answerMode(info.Type); ok {
		// As chafon-rfid does, the answer is not checked: a reader
		// already in answer mode may refuse the command.
		if _, err := ask(Command{Addr: o.Address, Cmd: cmd, Data: data}); err != nil {
			return fmt.Errorf("set answer mode: %w", err)
		}
	}
	set := func(what string, c Command) error {
		r, err := ask(c)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if r.Status != StatusOK {
			return fmt.Errorf("%s: reader says %s", what, StatusText(r.Status))
		}
		return nil
	}
	if o.Region != nil {
		if err := set("set region", Command{Addr: o.Address, Cmd: CmdSetRegion, Data: o.Region.Data()}); err != nil {
			return err
		}
		info.Region = *o.Region
	}
	if o.Power > 0 {
		if err := set("set power", Command{Addr: o.Address, Cmd: CmdSetPower, Data: []byte{byte(o.Power)}}); err != nil {
			return err
		}
		info.Power = o.Power
	}
	if o.ScanTime > 0 && proto == Protocol18 {
		if err := set("set scan time", Command{Addr: o.Address, Cmd: CmdSetScanTime, Data: []byte{scanSteps(o.ScanTime)}}); err != nil {
			return err
		}
		info.ScanTime = time.Duration(scanSteps(o.ScanTime)) * 100 * time.Millisecond
	}
	d.mu.Lock()
	d.info, d.proto = info, proto
	d.mu.Unlock()
	return nil
}

// run is the inventory loop.
func (d *Dev) run(ctx context.Context, l *link, out chan<- drivers.Read) error {
	o := d.opts
	proto := d.Protocol()
	scan := d.Info().ScanTime
	ip := InventoryParams{Q: o.Q, Session: o.Session, Antenna: o.Antenna, ScanTime: o.ScanTime}
	if proto == Protocol288 {
		if ip.ScanTime == 0 {
			ip.ScanTime = time.Second
		}
		scan = ip.ScanTime
	}
	cmd := Command{Addr: o.Address, Cmd: CmdInventory, Data: InventoryData(proto, ip)}
	timeout := scan + o.Timeout
	var parseErr error
	misses := 0
	var timer *time.Timer
	var seen []Tag // this round's tags, with ReadPC
	for ctx.Err() == nil {
		seen = seen[:0]
		err := l.transact(ctx, cmd, timeout, func(r Response) (bool, error) {
			switch r.Status {
			case StatusDone, StatusTimeOverflow, StatusMore, StatusBufferFull:
			case StatusNoTag:
				return false, nil
			default:
				return false, fmt.Errorf("inventory: reader says %s", StatusText(r.Status))
			}
			now := time.Now()
			parseErr = ParseInventory(proto, r.Data, func(t Tag) {
				if o.ReadPC {
					t.EPC = append([]byte(nil), t.EPC...)
					seen = append(seen, t)
					return
				}
				select {
				case out <- d.read(t, nil, now):
					d.tags.Add(1)
				case <-ctx.Done():
				}
			})
			if parseErr != nil {
				// A frame with a good CRC but a broken layout: the reader
				// and the configured Protocol disagree.
				return false, fmt.Errorf("%w (check Opts.Protocol: using %v)", parseErr, proto)
			}
			return r.Status == StatusMore, nil
		})
		if len(seen) > 0 {
			if derr := d.deliverWithPC(ctx, l, out, seen); derr != nil && ctx.Err() == nil {
				return derr
			}
		}
		switch {
		case err == nil:
			misses = 0
			d.rounds.Add(1)
		case errors.Is(err, ErrTimeout):
			d.timeouts.Add(1)
			if misses++; misses >= o.MaxTimeouts {
				return fmt.Errorf("inventory: %d commands unanswered: %w: %w", misses, drivers.ErrDisconnected, err)
			}
		default:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("inventory: %w", err)
		}
		if o.Interval > 0 {
			if timer == nil {
				timer = time.NewTimer(o.Interval)
			} else {
				timer.Reset(o.Interval)
			}
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
	}
	return nil
}

// pcCacheSize bounds the PC words remembered with ReadPC.
const pcCacheSize = 4096

// deliverWithPC hands over a round's tags as PC ‖ EPC, reading the PC word
// of each tag not seen before with Read Data (0x02): EPC bank (0x01), word
// pointer 1, one word, addressed to the tag by its EPC. A tag whose PC
// cannot be read (it left the field, the read failed) goes out as its EPC
// alone and is tried again when next seen.
func (d *Dev) deliverWithPC(ctx context.Context, l *link, out chan<- drivers.Read, tags []Tag) error {
	if d.pcs == nil {
		d.pcs = map[string][2]byte{}
	}
	now := time.Now()
	for _, t := range tags {
		pc, ok := d.pcs[string(t.EPC)]
		if !ok {
			r, err := l.transactOne(ctx, Command{Addr: d.opts.Address, Cmd: CmdReadData, Data: ReadPCData(t.EPC)}, d.opts.Timeout)
			switch {
			case errors.Is(err, ErrTimeout):
				d.timeouts.Add(1)
			case err != nil:
				return fmt.Errorf("read PC: %w", err)
			case r.Status == StatusOK && len(r.Data) == 2:
				pc, ok = [2]byte{r.Data[0], r.Data[1]}, true
				if len(d.pcOrder) >= pcCacheSize {
					delete(d.pcs, d.pcOrder[0])
					d.pcOrder = d.pcOrder[1:]
				}
				d.pcs[string(t.EPC)] = pc
				d.pcOrder = append(d.pcOrder, string(t.EPC))
			}
		}
		var pcWord []byte
		if ok {
			pcWord = pc[:]
		}
		select {
		case out <- d.read(t, pcWord, now):
			d.tags.Add(1)
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// read turns an inventoried tag into a Read: Code and TagUID are the EPC in
// hex; Raw is the EPC, or PC ‖ EPC when the PC word was read (ReadPC),
// which then is in PC too. Raw is a copy, so it outlives the decoder's
// buffer.
func (d *Dev) read(t Tag, pc []byte, now time.Time) drivers.Read {
	uid := drivers.HexUpper(t.EPC)
	raw := make([]byte, 0, len(pc)+len(t.EPC))
	raw = append(append(raw, pc...), t.EPC...)
	var word uint16
	if len(pc) == 2 {
		word = uint16(pc[0])<<8 | uint16(pc[1])
	}
	return drivers.Read{
		Device:    d.Name(),
		Kind:      drivers.KindRFID,
		Raw:       raw,
		Code:      uid,
		Symbology: "EPC",
		TagUID:    uid,
		Antenna:   t.Antenna,
		PC:        word,
		Time:      now,
	}
}
