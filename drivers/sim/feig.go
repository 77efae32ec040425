package sim

import (
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/tally-inventory/tally/drivers/internal/crc16"
)

// FEIGOpts configures a simulated FEIG ISO-host HF reader.
type FEIGOpts struct {
	Tags     []Tag   // ISO 15693 tags in the field (UID, DSFID, Blocks, BlockSize); change with SetTags
	Noise    Noise   // how the link misbehaves
	Addr     byte    // the reader's COM-ADR (FEIG ships with 0); requests to it or to 0xFF are answered
	MissRate float64 // probability that an inventory misses a tag in the field
	// Cards are ISO 14443A cards in the field (a student's MIFARE card on
	// the pad): their UIDs, 4, 7 or 10 bytes in ISO 14443-3 order (UID0
	// first). Inventories report them with TR-TYPE 0x04 before the tags.
	Cards [][]byte
	// LSBFirst sends blocks in tag memory order. A FEIG reader in ISO-host
	// mode sends each block most significant byte first (ID CPR manual
	// H20800-16e-ID-B §3.1, Annex F), which is the default.
	LSBFirst bool
	// RFWarnRate is the probability that an inventory reply carries status
	// 0x84 (RF warning) instead of 0x00, with its data intact.
	RFWarnRate float64
}

// FEIGStats counts what the simulated reader did.
type FEIGStats struct {
	Requests    uint64 // well-formed requests answered
	BadRequests uint64 // request candidates dropped for a bad CRC
	Inventories uint64 // inventory requests (first pages)
	BlockReads  uint64 // Read Multiple Blocks answered with data
}

// FEIG is a simulated FEIG OBID reader (ID ISC.MR/CPR class) speaking the
// ISO-host protocol byte for byte on an io.ReadWriter, typically a pty
// master, in the standard or the advanced frame (it answers in the frame
// it was asked in). It implements Get Software Version (0x65) and the ISO
// host commands Inventory (0xB0 0x01, with "more data" paging; ISO 15693
// tags and ISO 14443A cards) and Read Multiple Blocks (0xB0 0x23,
// addressed by UID, at most 128 bytes a request, each block most
// significant byte first). Anything else is answered "unknown command".
type FEIG struct {
	rw      io.ReadWriter
	closeRW func()
	opts    FEIGOpts

	mu   sync.Mutex
	tags []Tag

	rng       *rand.Rand
	pending   []int // indexes of data sets still to report after status 0x94: cards first, then tags
	unplugged atomic.Bool
	closeOnce sync.Once
	wbuf      []byte

	requests, badRequests, inventories, blockReads atomic.Uint64
}

// NewFEIG returns a simulated reader serving on rw once Serve runs.
func NewFEIG(rw io.ReadWriter, opts FEIGOpts) *FEIG {
	s := &FEIG{opts: opts, rng: opts.Noise.Rand()}
	s.rw, s.closeRW = pollable(rw)
	s.SetTags(opts.Tags)
	return s
}

// SetTags replaces the tags in the field.
func (s *FEIG) SetTags(tags []Tag) {
	s.mu.Lock()
	s.tags = append([]Tag(nil), tags...)
	s.pending = nil
	s.mu.Unlock()
}

// Stats returns the counters so far.
func (s *FEIG) Stats() FEIGStats {
	return FEIGStats{
		Requests: s.requests.Load(), BadRequests: s.badRequests.Load(),
		Inventories: s.inventories.Load(), BlockReads: s.blockReads.Load(),
	}
}

// Unplug makes the reader vanish: it stops answering and closes rw.
func (s *FEIG) Unplug() {
	s.unplugged.Store(true)
	s.closeOnce.Do(s.closeRW)
}

// Serve answers requests until ctx is cancelled (which unplugs the reader),
// Unplug is called, or rw fails.
func (s *FEIG) Serve(ctx context.Context) error {
	return serveCommands(ctx, s.rw.Read, s.Unplug, &s.unplugged, 70000, func(b []byte) (int, func() error) {
		req, used, ok := s.nextRequest(b)
		if !ok {
			return used, nil
		}
		return used, func() error { return s.handle(req) }
	})
}

type feigReq struct {
	adv  bool
	addr byte
	cmd  byte
	data []byte
}

// nextRequest finds the next request with a valid CRC in b; used is how
// many bytes may be dropped.
func (s *FEIG) nextRequest(b []byte) (feigReq, int, bool) {
	for i := 0; i < len(b); i++ {
		p := b[i:]
		var n, h int
		switch {
		case p[0] == 0x02:
			if len(p) < 3 {
				return feigReq{}, i, false
			}
			n, h = int(p[1])<<8|int(p[2]), 3
			if n < 7 {
				continue
			}
		case p[0] >= 5:
			n, h = int(p[0]), 1
		default:
			continue
		}
		if len(p) < n {
			return feigReq{}, i, false
		}
		if uint16(p[n-2])|uint16(p[n-1])<<8 != crc16.MCRF4XX(p[:n-2]) {
			s.badRequests.Add(1)
			continue
		}
		r := feigReq{adv: h == 3, addr: p[h], cmd: p[h+1], data: append([]byte(nil), p[h+2:n-2]...)}
		return r, i + n, true
	}
	return feigReq{}, len(b), false
}

