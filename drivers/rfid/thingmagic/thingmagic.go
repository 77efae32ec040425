package thingmagic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"go.bug.st/serial"

	"github.com/tally-inventory/tally/drivers/internal/crc16"
	"github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"
)

// Opts configures a Dev. Zero fields take their value from DefaultOpts.
type Opts struct {
	// Region is the regulatory frequency plan; it must match the country
	// the reader is used in.
	Region Region
	// ReadPower is the read TX power in centi-dBm (2500 = 25 dBm). The M6e
	// Nano tops out at 2700; a wand held against a shelf needs far less.
	ReadPower int
	// SearchTime is how long each read tag multiple searches before the
	// tag buffer is drained. Longer searches read more tags per exchange;
	// shorter ones report tags sooner.
	SearchTime time.Duration
	// Timeout is how long to wait for a reply beyond the search time.
	Timeout time.Duration
	// Retries is how often a command is sent again when its reply does
	// not come in time or comes corrupt.
	Retries int
	// MaxFailures is how many commands in a row may fail after their
	// retries (no reply, corrupt replies, error status) before the reader
	// is reported as gone.
	MaxFailures int
	// Metadata is the get tag buffer metadata to ask for; RSSI, antenna
	// and protocol are always included (protocol tells where the PC word is).
	Metadata uint16
	// Antennas are the antenna ports to search, 1-based; the first is
	// also set as the TX/RX port. The M6e Nano has port 1 only.
	Antennas []int
}

// DefaultOpts suits a hand-held wand or a desk pad in North America.
var DefaultOpts = Opts{
	Region:      RegionNA2,
	ReadPower:   2500,
	SearchTime:  200 * time.Millisecond,
	Timeout:     500 * time.Millisecond,
	Retries:     2,
	MaxFailures: 3,
	Metadata:    MetaReadCount | MetaRSSI | MetaAntenna | MetaProtocol,
	Antennas:    []int{1},
}

func (o Opts) withDefaults() Opts {
	d := DefaultOpts
	if o.Region != 0 {
		d.Region = o.Region
	}
	if o.ReadPower != 0 {
		d.ReadPower = o.ReadPower
	}
	if o.SearchTime != 0 {
		d.SearchTime = o.SearchTime
	}
	if o.Timeout != 0 {
		d.Timeout = o.Timeout
	}
	if o.Retries != 0 {
		d.Retries = max(o.Retries, 0)
	}
	if o.MaxFailures != 0 {
		d.MaxFailures = o.MaxFailures
	}
	d.Metadata = o.Metadata | MetaRSSI | MetaAntenna | MetaProtocol
	if len(o.Antennas) > 0 {
		d.Antennas = append([]int(nil), o.Antennas...)
	}
	return d
}

// Stats counts what the driver saw on the wire.
type Stats struct {
	Frames       uint64 // valid frames received
	BadCRC       uint64 // frame candidates dropped for a bad CRC
	GarbageBytes uint64 // bytes skipped while hunting for a frame
	Timeouts     uint64 // commands that got no valid reply in time
	Retries      uint64 // commands sent again after a timeout or a corrupt reply
	Rounds       uint64 // inventory rounds completed
	Reads        uint64 // tag reads delivered
	Booted       bool   // Start found the module in its bootloader and booted the application
}

// Dev is a ThingMagic Mercury reader on a serial port.
type Dev struct {
	*seriallink.Shell // Name, Err
	port              io.ReadWriter
	opts              Opts

	mu      sync.Mutex
	version Version

	link *seriallink.Link
	sc   seriallink.Scanner
	wbuf []byte
	tags []TagRead

	timeouts, retries, rounds, reads atomic.Uint64
	booted                           atomic.Bool
}

var _ drivers.Reader = (*Dev)(nil)

// New returns a Dev speaking to a reader on port. The Dev owns port: it
// closes it (if it is an io.Closer) when reading ends.
func New(name string, port io.ReadWriter, opts Opts) (*Dev, error) {
	if port == nil {
		return nil, errors.New("thingmagic: nil port")
	}
	o := opts.withDefaults()
	if o.ReadPower < 0 || o.ReadPower > 3150 {
		return nil, fmt.Errorf("thingmagic: read power %d centi-dBm is out of range 0..3150", o.ReadPower)
	}
	for _, a := range o.Antennas {
		if a < 1 || a > 15 {
			return nil, fmt.Errorf("thingmagic: antenna port %d is out of range 1..15", a)
		}
	}
	if o.SearchTime > 65535*time.Millisecond {
		return nil, fmt.Errorf("thingmagic: search time %v is over the protocol's 65.535 s", o.SearchTime)
	}
	return &Dev{Shell: seriallink.NewShell("thingmagic", name), port: port, opts: o}, nil
}

