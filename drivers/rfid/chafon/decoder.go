package chafon

import "sync/atomic"

// Counters count what the stream decoder saw. They are updated atomically
// so Stats can be read while the driver runs.
type Counters struct {
	Frames  atomic.Uint64 // good frames decoded
	BadCRC  atomic.Uint64 // candidate frames whose CRC did not match
	Skipped atomic.Uint64 // bytes discarded while resynchronizing
}

// Decoder finds response frames in a byte stream that may carry garbage,
// split frames and corrupted frames.
//
// Resync: a position is a candidate frame start only if its length byte is
// plausible and the next two bytes are the expected reader address and
// command; the candidate is accepted when its CRC matches. Otherwise one
// byte is dropped and the scan goes on, so a real frame following garbage
// is found again.
type Decoder struct {
	// Addr is the address expected in responses; BroadcastAddr accepts any.
	Addr byte
	// Stats may be shared with a driver; nil means the decoder keeps its own.
	Stats *Counters

	buf []byte
	off int
}

// Feed appends bytes read from the link.
func (d *Decoder) Feed(p []byte) {
	if d.off > 0 && d.off == len(d.buf) {
		d.buf, d.off = d.buf[:0], 0
	} else if d.off > 4096 {
		n := copy(d.buf, d.buf[d.off:])
		d.buf, d.off = d.buf[:n], 0
	}
	d.buf = append(d.buf, p...)
}

// Buffered is the number of bytes waiting to be decoded.
func (d *Decoder) Buffered() int { return len(d.buf) - d.off }

// Reset drops everything buffered, counting it as skipped: stale bytes
// must not be taken as the answer to the next command.
func (d *Decoder) Reset() {
	d.stats().Skipped.Add(uint64(d.Buffered()))
	d.buf, d.off = d.buf[:0], 0
}

// Resync drops the first buffered byte. The driver calls it when an answer
// timed out with an incomplete candidate in the buffer: that candidate's
// length byte was garbage, and a real frame may start after it.
func (d *Decoder) Resync() {
	if d.Buffered() > 0 {
		d.off++
		d.stats().Skipped.Add(1)
	}
}

// Next returns the next response to command cmd, or ok=false if the buffer
// holds no complete frame yet. The Response's Data aliases the decoder's
// buffer and is valid until the next Feed.
func (d *Decoder) Next(cmd byte) (r Response, ok bool) {
	st := d.stats()
	for {
		b := d.buf[d.off:]
		if len(b) == 0 {
			return Response{}, false
		}
		l := int(b[0])
		plausible := l >= minResponseLen &&
			(len(b) < 2 || d.Addr == BroadcastAddr || b[1] == d.Addr) &&
			(len(b) < 3 || b[2] == cmd)
		if !plausible {
			d.off++
			st.Skipped.Add(1)
			continue
		}
		if len(b) < l+1 {
			return Response{}, false // wait for the rest
		}
		got := uint16(b[l-1]) | uint16(b[l])<<8
		if got != CRC(b[:l-1]) {
			st.BadCRC.Add(1)
			d.off++
			st.Skipped.Add(1)
			continue
		}
		d.off += l + 1
		st.Frames.Add(1)
		return Response{Addr: b[1], Cmd: b[2], Status: b[3], Data: b[4 : l-1]}, true
	}
}

func (d *Decoder) stats() *Counters {
	if d.Stats == nil {
		d.Stats = new(Counters)
	}
	return d.Stats
}
