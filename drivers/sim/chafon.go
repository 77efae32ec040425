package sim

import (
	"context"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tally-inventory/tally/drivers/internal/crc16"
)

// ChafonOpts configures a simulated Chafon UHFReader18/288 reader.
type ChafonOpts struct {
	Field *Population // the tags; nil means an empty field
	Noise Noise       // how the link misbehaves (reader to host)
	// Type is the reader type byte in the reader information answer:
	// 0x09 UHFReader18 (the default, 18 layout); 0x0C UHFReader288M, 0x20
	// UHFReader288MP, 0x8B, or 0x0F/0x10 UHFReader86 (CF-MU903/904): the
	// 288 layout, antenna byte and per-tag RSSI (github.com/wabson/chafon-rfid
	// chafon_rfid/base.py ReaderType, examples/continuous-read.py).
	Type byte
	// ScanMode starts the reader in a non-answer work mode, as other
	// software may leave it: it refuses inventory commands (0xFE) until
	// the host sets answer mode (0x35 on a UHFReader18, 0x76 on a
	// UHFReader288M/MP).
	ScanMode bool
	// AntennaError answers every inventory with status 0xF8, as a reader
	// with no antenna on the selected port does.
	AntennaError bool
	Addr         byte // the reader's address (factory 0x00)
	// TagsPerFrame caps the tags in one inventory frame; 0 packs as many
	// as fit in a 256-byte frame, as the readers do.
	TagsPerFrame int
}

// ChafonStats counts what the simulated reader did.
type ChafonStats struct {
	Commands    uint64 // well-formed commands answered
	BadCommands uint64 // bytes dropped looking for a command (garbage, bad CRC)
	Inventories uint64 // inventory commands served
	Frames      uint64 // frames sent
	TagsSent    uint64 // tag records sent
}

// ChafonSettings are what the host configured on the simulated reader.
type ChafonSettings struct {
	Power    byte
	MaxFre   byte   // band bits 3..2 in the top two bits, max channel below
	MinFre   byte   // band bits 1..0 in the top two bits, min channel below
	ScanTime byte   // 100 ms steps
	WorkMode []byte // the last work mode set (0x35/0x76 data); nil if never set
}

// Chafon is a simulated Chafon UHFReader18 / UHFReader288 reader answering
// its serial protocol byte for byte on an io.ReadWriter, typically a pty
// master: Len Adr Cmd Data CRC-16/MCRF4XX (LSB first) in, Len Adr Cmd
// Status Data CRC out. It implements inventory (0x01), reader information
// (0x21), read data (0x02), set region (0x22), set scan time (0x25), set power (0x2F) and
// set work mode (0x35 or 0x76, by reader type);
// other commands are answered "illegal command" (0xFE). The framing here is
// written independently of drivers/rfid/chafon on purpose, so that the two
// check each other; the CRC is the one drivers/internal/crc16 holds to the
// public catalogue's check value.
type Chafon struct {
	rw   io.ReadWriter
	fd   int // rw's descriptor when it is an *os.File, else -1
	opts ChafonOpts
	rng  *rand.Rand

	mu       sync.Mutex
	settings ChafonSettings
	scanMode bool

	unplugged atomic.Bool
	closeOnce sync.Once
	wbuf      []byte

	commands, badCommands, inventories, frames, tagsSent atomic.Uint64
}

// NewChafon returns a simulated reader that serves rw once Serve runs.
func NewChafon(rw io.ReadWriter, opts ChafonOpts) *Chafon {
	if opts.Type == 0 {
		opts.Type = 0x09
	}
	if opts.Field == nil {
		opts.Field = NewPopulation(nil, 0)
	}
	return &Chafon{
		rw: rw, fd: simFd(rw), opts: opts, rng: opts.Noise.Rand(), scanMode: opts.ScanMode,
		// Factory settings: EU band channels 0..14, 30 dBm, 1 s scan.
		settings: ChafonSettings{Power: 30, MaxFre: 0x4E, MinFre: 0x00, ScanTime: 10},
	}
}

// Settings returns what the host has configured.
func (s *Chafon) Settings() ChafonSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.settings
	st.WorkMode = append([]byte(nil), st.WorkMode...)
	return st
}

// Stats returns the counters so far.
func (s *Chafon) Stats() ChafonStats {
	return ChafonStats{
		Commands:    s.commands.Load(),
		BadCommands: s.badCommands.Load(),
		Inventories: s.inventories.Load(),
		Frames:      s.frames.Load(),
		TagsSent:    s.tagsSent.Load(),
	}
}

// Unplug makes the reader vanish: it stops answering and closes rw (for a
// pty master, the driver's port then fails as a pulled USB cable does).
func (s *Chafon) Unplug() {
	s.unplugged.Store(true)
	s.closeOnce.Do(func() {
		if c, ok := s.rw.(io.Closer); ok {
			c.Close()
		}
	})
}

