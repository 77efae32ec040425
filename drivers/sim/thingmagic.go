package sim

import (
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tally-inventory/tally/drivers/internal/crc16"
)

// ThingMagicOpts configures a simulated ThingMagic Mercury reader.
type ThingMagicOpts struct {
	Tags     []Tag   // the tags in the field; change them later with SetTags
	Noise    Noise   // how the link misbehaves
	Hardware byte    // model byte in the version reply: 0x18 M6e (default), 0x30 M6e Nano
	MissRate float64 // probability that a search misses a tag in the field
	// RealTime makes a read tag multiple take the search time it asks for,
	// as a real module does; off, the simulator answers at once (tests).
	RealTime bool
	// InApp starts the module in its application firmware. By default it
	// starts in its bootloader, as a module does after power-up: it
	// answers version, get current program (0x11) and boot firmware, and
	// refuses everything else (invalid opcode) until booted (the Mercury
	// API's TMR_SR_boot checks the program and boots the firmware).
	InApp bool
	// Antennas are the ports with an antenna attached (default: port 1).
	// A search of a list naming no attached port fails with "antenna not
	// connected" (0x0503).
	Antennas []int
}

// ThingMagicStats counts what the simulated reader did.
type ThingMagicStats struct {
	Commands    uint64 // well-formed commands answered
	BadCommands uint64 // command candidates dropped for a bad CRC
	Searches    uint64 // read tag multiple commands served
	TagRecords  uint64 // tag records sent in tag buffer replies
	Boots       uint64 // boot firmware commands that left the bootloader
}

// ThingMagic is a simulated ThingMagic Mercury serial reader (M6e / M6e
// Nano) answering the Mercury serial protocol byte for byte on an
// io.ReadWriter, typically a pty master. It implements the commands a host
// uses to initialise a module and read tags synchronously: version (0x03),
// get current program (0x0C), boot firmware (0x04), set region (0x97), set
// read TX power (0x92), set tag protocol (0x93), set antenna port and
// search list (0x91), clear tag buffer (0x2A), read tag multiple (0x22)
// and get tag buffer (0x29) with metadata. Anything else is answered
// "invalid opcode".
type ThingMagic struct {
	rw      io.ReadWriter
	closeRW func()
	opts    ThingMagicOpts

	mu   sync.Mutex
	tags []Tag

	rng       *rand.Rand
	app       bool // running the application firmware, not the bootloader
	protocol  uint16
	region    byte
	txPort    byte   // set with 0x91 TX, RX; port 1 at power-up
	portList  []byte // the antenna search list's TX ports
	buffer    []tmBuffered
	bufPos    int
	unplugged atomic.Bool
	closeOnce sync.Once
	wbuf      []byte
	start     time.Time

	commands, badCommands, searches, tagRecords, boots atomic.Uint64
}

type tmBuffered struct {
	tag       *Tag
	count     int
	rssi      int8
	antenna   byte
	timestamp uint32
}

// NewThingMagic returns a simulated reader serving on rw once Serve runs.
func NewThingMagic(rw io.ReadWriter, opts ThingMagicOpts) *ThingMagic {
	if opts.Hardware == 0 {
		opts.Hardware = 0x18
	}
	if len(opts.Antennas) == 0 {
		opts.Antennas = []int{1}
	}
	s := &ThingMagic{opts: opts, rng: opts.Noise.Rand(), start: time.Now(), app: opts.InApp, txPort: 1}
	s.rw, s.closeRW = pollable(rw)
	s.SetTags(opts.Tags)
	return s
}

// SetTags replaces the tags in the field (a cart rolled in or out).
func (s *ThingMagic) SetTags(tags []Tag) {
	s.mu.Lock()
	s.tags = append([]Tag(nil), tags...)
	s.mu.Unlock()
}

// Stats returns the counters so far.
func (s *ThingMagic) Stats() ThingMagicStats {
	return ThingMagicStats{
		Commands:    s.commands.Load(),
		BadCommands: s.badCommands.Load(),
		Searches:    s.searches.Load(),
		TagRecords:  s.tagRecords.Load(),
		Boots:       s.boots.Load(),
	}
}

// Unplug makes the reader vanish: it stops answering and closes rw (for a
// pty master, the driver's port then fails as a pulled USB cable does).
func (s *ThingMagic) Unplug() {
	s.unplugged.Store(true)
	s.closeOnce.Do(s.closeRW)
}

// pollable makes a blocking *os.File (creack/pty hands the master out in
// blocking mode) interruptible: it serves on a non-blocking duplicate that
// the runtime poller can wake, so that closing it ends a pending Read.
// close closes both, which is what makes the pty hang up on the driver.
func pollable(rw io.ReadWriter) (io.ReadWriter, func()) {
	f, ok := rw.(*os.File)
	if !ok {
		return rw, func() {
			if c, ok := rw.(io.Closer); ok {
				c.Close()
			}
		}
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return rw, func() { f.Close() }
	}
	var dup int
	var derr error
	if cerr := sc.Control(func(fd uintptr) { dup, derr = syscall.Dup(int(fd)) }); cerr != nil || derr != nil {
		return rw, func() { f.Close() }
	}
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return rw, func() { f.Close() }
	}
	nf := os.NewFile(uintptr(dup), f.Name())
	return nf, func() {
		nf.Close()
		f.Close()
	}
}

