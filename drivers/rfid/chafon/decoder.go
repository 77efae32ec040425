package chafon

import "github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"

// Decoder finds a reader's answers to one command in a byte stream that
// may carry garbage, split frames and corrupted frames.
//
// A position is a candidate frame start only if its length byte is
// plausible and the next two bytes are the expected reader address and
// command; the candidate is taken when its CRC matches. Otherwise one byte
// is dropped and the hunt goes on (seriallink.Scanner), so a real frame
// behind garbage, or behind a garbage length byte that claims more bytes
// than ever come, is still found.
type Decoder struct {
	// Addr is the address expected in responses; BroadcastAddr accepts any.
	Addr byte

	sc seriallink.Scanner
}

// Feed appends bytes read from the link; p is copied.
func (d *Decoder) Feed(p []byte) { d.sc.Feed(p) }

// Reset drops everything buffered, counting it as skipped: stale bytes
// must not be taken as the answer to the next command.
func (d *Decoder) Reset() { d.sc.Reset() }

// Next returns the next response to command cmd, or ok=false if the buffer
// holds no complete frame yet. The Response's Data aliases the decoder's
// buffer and is valid until the next Feed.
func (d *Decoder) Next(cmd byte) (r Response, ok bool) {
	addr := d.Addr
	probe := func(b []byte) int {
		l := int(b[0])
		if l < minResponseLen || (len(b) > 1 && addr != BroadcastAddr && b[1] != addr) || (len(b) > 2 && b[2] != cmd) {
			return -1
		}
		return l + 1
	}
	f, ok := d.sc.Next(probe, crcOK)
	if !ok {
		return Response{}, false
	}
	return Response{Addr: f[1], Cmd: f[2], Status: f[3], Data: f[4 : len(f)-2]}, true
}

// Stats returns running totals: good frames, candidates whose CRC did not
// match, and bytes skipped while resynchronizing or dropped by Reset.
func (d *Decoder) Stats() (frames, badCRC, skipped uint64) { return d.sc.Stats() }

// crcOK reports whether a complete frame's CRC (LSB first) matches.
func crcOK(f []byte) bool {
	n := len(f)
	return uint16(f[n-2])|uint16(f[n-1])<<8 == CRC(f[:n-2])
}