// Open opens the serial port at path (8N1 at baud; the modules ship at
// 115200) and returns a Dev on it.
func Open(name, path string, baud int, opts Opts) (*Dev, error) {
	mode := &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	return seriallink.OpenNow("thingmagic", path, mode, func(p io.ReadWriter) (*Dev, error) { return New(name, p, opts) })
}

// Version is what the reader reported at Start.
func (d *Dev) Version() Version {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.version
}

// Stats returns the wire counters so far.
func (d *Dev) Stats() Stats {
	frames, badCRC, garbage := d.sc.Stats()
	return Stats{
		Frames:       frames,
		BadCRC:       badCRC,
		GarbageBytes: garbage,
		Timeouts:     d.timeouts.Load(),
		Retries:      d.retries.Load(),
		Rounds:       d.rounds.Load(),
		Reads:        d.reads.Load(),
		Booted:       d.booted.Load(),
	}
}

// Start runs the init sequence and then reads continuously, delivering one
// Read per tag record on out. The sequence follows the Mercury API's serial
// reader (TMR_SR_boot): version; current program, and boot firmware when
// the module sits in its bootloader; then region, read power, Gen2, the
// TX/RX antenna port and the antenna search list.
func (d *Dev) Start(ctx context.Context, out chan<- drivers.Read) error {
	caller := ctx // Stop cancels the Shell's ctx; a decoded read waits for this one
	return d.Shell.Start(ctx, func() (io.ReadWriter, error) { return d.port, nil },
		func(ctx context.Context, l *seriallink.Link) error {
			d.link = l
			if err := d.init(ctx); err != nil {
				return fmt.Errorf("init: %w", err)
			}
			return nil
		},
		func(ctx context.Context, _ *seriallink.Link) error {
			return seriallink.Rounds(ctx, d.opts.MaxFailures, func(ctx context.Context) error { return d.round(ctx, caller, out) },
				func() { d.rounds.Add(1) })
		})
}

// Stop stops reading and waits until reads already decoded are delivered
// (cancel ctx to abandon them). It is safe to call more than once.
func (d *Dev) Stop() error { return d.Shell.Stop() }

