package feig

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

	"github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"
)

// Opts configures a Dev. Zero numeric fields take their value from
// DefaultOpts; Addr, Advanced and BlockOrder are used as given.
type Opts struct {
	// Addr is the reader's COM-ADR; BroadcastAddr reaches any reader
	// (FEIG readers ship with address 0).
	Addr byte
	// Advanced uses the advanced protocol frame (STX, 2-byte length), which
	// lets one inventory reply carry every tag instead of pages of 24.
	Advanced bool
	// Blocks is how many blocks to read from each tag: 28 covers the user
	// memory of an NXP ICODE SLIX, the usual library tag, and so a whole
	// ISO 28560-2 or -3 record.
	Blocks int
	// FallbackBlocks is read instead when a tag has fewer than Blocks
	// blocks: 8 blocks of 4 bytes hold the ISO 28560-3 basic block.
	FallbackBlocks int
	// BlockOrder is how the reader sends the bytes of each block. The zero
	// value, MSBFirst, is what a FEIG reader in ISO-host mode does; the
	// driver turns the blocks back into tag memory order.
	BlockOrder ByteOrder
	// Timeout is how long to wait for a reply; an inventory of a full
	// shelf takes the reader a while.
	Timeout time.Duration
	// Retries is how often a command is sent again when its reply does not
	// come in time or comes corrupt.
	Retries int
	// MaxFailures is how many commands in a row may fail after their
	// retries before the reader is reported as gone.
	MaxFailures int
	// CacheSize is how many tags' block data is remembered so a tag that
	// stays in the field is read from once, not every round.
	CacheSize int
	// Decode turns a tag's block data (in memory order) and its DSFID from
	// the inventory into the item identifier and the name of its data
	// model (drivers.Read.Code and TagModel). Nil, or an error, leaves Code
	// as the UID in hex and TagModel empty.
	Decode func(dsfid byte, data []byte) (code, model string, err error)
}

// ByteOrder is the order in which a reader sends the bytes of one block.
type ByteOrder uint8

const (
	// MSBFirst: each block arrives last byte first (tag memory block 0
	// 01 02 03 04 arrives as 04 03 02 01). FEIG's ID CPR manual
	// (H20800-16e-ID-B) §3.1: in ISO-host mode "the data will be sent
	// always as MSB first"; its Annex F shows the frames.
	MSBFirst ByteOrder = iota
	// LSBFirst: blocks arrive in tag memory order and are passed on as
	// read, for a reader that does not follow the ISO-host convention.
	LSBFirst
)

// DefaultOpts suits an ID ISC.MR101/CPR reader and ICODE SLIX library tags.
var DefaultOpts = Opts{
	Addr:           BroadcastAddr,
	Blocks:         28,
	FallbackBlocks: 8,
	Timeout:        time.Second,
	Retries:        2,
	MaxFailures:    3,
	CacheSize:      4096,
	Decode:         DefaultDecode,
}

func (o Opts) withDefaults() Opts {
	d := o
	if d.Blocks == 0 {
		d.Blocks = DefaultOpts.Blocks
	}
	if d.FallbackBlocks == 0 {
		d.FallbackBlocks = DefaultOpts.FallbackBlocks
	}
	if d.Timeout == 0 {
		d.Timeout = DefaultOpts.Timeout
	}
	if d.Retries == 0 {
		d.Retries = DefaultOpts.Retries
	}
	if d.Retries < 0 {
		d.Retries = 0
	}
	if d.MaxFailures == 0 {
		d.MaxFailures = DefaultOpts.MaxFailures
	}
	if d.CacheSize == 0 {
		d.CacheSize = DefaultOpts.CacheSize
	}
	if d.Decode == nil {
		d.Decode = DefaultOpts.Decode
	}
	return d
}

