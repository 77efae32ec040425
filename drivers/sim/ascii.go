package sim

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ASCIIFormat is what a simulated text-output reader prints.
type ASCIIFormat int

const (
	ASCIILines   ASCIIFormat = iota // hex UID/EPC per line
	ASCIIRDM6300                    // STX, 10 hex, 2 hex XOR checksum, ETX
)

// ASCIIOpts configures a simulated text-output reader.
type ASCIIOpts struct {
	Format ASCIIFormat
	Field  *Population // the tags; nil means an empty field
	Noise  Noise
	// Line format: text around each code and the terminator ("\r\n" when
	// empty; "\n" and "\r" are common too).
	Prefix, Suffix, Terminator string
	// Interval is the pause between reporting rounds (a real RDM6300
	// repeats a held card about every 100 ms); 0 streams flat out, with a
	// short pause only while the field is empty.
	Interval time.Duration
}

// ASCIIStats counts what the simulated reader sent.
type ASCIIStats struct {
	Rounds  uint64 // reporting rounds
	Codes   uint64 // codes written (including corrupted ones)
	Garbage uint64 // garbage injections
	Corrupt uint64 // codes corrupted (bad checksum, or a bad digit in a line)
}

// ASCII is a simulated serial reader that prints what it reads, as hex
// lines or RDM6300 frames, on an io.Writer, typically a pty master. Each
// round it reports every tag in its field.
//
// Line output has no checksum, so "bad CRC" noise replaces a digit with a
// character no hex code contains (what a framing error does) and garbage
// is junk that is never hex; that keeps a corrupted line detectable, as
// the driver must reject it rather than report a tag that is not there.
type ASCII struct {
	w    io.Writer
	fd   int
	opts ASCIIOpts
	rng  *rand.Rand

	unplugged atomic.Bool
	closeOnce sync.Once

	rounds, codes, garbage, corrupt atomic.Uint64
}

// NewASCII returns a simulated reader writing to w once Serve runs. When w
// is a pty master the terminal is put in raw mode at once, so nothing the
// reader prints before the driver opens the port is cooked or echoed.
func NewASCII(w io.Writer, opts ASCIIOpts) *ASCII {
	if opts.Field == nil {
		opts.Field = NewPopulation(nil, 0)
	}
	if opts.Terminator == "" {
		opts.Terminator = "\r\n"
	}
	s := &ASCII{w: w, fd: simFd(w), opts: opts, rng: opts.Noise.Rand()}
	if s.fd >= 0 {
		simRawTerminal(s.fd)
	}
	return s
}

// simRawTerminal clears input and output processing on the terminal at fd
// (on a pty master, Linux applies it to the slave). Errors are ignored:
// a non-terminal needs nothing.
func simRawTerminal(fd int) {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// Stats returns the counters so far.
func (s *ASCII) Stats() ASCIIStats {
	return ASCIIStats{Rounds: s.rounds.Load(), Codes: s.codes.Load(), Garbage: s.garbage.Load(), Corrupt: s.corrupt.Load()}
}

// Unplug makes the reader vanish: it stops writing and closes w.
func (s *ASCII) Unplug() {
	s.unplugged.Store(true)
	s.closeOnce.Do(func() {
		if c, ok := s.w.(io.Closer); ok {
			c.Close()
		}
	})
}

var errASCIIUnplugged = errors.New("sim: ascii reader unplugged")

// Serve prints rounds of reads until ctx is cancelled (which unplugs the
// reader), Unplug is called, or the write fails.
func (s *ASCII) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, s.Unplug)
	defer stop()
	var buf []byte
	for !s.unplugged.Load() {
		tags := s.opts.Field.Round()
		s.rounds.Add(1)
		for _, t := range tags {
			buf = s.appendNoisy(buf[:0], t)
			if err := s.write(buf); err != nil {
				if s.unplugged.Load() {
					break
				}
				return err
			}
		}
		pause := s.opts.Interval
		if pause == 0 && len(tags) == 0 {
			pause = time.Millisecond
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}
	return errASCIIUnplugged
}

// appendNoisy appends one tag's output, with the configured noise.
func (s *ASCII) appendNoisy(b []byte, t Tag) []byte {
	n, rng := s.opts.Noise, s.rng
	if n.GarbageRate > 0 && rng.Float64() < n.GarbageRate {
		s.garbage.Add(1)
		k := 1 + rng.IntN(10)
		if s.opts.Format == ASCIIRDM6300 {
			for range k {
				b = append(b, byte(rng.UintN(256)))
			}
			if rng.IntN(2) == 0 {
				b = append(b, 0x02) // a stray STX
			}
		} else {
			const junk = "~!?#*%@GHJKXYZ\x00\x7f\xff"
			for range k {
				b = append(b, junk[rng.IntN(len(junk))])
			}
			if rng.IntN(2) == 0 {
				b = append(b, s.opts.Terminator...) // a junk line of its own
			} // else it runs into the next line, which must then be rejected
		}
	}
	bad := n.BadCRCRate > 0 && rng.Float64() < n.BadCRCRate
	if bad {
		s.corrupt.Add(1)
	}
	s.codes.Add(1)
	if s.opts.Format == ASCIIRDM6300 {
		id := asciiTagID(t)
		var x byte
		b = append(b, 0x02)
		for _, c := range id {
			x ^= c
			b = appendHexUpper(b, c)
		}
		if bad {
			x ^= byte(1 + rng.IntN(255))
		}
		b = appendHexUpper(b, x)
		b = append(b, 0x03)
		return b
	}
	b = append(b, s.opts.Prefix...)
	digits := len(b)
	code := t.UID
	if len(code) == 0 {
		code = t.EPC
	}
	for _, c := range code {
		b = appendHexUpper(b, c)
	}
	if bad && len(b) > digits {
		b[digits+rng.IntN(len(b)-digits)] = "?:;<=>"[rng.IntN(6)]
	}
	b = append(b, s.opts.Suffix...)
	b = append(b, s.opts.Terminator...)
	return b
}

// asciiTagID is the 5-byte ID an RDM6300 reports for t.
func asciiTagID(t Tag) [5]byte {
	var id [5]byte
	src := t.UID
	if len(src) == 0 {
		src = t.EPC
	}
	if len(src) > 5 {
		src = src[len(src)-5:]
	}
	copy(id[5-len(src):], src)
	return id
}

func appendHexUpper(b []byte, c byte) []byte {
	const digits = "0123456789ABCDEF"
	return append(b, digits[c>>4], digits[c&15])
}

// write writes p, in pieces when the noise says so. On a descriptor it
// waits for room in short slices so Unplug is never stuck behind a full
// pty that nobody reads.
func (s *ASCII) write(p []byte) error {
	return injector{s.opts.Noise, s.rng}.write(writerFunc(s.writeAll), p)
}

func (s *ASCII) writeAll(p []byte) error {
	if s.fd >= 0 {
		for {
			if s.unplugged.Load() {
				return errASCIIUnplugged
			}
			fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}
			k, err := unix.Poll(fds, 20)
			if err == unix.EINTR || k == 0 {
				continue
			}
			if err != nil {
				return err
			}
			break
		}
	}
	_, err := s.w.Write(p)
	return err
}