// Serve answers commands until ctx is cancelled (which unplugs the reader),
// Unplug is called, or rw fails.
func (s *ThingMagic) Serve(ctx context.Context) error {
	return serveCommands(ctx, s.rw.Read, s.Unplug, &s.unplugged, 4096, func(b []byte) (int, func() error) {
		op, data, used, ok := s.nextCommand(b)
		if !ok {
			return used, nil
		}
		return used, func() error { return s.handle(op, data) }
	})
}

// nextCommand finds the next valid command in b. used is how many bytes
// may be dropped (garbage, bad frames, the command); the returned data is
// copied so b can be compacted.
func (s *ThingMagic) nextCommand(b []byte) (op byte, data []byte, used int, ok bool) {
	i := 0
	for i < len(b) {
		if b[i] != 0xFF {
			i++
			continue
		}
		if len(b)-i < 2 {
			return 0, nil, i, false
		}
		n := 5 + int(b[i+1])
		if len(b)-i < n {
			return 0, nil, i, false
		}
		f := b[i : i+n]
		if binary.BigEndian.Uint16(f[n-2:]) != crc16.Augmented(f[1:n-2]) {
			s.badCommands.Add(1)
			i++
			continue
		}
		return f[2], append([]byte(nil), f[3:n-2]...), i + n, true
	}
	return 0, nil, i, false
}

func (s *ThingMagic) version() []byte {
	return []byte{
		0x12, 0x08, 0x00, 0x00, // bootloader
		s.opts.Hardware, 0x00, 0x00, 0x01, // hardware
		0x20, 0x17, 0x06, 0x30, // firmware date
		0x01, 0x09, 0x00, 0x02, // firmware version
		0x00, 0x00, 0x00, 0x10, // protocols: Gen2
	}
}

func (s *ThingMagic) handle(op byte, d []byte) error {
	s.commands.Add(1)
	switch op {
	case 0x03: // version: both programs answer it
		return s.reply(op, 0, s.version())
	case 0x0C: // get current program
		if s.app {
			return s.reply(op, 0, []byte{0x12})
		}
		return s.reply(op, 0, []byte{0x11})
	case 0x04: // boot firmware: a bootloader command
		if s.app {
			return s.reply(op, 0x0101, nil)
		}
		s.app = true
		s.boots.Add(1)
		return s.reply(op, 0, s.version())
	}
	if !s.app {
		return s.reply(op, 0x0101, nil) // the bootloader knows no reader commands
	}
	switch op {
	case 0x91: // set antenna port: TX RX, or option 2 and a search list of TX RX pairs
		switch {
		case len(d) == 2:
			s.txPort = d[0]
		case len(d) >= 3 && d[0] == 0x02 && len(d)%2 == 1:
			s.portList = s.portList[:0]
			for i := 1; i < len(d); i += 2 {
				s.portList = append(s.portList, d[i])
			}
		default:
			return s.reply(op, 0x0105, nil)
		}
		return s.reply(op, 0, nil)
	case 0x97: // set region
		if len(d) != 1 && len(d) != 2 {
			return s.reply(op, 0x0100, nil)
		}
		switch d[0] {
		case 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0xFF:
			s.region = d[0]
			return s.reply(op, 0, nil)
		}
		return s.reply(op, 0x010B, nil)
	case 0x92: // set read TX power
		if len(d) != 2 && len(d) != 3 && len(d) != 5 {
			return s.reply(op, 0x0100, nil)
		}
		p := int(binary.BigEndian.Uint16(d[len(d)-2:]))
		if len(d) == 2 {
			p = int(binary.BigEndian.Uint16(d))
		}
		limit := 3150
		if s.opts.Hardware == 0x30 {
			limit = 2700
		}
		if p > limit {
			return s.reply(op, 0x0103, nil)
		}
		return s.reply(op, 0, nil)
	case 0x93: // set tag protocol
		if len(d) != 2 {
			return s.reply(op, 0x0100, nil)
		}
		if p := binary.BigEndian.Uint16(d); p != 0x0005 {
			return s.reply(op, 0x0402, nil)
		}
		s.protocol = 0x0005
		return s.reply(op, 0, nil)
	case 0x2A: // clear tag buffer
		s.buffer, s.bufPos = s.buffer[:0], 0
		return s.reply(op, 0, nil)
	case 0x22: // read tag multiple (synchronous)
		return s.search(d)
	case 0x29: // get tag buffer
		return s.drain(d)
	}
	return s.reply(op, 0x0101, nil)
}