// Stats counts what the driver saw on the wire.
type Stats struct {
	Frames       uint64 // valid frames received
	BadCRC       uint64 // frame candidates dropped for a bad CRC
	GarbageBytes uint64 // bytes skipped while hunting for a frame
	Timeouts     uint64 // commands that got no valid reply in time
	Retries      uint64 // commands sent again
	RFWarnings   uint64 // replies with status 0x83 or 0x84
	BlockReads   uint64 // tags whose blocks were read
	BlockFails   uint64 // tags delivered by UID only: their blocks could not be read
	Rounds       uint64 // inventory rounds completed
	Reads        uint64 // reads delivered
	Cards        uint64 // inventory data sets of ISO 14443 cards and Jewel tags, skipped: no library data on them
	UnknownSets  uint64 // inventory data sets of an unknown transponder type, skipped with the rest of their reply
}

// Dev is a FEIG ISO-host HF reader on a serial port.
type Dev struct {
	*seriallink.Shell // Name, Err, Stop
	port              io.ReadWriter
	opts              Opts

	mu      sync.Mutex
	version []byte

	link  *seriallink.Link
	sc    seriallink.Scanner
	wbuf  []byte
	items []InventoryItem
	cache map[[8]byte]*tagEntry
	order [][8]byte // cache keys, oldest first, for eviction

	timeouts, retries, rfWarnings, blockReads, blockFails, rounds, reads atomic.Uint64
	cards, unknownSets                                                   atomic.Uint64
}

type tagEntry struct {
	uid   string
	data  []byte
	code  string
	model string
}

var _ drivers.Reader = (*Dev)(nil)

// New returns a Dev speaking to a reader on port. The Dev owns port: it
// closes it (if it is an io.Closer) when reading ends.
func New(name string, port io.ReadWriter, opts Opts) (*Dev, error) {
	if port == nil {
		return nil, errors.New("feig: nil port")
	}
	o := opts.withDefaults()
	if o.Blocks < 1 || o.Blocks > 256 || o.FallbackBlocks < 1 || o.FallbackBlocks > o.Blocks {
		return nil, fmt.Errorf("feig: blocks %d / fallback %d: want 1 ≤ fallback ≤ blocks ≤ 256", o.Blocks, o.FallbackBlocks)
	}
	return &Dev{
		Shell: seriallink.NewShell("feig", name), port: port, opts: o,
		cache: make(map[[8]byte]*tagEntry),
	}, nil
}

// Open opens the serial port at path (8 data bits, even parity, 1 stop
// bit: FEIG's default framing, 38400 baud out of the box) and returns a Dev.
func Open(name, path string, baud int, opts Opts) (*Dev, error) {
	mode := &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.EvenParity, StopBits: serial.OneStopBit}
	return seriallink.OpenNow("feig", path, mode, func(p io.ReadWriter) (*Dev, error) { return New(name, p, opts) })
}

// Version is the reader's Get Software Version reply data from Start.
func (d *Dev) Version() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]byte(nil), d.version...)
}

// Stats returns the wire counters so far.
func (d *Dev) Stats() Stats {
	frames, badCRC, garbage := d.sc.Stats()
	return Stats{
		Frames: frames, BadCRC: badCRC, GarbageBytes: garbage,
		Timeouts: d.timeouts.Load(), Retries: d.retries.Load(), RFWarnings: d.rfWarnings.Load(),
		BlockReads: d.blockReads.Load(), BlockFails: d.blockFails.Load(),
		Rounds: d.rounds.Load(), Reads: d.reads.Load(),
		Cards: d.cards.Load(), UnknownSets: d.unknownSets.Load(),
	}
}

// Start asks the reader for its software version (proving it answers at
// this address and framing) and then inventories continuously, delivering
// one Read per tag per round on out.
func (d *Dev) Start(ctx context.Context, out chan<- drivers.Read) error {
	return d.Shell.Start(ctx, func() (io.ReadWriter, error) { return d.port, nil },
		func(ctx context.Context, l *seriallink.Link) error {
			d.link = l
			r, err := d.exchange(ctx, CmdSoftwareVersion, nil)
			if err == nil && r.Status != StatusOK {
				err = &StatusError{Cmd: CmdSoftwareVersion, Status: r.Status}
			}
			if err != nil {
				return fmt.Errorf("get software version: %w", err)
			}
			d.mu.Lock()
			d.version = append([]byte(nil), r.Data...)
			d.mu.Unlock()
			return nil
		},
		func(ctx context.Context, _ *seriallink.Link) error {
			return seriallink.Rounds(ctx, d.opts.MaxFailures, func(ctx context.Context) error { return d.round(ctx, out) },
				func() { d.rounds.Add(1) })
		})
}