func (s *FEIG) handle(r feigReq) error {
	if r.addr != s.opts.Addr && r.addr != 0xFF {
		return nil // another reader on the bus
	}
	s.requests.Add(1)
	switch {
	case r.cmd == 0x65 && len(r.data) == 0:
		// SW-REV, D-REV, HW-TYPE, SW-TYPE, TR-TYPE
		return s.reply(r, 0x00, []byte{0x03, 0x04, 0x00, 0x00, 0x4D, 0x00, 0x08})
	case r.cmd == 0xB0 && len(r.data) >= 1 && r.data[0] == 0x01:
		return s.inventory(r)
	case r.cmd == 0xB0 && len(r.data) >= 1 && r.data[0] == 0x23:
		return s.readBlocks(r)
	case r.cmd == 0xB0:
		return s.reply(r, 0x82, nil)
	}
	return s.reply(r, 0x80, nil)
}

func (s *FEIG) inventory(r feigReq) error {
	if len(r.data) != 2 {
		return s.reply(r, 0x81, nil)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.data[1]&0x80 == 0 { // a new inventory
		s.inventories.Add(1)
		s.pending = s.pending[:0]
		for i := range len(s.opts.Cards) + len(s.tags) {
			if s.opts.MissRate > 0 && s.rng.Float64() < s.opts.MissRate {
				continue
			}
			s.pending = append(s.pending, i)
		}
	}
	if len(s.pending) == 0 {
		return s.reply(r, 0x01, nil)
	}
	room := 255 - 7 - 1 // a standard frame: LENGTH ADR CMD STATUS DATA-SETS … CRC
	if r.adv {
		room = 65535 - 9 - 1
	}
	d := []byte{0}
	n := 0
	for _, i := range s.pending {
		set := s.dataSet(i)
		if n == 255 || len(d)-1+len(set) > room {
			break
		}
		d = append(d, set...)
		n++
	}
	d[0] = byte(n)
	s.pending = s.pending[n:]
	st := byte(0x00)
	if len(s.pending) > 0 {
		st = 0x94
	} else if s.opts.RFWarnRate > 0 && s.rng.Float64() < s.opts.RFWarnRate {
		st = 0x84
	}
	return s.reply(r, st, d)
}

// dataSet is inventory data set i (cards first, then tags), laid out as
// FEIG's ID CPR manual §7.1.1.1-2 gives it.
func (s *FEIG) dataSet(i int) []byte {
	if i < len(s.opts.Cards) {
		// TR-TYPE 0x04, TR_INFO (bit 2: a 10-byte UID), OPT_INFO 0, then
		// the UID most significant byte first in 7 or 10 bytes.
		uid := s.opts.Cards[i]
		size, info := 7, byte(0x00)
		if len(uid) > 7 {
			size, info = 10, 0x04
		}
		set := make([]byte, 3+size)
		set[0], set[1] = 0x04, info
		for k, b := range uid {
			set[len(set)-1-k] = b
		}
		return set
	}
	t := &s.tags[i-len(s.opts.Cards)]
	return append([]byte{0x03, t.DSFID}, t.UID...)
}

func (s *FEIG) readBlocks(r feigReq) error {
	if len(r.data) != 12 || r.data[1]&0x07 != 0x01 {
		return s.reply(r, 0x81, nil) // only the addressed mode is simulated
	}
	uid, first, count := r.data[2:10], int(r.data[10]), int(r.data[11])
	s.mu.Lock()
	defer s.mu.Unlock()
	var t *Tag
	for i := range s.tags {
		if string(s.tags[i].UID) == string(uid) {
			t = &s.tags[i]
			break
		}
	}
	if t == nil {
		return s.reply(r, 0x01, nil)
	}
	size := t.BlockSize
	if size == 0 {
		size = 4
	}
	if count == 0 || count*size > 128 {
		return s.reply(r, 0x11, nil)
	}
	if (first+count)*size > len(t.Blocks) {
		return s.reply(r, 0x95, []byte{0x10}) // ISO 15693: block not available
	}
	d := []byte{byte(count), byte(size)}
	for b := first; b < first+count; b++ {
		blk := t.Blocks[b*size : (b+1)*size]
		d = append(d, 0x00)
		if s.opts.LSBFirst {
			d = append(d, blk...)
		} else {
			for k := len(blk) - 1; k >= 0; k-- {
				d = append(d, blk[k])
			}
		}
	}
	s.blockReads.Add(1)
	return s.reply(r, 0x00, d)
}

func (s *FEIG) reply(r feigReq, status byte, data []byte) error {
	f := s.wbuf[:0]
	if r.adv {
		n := 8 + len(data)
		f = append(f, 0x02, byte(n>>8), byte(n), s.opts.Addr, r.cmd, status)
	} else {
		f = append(f, byte(6+len(data)), s.opts.Addr, r.cmd, status)
	}
	f = append(f, data...)
	c := crc16.MCRF4XX(f)
	f = append(f, byte(c), byte(c>>8))
	s.wbuf = f
	sof := byte(6 + len(data)) // a false start: a plausible length byte
	if r.adv {
		sof = 0x02
	}
	return injector{s.opts.Noise, s.rng}.frame(s.rw, f, func(g []byte) { g[0] = sof })
}
