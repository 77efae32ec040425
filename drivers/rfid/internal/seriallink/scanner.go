package seriallink

import "sync/atomic"

// Scanner finds frames in a byte stream that may hold garbage, split
// frames and corrupt frames. It hunts for a frame start the protocol's
// probe accepts, verifies the CRC, and on a mismatch drops one byte and
// hunts again, so a real frame hiding behind a false start is still found.
//
// The zero value is ready to use. A Scanner is for one goroutine, except
// Stats, which any goroutine may call while it runs.
type Scanner struct {
	buf     []byte
	off     int
	frames  atomic.Uint64
	badCRC  atomic.Uint64
	garbage atomic.Uint64
	sawBad  bool // a complete candidate failed verification since ClearBad
}

// maxBuffered bounds memory: beyond it the oldest bytes are dropped.
const maxBuffered = 8 * ChunkSize

// Feed appends b to the stream. b is copied, so the caller may reuse it.
func (s *Scanner) Feed(b []byte) {
	if s.off > 0 && (s.off == len(s.buf) || s.off > len(s.buf)/2) {
		n := copy(s.buf, s.buf[s.off:])
		s.buf = s.buf[:n]
		s.off = 0
	}
	s.buf = append(s.buf, b...)
	if over := len(s.buf) - s.off - maxBuffered; over > 0 {
		s.off += over
		s.garbage.Add(uint64(over))
	}
}

// Reset drops everything buffered: stale bytes from an earlier exchange
// must not be taken for the reply to the next request. They count as
// garbage.
func (s *Scanner) Reset() {
	s.garbage.Add(uint64(len(s.buf) - s.off))
	s.buf, s.off = s.buf[:0], 0
}

// Next returns the next frame that probe accepts and verify passes. probe
// returns the frame length if one may start at b[0] (possibly more than
// len(b)), 0 when it cannot tell yet, and -1 when none starts there. The
// frame aliases the buffer until the next Feed.
func (s *Scanner) Next(probe func(b []byte) int, verify func(f []byte) bool) ([]byte, bool) {
	for s.off < len(s.buf) {
		b := s.buf[s.off:]
		n := probe(b)
		switch {
		case n < 0:
			s.off++
			s.garbage.Add(1)
		case n == 0 || n > len(b):
			// The front is incomplete. If it was a false start (garbage
			// that looks like a header with a long length), a complete
			// valid frame behind it must not wait for bytes that never come.
			for k := 1; k < len(b); k++ {
				m := probe(b[k:])
				if m > 0 && k+m <= len(b) && verify(b[k:k+m]) {
					s.garbage.Add(uint64(k))
					s.frames.Add(1)
					s.off += k + m
					return b[k : k+m], true
				}
			}
			return nil, false
		default:
			if verify(b[:n]) {
				s.frames.Add(1)
				s.off += n
				return b[:n], true
			}
			s.badCRC.Add(1)
			s.sawBad = true
			s.off++
			s.garbage.Add(1)
		}
	}
	return nil, false
}

// SawBad reports whether a complete candidate frame failed verification
// since the last ClearBad. Drivers use it to retry at once on line noise
// instead of waiting for a timeout.
func (s *Scanner) SawBad() bool { return s.sawBad }

// ClearBad forgets earlier verification failures; call it when a new
// exchange starts.
func (s *Scanner) ClearBad() { s.sawBad = false }

// Stats returns running totals since the Scanner was created: valid frames
// returned, candidates that failed verification, and bytes skipped or
// dropped.
func (s *Scanner) Stats() (frames, badCRC, garbage uint64) {
	return s.frames.Load(), s.badCRC.Load(), s.garbage.Load()
}
