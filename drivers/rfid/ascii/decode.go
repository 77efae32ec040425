package ascii

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
)

// Errors a decoder returns, wrapped with what and where.
var (
	ErrNotHex    = errors.New("not a hex digit")
	ErrLength    = errors.New("bad code length")
	ErrChecksum  = errors.New("checksum mismatch")
	ErrFraming   = errors.New("bad framing")
	ErrTruncated = errors.New("truncated frame")
)

// Counters count what a decoder saw; atomic so Stats can be read while
// the driver runs.
type Counters struct {
	Codes       atomic.Uint64 // good codes decoded
	BadLines    atomic.Uint64 // lines or frames rejected (not hex, wrong length, bad framing)
	BadChecksum atomic.Uint64 // RDM6300 frames whose checksum did not match
	Skipped     atomic.Uint64 // bytes skipped while resynchronizing
}

// hexVal returns the value of hex digit c, or -1.
func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// decodeHex decodes hex digits into dst; base is the offset of s in its
// line, for the error.
func decodeHex(dst, s []byte, base int) ([]byte, error) {
	if len(s)%2 != 0 {
		return dst, fmt.Errorf("byte %d: %w: %d hex digits, want an even number", base+len(s), ErrLength, len(s))
	}
	for i := 0; i < len(s); i += 2 {
		hi, lo := hexVal(s[i]), hexVal(s[i+1])
		if hi < 0 {
			return dst, fmt.Errorf("byte %d: %w: %q", base+i, ErrNotHex, s[i])
		}
		if lo < 0 {
			return dst, fmt.Errorf("byte %d: %w: %q", base+i+1, ErrNotHex, s[i+1])
		}
		dst = append(dst, byte(hi<<4|lo))
	}
	return dst, nil
}

// LineOpts say what a line holds.
type LineOpts struct {
	Prefix, Suffix       string // stripped when present, e.g. "ID:" or a reader's ";"
	MinDigits, MaxDigits int    // accepted hex digits after stripping (0 = no bound)
}

// ParseLine decodes one line (without its terminator) into the tag's UID
// or EPC bytes, appended to dst. Surrounding blanks are ignored.
func ParseLine(dst, line []byte, o LineOpts) ([]byte, error) {
	base := 0
	if o.Prefix != "" && bytes.HasPrefix(line, []byte(o.Prefix)) {
		line, base = line[len(o.Prefix):], len(o.Prefix)
	}
	if o.Suffix != "" && bytes.HasSuffix(line, []byte(o.Suffix)) {
		line = line[:len(line)-len(o.Suffix)]
	}
	for len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
		line, base = line[1:], base+1
	}
	line = bytes.TrimRight(line, " \t")
	n := len(line)
	if n == 0 || (o.MinDigits > 0 && n < o.MinDigits) || (o.MaxDigits > 0 && n > o.MaxDigits) {
		return dst, fmt.Errorf("ascii line: byte %d: %w: %d hex digits, want %d..%d (check the reader's output format and Opts)", base, ErrLength, n, o.MinDigits, o.MaxDigits)
	}
	out, err := decodeHex(dst, line, base)
	if err != nil {
		return dst, fmt.Errorf("ascii line: %w", err)
	}
	return out, nil
}

// LineDecoder splits a byte stream into lines ended by CR, LF or CRLF and
// decodes each with ParseLine. A line longer than MaxLine is dropped up to
// its terminator, so memory stays bounded on a stream with no newlines.
type LineDecoder struct {
	Opts    LineOpts
	MaxLine int // 0 means 256
	Stats   *Counters

	buf      []byte // the current line
	overflow bool   // the current line is too long and being dropped
	pending  []byte // input not yet split
	out      []byte
}

// Feed appends input.
func (d *LineDecoder) Feed(p []byte) { d.pending = append(d.pending, p...) }

// Next returns the next good code, or ok=false when the input is used up.
// The slice is valid until the next call.
func (d *LineDecoder) Next() (code []byte, ok bool) {
	st := d.stats()
	maxLine := d.MaxLine
	if maxLine <= 0 {
		maxLine = 256
	}
	for len(d.pending) > 0 {
		i := bytes.IndexAny(d.pending, "\r\n")
		if i < 0 {
			d.take(d.pending, maxLine)
			d.pending = d.pending[:0]
			return nil, false
		}
		d.take(d.pending[:i], maxLine)
		d.pending = d.pending[i+1:]
		line, over := d.buf, d.overflow
		d.buf, d.overflow = d.buf[:0], false
		if over {
			st.BadLines.Add(1)
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // the LF of a CRLF, or a blank line
		}
		var err error
		d.out, err = ParseLine(d.out[:0], line, d.Opts)
		if err != nil {
			st.BadLines.Add(1)
			continue
		}
		st.Codes.Add(1)
		return d.out, true
	}
	d.pending = d.pending[:0]
	return nil, false
}