func (s *ThingMagic) search(d []byte) error {
	const op = 0x22
	if s.protocol == 0 {
		return s.reply(op, 0x0401, nil)
	}
	if len(d) < 5 {
		return s.reply(op, 0x0100, nil)
	}
	flags := binary.BigEndian.Uint16(d[1:3])
	if flags&0x0008 != 0 { // tag streaming: not simulated
		return s.reply(op, 0x0109, nil)
	}
	timeout := time.Duration(binary.BigEndian.Uint16(d[3:5])) * time.Millisecond
	// The port searched: the first attached port of the search list, or
	// the TX port, as the search flags' antenna bits say.
	port := s.txPort
	if flags&0x0003 == 0x0003 {
		port = 0
		for _, p := range s.portList {
			if slices.Contains(s.opts.Antennas, int(p)) {
				port = p
				break
			}
		}
	}
	if !slices.Contains(s.opts.Antennas, int(port)) {
		return s.reply(op, 0x0503, nil)
	}
	s.searches.Add(1)
	if s.opts.RealTime {
		time.Sleep(timeout)
	}
	s.mu.Lock()
	ts := uint32(time.Since(s.start) / time.Millisecond)
	for i := range s.tags {
		if s.opts.MissRate > 0 && s.rng.Float64() < s.opts.MissRate {
			continue
		}
		seen := false
		for j := range s.buffer { // the module's buffer holds each tag once
			if s.buffer[j].tag == &s.tags[i] {
				s.buffer[j].count++
				seen = true
				break
			}
		}
		if !seen {
			s.buffer = append(s.buffer, tmBuffered{
				tag: &s.tags[i], count: 1 + s.rng.IntN(4),
				rssi: int8(-40 - s.rng.IntN(35)), antenna: port<<4 | port, timestamp: ts,
			})
		}
	}
	s.mu.Unlock()
	if len(s.buffer) == 0 {
		return s.reply(op, 0x0400, nil)
	}
	out := []byte{d[0], d[1], d[2]}
	if flags&0x0010 != 0 {
		out = binary.BigEndian.AppendUint32(out, uint32(len(s.buffer)))
	} else {
		out = append(out, byte(min(len(s.buffer), 255)))
	}
	return s.reply(op, 0, out)
}

func (s *ThingMagic) drain(d []byte) error {
	const op = 0x29
	if len(d) == 0 { // plain form: read and write index of the buffer
		out := binary.BigEndian.AppendUint16(nil, uint16(s.bufPos))
		return s.reply(op, 0, binary.BigEndian.AppendUint16(out, uint16(len(s.buffer))))
	}
	if len(d) != 3 {
		return s.reply(op, 0x0100, nil)
	}
	flags := binary.BigEndian.Uint16(d)
	if s.bufPos >= len(s.buffer) {
		return s.reply(op, 0x0600, nil)
	}
	out := []byte{d[0], d[1], d[2], 0}
	var rec []byte
	count := 0
	for s.bufPos < len(s.buffer) {
		rec = s.appendRecord(rec[:0], flags, &s.buffer[s.bufPos])
		if len(out)+len(rec) > 255 {
			break
		}
		out = append(out, rec...)
		count++
		s.bufPos++
	}
	out[3] = byte(count)
	s.tagRecords.Add(uint64(count))
	return s.reply(op, 0, out)
}

func (s *ThingMagic) appendRecord(b []byte, flags uint16, t *tmBuffered) []byte {
	if flags&0x0001 != 0 {
		b = append(b, byte(t.count))
	}
	if flags&0x0002 != 0 {
		b = append(b, byte(t.rssi))
	}
	if flags&0x0004 != 0 {
		b = append(b, t.antenna)
	}
	if flags&0x0008 != 0 {
		b = append(b, 0x0D, 0xF7, 0x32) // 915250 kHz
	}
	if flags&0x0010 != 0 {
		b = binary.BigEndian.AppendUint32(b, t.timestamp)
	}
	if flags&0x0020 != 0 {
		b = append(b, 0x00, 0x5A)
	}
	if flags&0x0040 != 0 {
		b = append(b, 0x05)
	}
	if flags&0x0080 != 0 {
		b = append(b, 0x00, 0x00) // no embedded read data
	}
	if flags&0x0100 != 0 {
		b = append(b, 0x00)
	}
	pc := t.tag.PC
	if pc == 0 {
		pc = uint16((len(t.tag.EPC)+1)/2) << 11
	}
	full := binary.BigEndian.AppendUint16(nil, pc)
	full = append(full, t.tag.EPC...)
	crc := crc16.Genibus(full)
	id := full
	if flags&0x0040 == 0 { // without protocol metadata the host cannot find the PC: send the EPC alone
		id = full[2:]
	}
	b = binary.BigEndian.AppendUint16(b, uint16((len(id)+2)*8))
	b = append(b, id...)
	return binary.BigEndian.AppendUint16(b, crc)
}

func (s *ThingMagic) reply(op byte, status uint16, data []byte) error {
	f := append(s.wbuf[:0], 0xFF, byte(len(data)), op, byte(status>>8), byte(status))
	f = append(f, data...)
	f = binary.BigEndian.AppendUint16(f, crc16.Augmented(f[1:]))
	s.wbuf = f
	return injector{s.opts.Noise, s.rng}.frame(s.rw, f, func(g []byte) { g[0] = 0xFF })
}