func (d *Dev) init(ctx context.Context) error {
	r, err := d.exchange(ctx, OpVersion, nil, d.opts.Timeout)
	if err != nil {
		return fmt.Errorf("get version: %w", err)
	}
	v, err := ParseVersion(r.Data)
	if err != nil {
		return err
	}
	for try := 0; ; try++ {
		r, err = d.exchange(ctx, OpGetProgram, nil, d.opts.Timeout)
		if err != nil {
			return fmt.Errorf("get current program: %w", err)
		}
		if len(r.Data) < 1 {
			return &FrameError{0, "current program reply has no data"}
		}
		if r.Data[0]&3 != ProgramBootloader {
			break
		}
		// Booting takes the module a while (Mercury waits 1 s). It is not
		// sent twice blindly: once booted, the bootloader's opcode is
		// refused, so a lost reply is followed by asking the program again.
		r, err = d.attempt(ctx, OpBootFirmware, nil, time.Second+d.opts.Timeout)
		if err == nil {
			if v, err = ParseVersion(r.Data); err != nil {
				return fmt.Errorf("boot firmware: %w", err)
			}
			d.booted.Store(true)
			break
		}
		if try >= d.opts.Retries || !(errors.Is(err, seriallink.ErrTimeout) || errors.Is(err, seriallink.ErrCorrupt)) {
			return fmt.Errorf("boot firmware: %w", err)
		}
		d.retries.Add(1)
		d.booted.Store(true) // it may have booted; the program check tells
	}
	d.mu.Lock()
	d.version = v
	d.mu.Unlock()
	steps := []struct {
		what string
		op   byte
		data []byte
	}{
		{"set region", OpSetRegion, []byte{byte(d.opts.Region)}},
		{"set read power", OpSetReadTxPower, []byte{byte(d.opts.ReadPower >> 8), byte(d.opts.ReadPower)}},
		{"set tag protocol Gen2", OpSetTagProtocol, []byte{ProtocolGen2 >> 8, ProtocolGen2 & 0xFF}},
		{"set antenna port", OpSetAntennaPort, AntennaPortData(d.opts.Antennas[0])},
		{"set antenna search list", OpSetAntennaPort, AntennaSearchListData(d.opts.Antennas)},
	}
	for _, s := range steps {
		if _, err := d.exchange(ctx, s.op, s.data, d.opts.Timeout); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// round is one inventory cycle: clear the buffer, search, drain the buffer.
// ctx (which Stop cancels) ends the exchanges; a read already decoded
// waits for the consumer until the caller's ctx is done.
func (d *Dev) round(ctx, caller context.Context, out chan<- drivers.Read) error {
	if _, err := d.exchange(ctx, OpClearTagBuffer, nil, d.opts.Timeout); err != nil {
		return fmt.Errorf("clear tag buffer: %w", err)
	}
	ms := uint16(d.opts.SearchTime / time.Millisecond)
	r, err := d.exchange(ctx, OpReadTagMultiple, ReadTagMultipleData(ms), d.opts.SearchTime+d.opts.Timeout)
	var se *StatusError
	if errors.As(err, &se) && se.Status == StatusNoTagsFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read tag multiple: %w", err)
	}
	remaining, err := ParseTagCount(r.Data)
	if err != nil {
		return err
	}
	for remaining > 0 {
		r, err := d.exchange(ctx, OpGetTagBuffer, GetTagBufferData(d.opts.Metadata), d.opts.Timeout)
		if errors.As(err, &se) && se.Status == StatusBufferEmpty {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get tag buffer: %w", err)
		}
		tb, err := ParseTagBuffer(r.Data, d.tags)
		d.tags = tb.Tags[:0]
		if err != nil {
			return err
		}
		if len(tb.Tags) == 0 {
			return nil
		}
		now := time.Now()
		for _, t := range tb.Tags {
			rd := d.read(t, now)
			select {
			case out <- rd:
				d.reads.Add(1)
			case <-caller.Done():
				return seriallink.ErrStopped
			}
		}
		remaining -= len(tb.Tags)
	}
	return nil
}

// read turns a tag record into a Read. Raw is the tag's record as sent
// (metadata, EPC length, PC, EPC, tag CRC) rather than the whole frame,
// which carries up to a dozen tags. Code is the EPC: deciding between
// GS1 and ISO 28560-4 is the pipeline's job, by the PC word's toggle bit.
// PC is set when the record's tag CRC, the StoredCRC the tag keeps over PC
// (XPC) and EPC (CRC-16/GENIBUS), agrees with the words parsed.
func (d *Dev) read(t TagRead, now time.Time) drivers.Read {
	id := drivers.HexUpper(t.EPC)
	var pc uint16
	if len(t.PC) >= 2 && ^crc16.Update(crc16.Update(0xFFFF, t.PC), t.EPC) == t.TagCRC {
		pc = uint16(t.PC[0])<<8 | uint16(t.PC[1])
	}
	return drivers.Read{
		Device:    d.Name(),
		Kind:      drivers.KindRFID,
		Raw:       append([]byte(nil), t.Raw...),
		Code:      id,
		Symbology: "EPC",
		TagUID:    id,
		Antenna:   t.Antenna,
		RSSI:      t.RSSI,
		PC:        pc,
		Time:      now,
	}
}

// exchange sends one command and waits for its reply, sending it again
// (opts.Retries times) when no reply comes in time or the reply is corrupt.
// Every command this driver sends may safely be repeated: a lost tag
// buffer reply loses its tags for this round only.
func (d *Dev) exchange(ctx context.Context, op byte, data []byte, timeout time.Duration) (Response, error) {
	return seriallink.Retry(d.opts.Retries, func() (Response, error) { return d.attempt(ctx, op, data, timeout) }, func() { d.retries.Add(1) })
}

// attempt sends one command and waits for its reply. Stale bytes from
// earlier exchanges are dropped first; replies to other opcodes and garbage
// are skipped while waiting. A reply with a bad CRC fails the attempt at
// once: the reader will not send it again.
func (d *Dev) attempt(ctx context.Context, op byte, data []byte, timeout time.Duration) (Response, error) {
	d.sc.Reset()
	var err error
	d.wbuf, err = AppendCommand(d.wbuf[:0], op, data)
	if err != nil {
		return Response{}, err
	}
	if err := d.link.Write(d.wbuf); err != nil {
		return Response{}, err
	}
	deadline := time.Now().Add(timeout)
	probe := func(b []byte) int {
		if b[0] != SOH {
			return -1
		}
		if len(b) < 3 {
			return 0
		}
		if b[2] != op {
			return -1
		}
		return 7 + int(b[1])
	}
	f, err := d.link.Await(ctx, deadline, &d.sc, probe, crcOK, "opcode", op)
	if errors.Is(err, seriallink.ErrTimeout) {
		d.timeouts.Add(1)
	}
	if err != nil {
		return Response{}, err
	}
	r, _, err := DecodeResponse(f)
	if err != nil { // cannot happen: verified above
		return Response{}, err
	}
	if r.Status != StatusOK {
		return r, &StatusError{Opcode: op, Status: r.Status}
	}
	return r, nil
}
