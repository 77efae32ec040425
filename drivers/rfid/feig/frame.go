// Package feig drives FEIG OBID HF readers (ID ISC.MR/PR/LR, CPR, MRU…) over
// the ISO-host protocol: ISO 15693 inventory to find tags, then Read
// Multiple Blocks addressed by UID to read the library data (ISO 28560)
// from each tag.
//
// Frames. The standard frame, host to reader and back, is
//
//	LENGTH COM-ADR CONTROL [STATUS] DATA… CRC-LSB CRC-MSB
//
// with LENGTH counting every byte including itself and the CRC (5..255);
// only replies carry STATUS. The advanced frame, for longer messages, is
//
//	02 ALENGTH-MSB ALENGTH-LSB COM-ADR CONTROL [STATUS] DATA… CRC-LSB CRC-MSB
//
// with ALENGTH counting every byte as well. The CRC is CRC-16/MCRF4XX
// (poly 0x8408 reflected, init 0xFFFF) over every byte before it, sent LSB
// first. A reader answers in the frame type it was asked in.
//
// Reading. Each round is an inventory (0xB0 0x01), following status 0x94
// "more data" pages (24 tags a standard frame, 255 an advanced one), then
// Read Multiple Blocks (0xB0 0x23, addressed) for every ISO 15693 tag not
// yet in the cache. Inventory data sets are parsed by their transponder
// type; ISO 14443 cards (a student's MIFARE card on the pad) are counted
// and skipped. UIDs are taken as the reader sends them (0xE0 first) and
// reported as hex. The reader sends each block most significant byte first
// (FEIG ID CPR manual H20800-16e-ID-B §3.1 and Annex F); the driver
// reverses every block back into tag memory order unless Opts.BlockOrder
// says otherwise. Status 0x83/0x84 (RF error/warning) replies are used for
// the data they carry and counted.
package feig

import (
	"errors"
	"fmt"

	"github.com/tally-inventory/tally/drivers/internal/crc16"
)

// STX starts an advanced-protocol frame.
const STX = 0x02

// Frame size limits.
const (
	MaxStandard = 255   // LENGTH is one byte
	MaxAdvanced = 65535 // ALENGTH is two bytes
)

// BroadcastAddr addresses whichever reader is on the line.
const BroadcastAddr = 0xFF

// CRC is CRC-16/MCRF4XX; its check value over "123456789" is 0x6F91.
func CRC(b []byte) uint16 { return crc16.MCRF4XX(b) }

// crcOK reports whether a complete frame's CRC matches, without allocating.
func crcOK(f []byte) bool {
	n := len(f)
	return uint16(f[n-2])|uint16(f[n-1])<<8 == CRC(f[:n-2])
}

// ErrShort says the bytes end before the frame does: read more and retry.
var ErrShort = errors.New("feig: frame incomplete")

// FrameError says why bytes are not a valid frame and where.
type FrameError struct {
	Offset int    // byte offset in the input where the problem is
	Reason string // what is wrong
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("feig: bad frame at byte %d: %s", e.Offset, e.Reason)
}

// Frame is one ISO-host message. Status is only on the wire in replies.
type Frame struct {
	Advanced bool // advanced protocol frame (STX, 2-byte length)
	Addr     byte // COM-ADR
	Cmd      byte // CONTROL-BYTE
	Status   Status
	Data     []byte
}

func appendFrame(dst []byte, f Frame, reply bool) ([]byte, error) {
	n := 5 + len(f.Data) // LENGTH ADR CMD DATA CRC
	if reply {
		n++
	}
	start := len(dst)
	if f.Advanced {
		n += 2
		if n > MaxAdvanced {
			return dst, fmt.Errorf("feig: frame of %d bytes exceeds the advanced protocol's %d", n, MaxAdvanced)
		}
		dst = append(dst, STX, byte(n>>8), byte(n), f.Addr, f.Cmd)
	} else {
		if n > MaxStandard {
			return dst, fmt.Errorf("feig: frame of %d bytes exceeds the standard protocol's %d; use the advanced protocol", n, MaxStandard)
		}
		dst = append(dst, byte(n), f.Addr, f.Cmd)
	}
	if reply {
		dst = append(dst, byte(f.Status))
	}
	dst = append(dst, f.Data...)
	c := CRC(dst[start:])
	return append(dst, byte(c), byte(c>>8)), nil
}

// AppendRequest appends f encoded as a host→reader frame (no status).
func AppendRequest(dst []byte, f Frame) ([]byte, error) { return appendFrame(dst, f, false) }

// AppendReply appends f encoded as a reader→host frame (with status).
func AppendReply(dst []byte, f Frame) ([]byte, error) { return appendFrame(dst, f, true) }

// frameLen reports the length the frame at b[0] claims, and whether it is
// an advanced frame.
func frameLen(b []byte, reply bool) (int, bool, error) {
	if len(b) == 0 {
		return 0, false, ErrShort
	}
	min := 5 // LENGTH COM-ADR CONTROL CRC CRC
	if reply {
		min = 6 // and STATUS
	}
	if b[0] == STX {
		if len(b) < 3 {
			return 0, true, ErrShort
		}
		n := int(b[1])<<8 | int(b[2])
		if n < min+2 {
			return 0, true, &FrameError{1, fmt.Sprintf("advanced frame length %d is below the minimum %d", n, min+2)}
		}
		return n, true, nil
	}
	if n := int(b[0]); n < min {
		return 0, false, &FrameError{0, fmt.Sprintf("length byte %d is below the minimum %d (and not STX 0x02); not a frame start", n, min)}
	}
	return int(b[0]), false, nil
}

func checkCRC(f []byte) error {
	n := len(f)
	got := uint16(f[n-2]) | uint16(f[n-1])<<8
	if want := CRC(f[:n-2]); got != want {
		return &FrameError{n - 2, fmt.Sprintf("CRC is 0x%04X, computed 0x%04X; the frame is corrupt, drop it", got, want)}
	}
	return nil
}

func decode(b []byte, reply bool) (Frame, int, error) {
	n, adv, err := frameLen(b, reply)
	if err != nil {
		return Frame{}, 0, err
	}
	if len(b) < n {
		return Frame{}, 0, ErrShort
	}
	if err := checkCRC(b[:n]); err != nil {
		return Frame{}, 0, err
	}
	h := 1
	if adv {
		h = 3
	}
	f := Frame{Advanced: adv, Addr: b[h], Cmd: b[h+1]}
	d := h + 2
	if reply {
		f.Status = Status(b[d])
		d++
	}
	f.Data = b[d : n-2]
	return f, n, nil
}

// DecodeRequest decodes the host→reader frame at the start of b and returns
// it with the number of bytes it used. Data aliases b.
func DecodeRequest(b []byte) (Frame, int, error) { return decode(b, false) }

// DecodeReply decodes the reader→host frame at the start of b and returns it
// with the number of bytes it used. Data aliases b.
func DecodeReply(b []byte) (Frame, int, error) { return decode(b, true) }