func (d *LineDecoder) take(p []byte, maxLine int) {
	if d.overflow {
		d.stats().Skipped.Add(uint64(len(p)))
		return
	}
	if len(d.buf)+len(p) > maxLine {
		d.stats().Skipped.Add(uint64(len(d.buf) + len(p)))
		d.buf, d.overflow = d.buf[:0], true
		return
	}
	d.buf = append(d.buf, p...)
}

func (d *LineDecoder) stats() *Counters {
	if d.Stats == nil {
		d.Stats = new(Counters)
	}
	return d.Stats
}

// RDM6300 framing: STX, 10 hex digits (version byte + 32-bit ID), 2 hex
// digits of XOR checksum over the 5 bytes, ETX.
const (
	STX         = 0x02
	ETX         = 0x03
	RDM6300Size = 14
)

// ParseRDM6300 decodes one 14-byte frame into its 5 ID bytes appended to
// dst.
func ParseRDM6300(dst, f []byte) ([]byte, error) {
	if len(f) < RDM6300Size {
		return dst, fmt.Errorf("rdm6300: byte %d: %w: have %d bytes, a frame is %d", len(f), ErrTruncated, len(f), RDM6300Size)
	}
	if f[0] != STX {
		return dst, fmt.Errorf("rdm6300: byte 0: %w: 0x%02X, want STX 0x02", ErrFraming, f[0])
	}
	if f[13] != ETX {
		return dst, fmt.Errorf("rdm6300: byte 13: %w: 0x%02X, want ETX 0x03", ErrFraming, f[13])
	}
	var b [6]byte
	raw, err := decodeHex(b[:0], f[1:13], 1)
	if err != nil {
		return dst, fmt.Errorf("rdm6300: %w", err)
	}
	var x byte
	for _, c := range raw[:5] {
		x ^= c
	}
	if x != raw[5] {
		return dst, fmt.Errorf("rdm6300: byte 11: %w: frame says %02X, computed %02X; frame corrupted, skip it", ErrChecksum, raw[5], x)
	}
	return append(dst, raw[:5]...), nil
}

// AppendRDM6300 appends the frame for a 5-byte ID.
func AppendRDM6300(dst []byte, id [5]byte) []byte {
	const digits = "0123456789ABCDEF"
	dst = append(dst, STX)
	var x byte
	for _, c := range id {
		x ^= c
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return append(dst, digits[x>>4], digits[x&15], ETX)
}

// RDM6300Decoder finds RDM6300 frames in a byte stream. Anything before
// an STX is skipped; a frame that fails its framing or checksum is
// skipped by its STX only, so a real frame starting inside it is found.
type RDM6300Decoder struct {
	Stats *Counters

	buf []byte
	off int
	out []byte
}

// Feed appends input.
func (d *RDM6300Decoder) Feed(p []byte) {
	if d.off > 0 {
		n := copy(d.buf, d.buf[d.off:])
		d.buf, d.off = d.buf[:n], 0
	}
	d.buf = append(d.buf, p...)
}

// Next returns the next good ID, or ok=false when more input is needed.
// The slice is valid until the next call.
func (d *RDM6300Decoder) Next() (id []byte, ok bool) {
	if d.Stats == nil {
		d.Stats = new(Counters)
	}
	st := d.Stats
	for {
		b := d.buf[d.off:]
		i := bytes.IndexByte(b, STX)
		if i < 0 {
			st.Skipped.Add(uint64(len(b)))
			d.off = len(d.buf)
			return nil, false
		}
		if i > 0 {
			st.Skipped.Add(uint64(i))
			d.off += i
			b = b[i:]
		}
		if len(b) < RDM6300Size {
			return nil, false
		}
		var err error
		d.out, err = ParseRDM6300(d.out[:0], b[:RDM6300Size])
		if err != nil {
			if errors.Is(err, ErrChecksum) {
				st.BadChecksum.Add(1)
			} else {
				st.BadLines.Add(1)
			}
			st.Skipped.Add(1)
			d.off++
			continue
		}
		d.off += RDM6300Size
		st.Codes.Add(1)
		return d.out, true
	}
}