// round inventories the field (following "more data" pages), reads the
// blocks of every tag not in the cache, and delivers a Read per tag.
func (d *Dev) round(ctx context.Context, out chan<- drivers.Read) error {
	items := d.items[:0]
	mode := byte(0)
	for page := 0; ; page++ {
		r, err := d.exchange(ctx, CmdISO, InventoryRequest(mode))
		if err != nil {
			return fmt.Errorf("inventory: %w", err)
		}
		switch r.Status {
		case StatusNoTransponder:
			d.items = items
			return d.deliver(ctx, out, items)
		case StatusRFCommError, StatusRFWarning:
			d.rfWarnings.Add(1)
			if len(r.Data) == 0 {
				d.items = items
				return d.deliver(ctx, out, items)
			}
		case StatusOK, StatusMoreData:
		default:
			return fmt.Errorf("inventory: %w", &StatusError{Cmd: CmdISO, Sub: ISOInventory, Status: r.Status})
		}
		got, err := ParseInventory(r.Data, nil)
		var ute *UnknownTypeError
		if errors.As(err, &ute) {
			// The sets before it are good; the rest cannot be found.
			d.unknownSets.Add(uint64(ute.Left))
			err = nil
		}
		if err != nil {
			return fmt.Errorf("inventory: %w", err)
		}
		for _, it := range got {
			if it.TRType != TRISO15693 {
				d.cards.Add(1) // a student's MIFARE card on the pad
				continue
			}
			items = append(items, it)
		}
		if r.Status != StatusMoreData {
			break
		}
		if page > 255 {
			return errors.New("inventory: reader keeps reporting more data")
		}
		mode = ModeMore
	}
	d.items = items
	return d.deliver(ctx, out, items)
}

func (d *Dev) deliver(ctx context.Context, out chan<- drivers.Read, items []InventoryItem) error {
	for _, it := range items {
		e, err := d.tag(ctx, it)
		if err != nil {
			return err
		}
		r := drivers.Read{
			Device: d.Name(), Kind: drivers.KindRFID, Raw: append([]byte(nil), e.data...),
			Code: e.code, Symbology: "ISO15693", TagModel: e.model, TagUID: e.uid, DSFID: it.DSFID, Time: time.Now(),
		}
		// A consumer that stopped reading must not keep Stop waiting: the
		// tags of an unfinished round are read again next time.
		select {
		case out <- r:
			d.reads.Add(1)
		case <-ctx.Done():
			return seriallink.ErrStopped
		}
	}
	return nil
}

// tag returns the cached entry for uid, reading its blocks if need be. A
// tag whose blocks cannot be read (it left the field, it is read-protected)
// is still delivered, by UID, and tried again next round.
func (d *Dev) tag(ctx context.Context, it InventoryItem) (*tagEntry, error) {
	uid := it.UID
	if e, ok := d.cache[uid]; ok {
		return e, nil
	}
	id := drivers.HexUpper(uid[:])
	data, err := d.readBlocks(ctx, uid, d.opts.Blocks)
	var se *StatusError
	if errors.As(err, &se) && (se.Status == StatusISOError || se.Status == StatusAddressError) && d.opts.FallbackBlocks < d.opts.Blocks {
		data, err = d.readBlocks(ctx, uid, d.opts.FallbackBlocks)
	}
	if errors.Is(err, seriallink.ErrStopped) || errors.Is(err, drivers.ErrDisconnected) {
		return nil, err
	}
	if err != nil {
		d.blockFails.Add(1)
		return &tagEntry{uid: id, code: id}, nil
	}
	d.blockReads.Add(1)
	e := &tagEntry{uid: id, data: data, code: id}
	if code, model, err := d.opts.Decode(it.DSFID, data); err == nil && code != "" {
		e.code, e.model = code, model
	}
	if len(d.order) >= d.opts.CacheSize {
		delete(d.cache, d.order[0])
		d.order = d.order[1:]
	}
	d.cache[uid] = e
	d.order = append(d.order, uid)
	return e, nil
}