// Serve answers commands until ctx is cancelled (which unplugs the
// reader), Unplug is called, or rw fails.
func (s *Chafon) Serve(ctx context.Context) error {
	read := func(p []byte) (int, error) { return simPollRead(s.rw, s.fd, p, &s.unplugged) }
	return serveCommands(ctx, read, s.Unplug, &s.unplugged, 0, func(b []byte) (int, func() error) {
		cmd, used, ok := s.nextCommand(b)
		if !ok {
			return used, nil
		}
		return used, func() error { return s.handle(cmd) }
	})
}

// simFd returns the descriptor of an *os.File, read once up front so
// that polling it never races with a Close, or -1.
func simFd(rw any) int {
	if f, ok := rw.(*os.File); ok {
		return int(f.Fd())
	}
	return -1
}

// simPollRead reads from r. When r has a descriptor (a pty master, whose
// blocking read a Close cannot interrupt) it first polls in short slices
// so that Unplug takes effect at once; it returns 0, nil when stop is set.
func simPollRead(r io.Reader, fd int, p []byte, stop *atomic.Bool) (int, error) {
	if fd < 0 {
		return r.Read(p)
	}
	for !stop.Load() {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 20)
		if err == unix.EINTR || n == 0 {
			continue
		}
		if err != nil {
			return 0, err
		}
		return r.Read(p)
	}
	return 0, nil
}

type chafonCmd struct {
	addr, cmd byte
	data      []byte
}

// chafonMaxCmdLen bounds the length byte of a command the simulator will
// wait for, so a garbage byte cannot stall it for 255 bytes.
const chafonMaxCmdLen = 0x60

// nextCommand finds a well-formed command at the start of b, dropping
// garbage one byte at a time. used is how many bytes may be discarded.
func (s *Chafon) nextCommand(b []byte) (c chafonCmd, used int, ok bool) {
	for used < len(b) {
		// A plausible start: a command length (commands are short) and,
		// once it has arrived, this reader's address or broadcast.
		l := int(b[used])
		if l < 4 || l > chafonMaxCmdLen || (len(b)-used > 1 && b[used+1] != s.opts.Addr && b[used+1] != 0xFF) {
			used++
			s.badCommands.Add(1)
			continue
		}
		if len(b)-used < l+1 {
			return c, used, false
		}
		f := b[used : used+l+1]
		if crc16.MCRF4XX(f[:l-1]) != uint16(f[l-1])|uint16(f[l])<<8 {
			used++
			s.badCommands.Add(1)
			continue
		}
		c = chafonCmd{addr: f[1], cmd: f[2], data: append([]byte(nil), f[3:l-1]...)}
		return c, used + l + 1, true
	}
	return c, used, false
}

func (s *Chafon) is288() bool {
	switch s.opts.Type {
	case 0x0C, 0x0F, 0x10, 0x20, 0x8B:
		return true
	}
	return false
}

// workMode sets the work mode if c is this reader type's command for it:
// 0x35 with 6 bytes on a UHFReader18, 0x76 with 1 byte on a UHFReader288M
// or MP; all zero is answer mode.
func (s *Chafon) workMode(c chafonCmd) (handled bool, status byte) {
	want := 0
	switch {
	case c.cmd == 0x35 && s.opts.Type == 0x09:
		want = 6
	case c.cmd == 0x76 && (s.opts.Type == 0x0C || s.opts.Type == 0x20):
		want = 1
	default:
		return false, 0
	}
	if len(c.data) != want {
		return true, 0xFD
	}
	s.mu.Lock()
	s.settings.WorkMode = append([]byte(nil), c.data...)
	s.scanMode = c.data[0] != 0
	s.mu.Unlock()
	return true, 0x00
}

func (s *Chafon) handle(c chafonCmd) error {
	if c.addr != s.opts.Addr && c.addr != 0xFF {
		return nil // for another reader on the bus
	}
	s.commands.Add(1)
	s.mu.Lock()
	st := s.settings
	s.mu.Unlock()
	switch c.cmd {
	case 0x21: // reader information
		return s.reply(c.cmd, 0x00, []byte{0x00, 0x16, s.opts.Type, 0x03, st.MaxFre, st.MinFre, st.Power, st.ScanTime, 0x01, 0x00, 0x00, 0x00})
	case 0x22: // set region: MaxFre, MinFre
		if len(c.data) != 2 || c.data[0]&0x3F < c.data[1]&0x3F {
			return s.reply(c.cmd, 0xFF, nil)
		}
		s.mu.Lock()
		s.settings.MaxFre, s.settings.MinFre = c.data[0], c.data[1]
		s.mu.Unlock()
		return s.reply(c.cmd, 0x00, nil)
	case 0x25: // set scan time
		if len(c.data) != 1 || c.data[0] < 3 {
			return s.reply(c.cmd, 0xFF, nil)
		}
		s.mu.Lock()
		s.settings.ScanTime = c.data[0]
		s.mu.Unlock()
		return s.reply(c.cmd, 0x00, nil)
	case 0x2F: // set power
		if len(c.data) != 1 || c.data[0] > 30 {
			return s.reply(c.cmd, 0xFF, nil)
		}
		s.mu.Lock()
		s.settings.Power = c.data[0]
		s.mu.Unlock()
		return s.reply(c.cmd, 0x00, nil)
	case 0x01:
		s.mu.Lock()
		scan := s.scanMode
		s.mu.Unlock()
		if scan {
			return s.reply(c.cmd, 0xFE, nil)
		}
		if s.opts.AntennaError {
			return s.reply(c.cmd, 0xF8, nil)
		}
		return s.inventory(c)
	case 0x02:
		return s.readData(c)
	}
	if ok, status := s.workMode(c); ok {
		return s.reply(c.cmd, status, nil)
	}
	return s.reply(c.cmd, 0xFE, nil)
}