// readBlocks reads n blocks from block 0, in requests of at most 128 bytes.
func (d *Dev) readBlocks(ctx context.Context, uid [8]byte, n int) ([]byte, error) {
	var data []byte
	per, size := min(n, 32), 0
	for first := 0; first < n; {
		cnt := min(per, n-first)
		r, err := d.exchange(ctx, CmdISO, ReadBlocksRequest(uid, byte(first), byte(cnt)))
		if err != nil {
			return nil, err
		}
		switch r.Status {
		case StatusOK:
		case StatusRFCommError, StatusRFWarning:
			d.rfWarnings.Add(1)
			return nil, &StatusError{Cmd: CmdISO, Sub: ISOReadMultipleBlocks, Status: r.Status}
		default:
			se := &StatusError{Cmd: CmdISO, Sub: ISOReadMultipleBlocks, Status: r.Status}
			if r.Status == StatusISOError && len(r.Data) > 0 {
				se.ISOError = r.Data[0]
			}
			return nil, se
		}
		b, err := ParseBlocks(r.Data)
		if err != nil {
			return nil, err
		}
		if b.Count != cnt || (size != 0 && b.Size != size) {
			return nil, &FrameError{0, fmt.Sprintf("asked for %d blocks, got %d of %d bytes", cnt, b.Count, b.Size)}
		}
		if d.opts.BlockOrder == MSBFirst {
			ReverseBlocks(b.Data, b.Size)
		}
		data = append(data, b.Data...)
		first += cnt
		size = b.Size
		per = max(1, 128/size)
	}
	return data, nil
}

// exchange sends one command and waits for its reply, sending it again
// (opts.Retries times) when no reply comes in time or the reply is corrupt.
// Inventory and block reads may safely be repeated: a lost "more data"
// page loses its tags for this round only.
func (d *Dev) exchange(ctx context.Context, cmd byte, data []byte) (Frame, error) {
	return seriallink.Retry(d.opts.Retries, func() (Frame, error) { return d.attempt(ctx, cmd, data) }, func() { d.retries.Add(1) })
}

func (d *Dev) attempt(ctx context.Context, cmd byte, data []byte) (Frame, error) {
	d.sc.Reset()
	var err error
	d.wbuf, err = AppendRequest(d.wbuf[:0], Frame{Advanced: d.opts.Advanced, Addr: d.opts.Addr, Cmd: cmd, Data: data})
	if err != nil {
		return Frame{}, err
	}
	if err := d.link.Write(d.wbuf); err != nil {
		return Frame{}, err
	}
	deadline := time.Now().Add(d.opts.Timeout)
	addr := d.opts.Addr
	var probe func(b []byte) int
	if d.opts.Advanced {
		probe = func(b []byte) int {
			if b[0] != STX {
				return -1
			}
			if len(b) < 5 {
				return 0
			}
			n := int(b[1])<<8 | int(b[2])
			if n < 8 || b[4] != cmd || (addr != BroadcastAddr && b[3] != addr) {
				return -1
			}
			return n
		}
	} else {
		probe = func(b []byte) int {
			if b[0] < 6 {
				return -1
			}
			if len(b) < 3 {
				return 0
			}
			if b[2] != cmd || (addr != BroadcastAddr && b[1] != addr) {
				return -1
			}
			return int(b[0])
		}
	}
	f, err := d.link.Await(ctx, deadline, &d.sc, probe, crcOK, "command", cmd)
	if errors.Is(err, seriallink.ErrTimeout) {
		d.timeouts.Add(1)
	}
	if err != nil {
		return Frame{}, err
	}
	r, _, err := DecodeReply(f)
	return r, err
}