// inventory answers one inventory round: the tags in the field packed into
// frames, status 0x03 on all but the last, 0x01 on the last; with no tag,
// 0xFB (18 layout) or 0x01 with a count of 0 (288 layout).
func (s *Chafon) inventory(c chafonCmd) error {
	var ant byte = 0x01
	if s.is288() {
		if len(c.data) < 9 {
			return s.reply(c.cmd, 0xFD, nil)
		}
		ant = 1 << (c.data[len(c.data)-2] & 3) // 0x80 → 1, 0x81 → 2, …
	} else if len(c.data) != 0 && len(c.data) != 2 {
		return s.reply(c.cmd, 0xFD, nil)
	}
	s.inventories.Add(1)
	tags := s.opts.Field.Round()
	if len(tags) == 0 {
		if s.is288() {
			return s.reply(c.cmd, 0x01, []byte{ant, 0})
		}
		return s.reply(c.cmd, 0xFB, nil)
	}
	const maxData = 256 - 6 // Len Adr Cmd Status … CRC CRC
	var data []byte
	count := 0
	flush := func(status byte) error {
		if count == 0 {
			return nil
		}
		if s.is288() {
			data[1] = byte(count)
		} else {
			data[0] = byte(count)
		}
		err := s.reply(c.cmd, status, data)
		s.tagsSent.Add(uint64(count))
		data, count = data[:0], 0
		return err
	}
	start := func() {
		if s.is288() {
			data = append(data[:0], ant, 0)
		} else {
			data = append(data[:0], 0)
		}
	}
	start()
	for i, t := range tags {
		rec := 1 + len(t.EPC)
		if s.is288() {
			rec++
		}
		full := len(data)+rec > maxData || (s.opts.TagsPerFrame > 0 && count == s.opts.TagsPerFrame)
		if full {
			if err := flush(0x03); err != nil {
				return err
			}
			start()
		}
		data = append(data, byte(len(t.EPC)))
		data = append(data, t.EPC...)
		if s.is288() {
			data = append(data, byte(0x40+s.rng.IntN(0x30))) // RSSI
		}
		count++
		if i == len(tags)-1 {
			return flush(0x01)
		}
	}
	return nil
}

// readData answers Read Data (0x02): ENum (EPC words), EPC, Mem, WordPtr,
// Num, Pwd (4), MaskAdr, MaskLen in; the words read out. The tag is the
// one in the field with that EPC; the EPC bank (Mem 1) is StoredCRC, PC,
// EPC; the user bank is Mem 3. No such tag: 0xFB; a read past the bank:
// 0xFC (tag error).
func (s *Chafon) readData(c chafonCmd) error {
	if len(c.data) < 1 || len(c.data) != 1+2*int(c.data[0])+9 {
		return s.reply(c.cmd, 0xFD, nil)
	}
	n := 2 * int(c.data[0])
	epc, rest := c.data[1:1+n], c.data[1+n:]
	mem, ptr, num := rest[0], int(rest[1]), int(rest[2])
	for _, t := range s.opts.Field.InField() {
		if string(t.EPC) != string(epc) {
			continue
		}
		var bank []byte
		switch mem {
		case 0x01:
			pc := t.PC
			if pc == 0 {
				pc = uint16(len(t.EPC)/2) << 11
			}
			bank = append([]byte{0, 0, byte(pc >> 8), byte(pc)}, t.EPC...)
			crc := crc16.Genibus(bank[2:])
			bank[0], bank[1] = byte(crc>>8), byte(crc)
		case 0x03:
			bank = t.User
		default:
			return s.reply(c.cmd, 0xFF, nil)
		}
		if num == 0 || 2*(ptr+num) > len(bank) {
			return s.reply(c.cmd, 0xFC, nil)
		}
		return s.reply(c.cmd, 0x00, bank[2*ptr:2*(ptr+num)])
	}
	return s.reply(c.cmd, 0xFB, nil)
}

// reply writes one answer frame through the noisy link.
func (s *Chafon) reply(cmd, status byte, data []byte) error {
	f := append(s.wbuf[:0], byte(5+len(data)), s.opts.Addr, cmd, status)
	f = append(f, data...)
	crc := crc16.MCRF4XX(f)
	f = append(f, byte(crc), byte(crc>>8))
	s.wbuf = f
	s.frames.Add(1)
	return injector{s.opts.Noise, s.rng}.frame(s.rw, f, func(g []byte) {
		if len(g) >= 3 { // a plausible header: length, this reader, this command
			g[0], g[1], g[2] = byte(5+s.rng.IntN(250)), s.opts.Addr, f[2]
		}
	})
}
