package hidscanner

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// Zebra SNAPI input reports (first byte is the message type, no report id):
//
//	0x22 scan:       [1]=packet count [2]=packet index [3]=data length [4..5]=code type (LE) [6..]=data
//	0x26 large scan: [1..2]=count (BE) [3..4]=index (BE) [5]=length [6..7]=code type (LE) [8..]=data
//	0x21 status, 0x24 notification: not scan data
//
// The scanner waits for an ACK of every scan report before it sends the
// next; the host writes 00 01 <type> 01 00 (leading 00: no report id).
const (
	snapiStatus    = 0x21
	snapiScan      = 0x22
	snapiNotify    = 0x24
	snapiScanLarge = 0x26
)

// snapiTypes names SNAPI code types; supplemental types carry the length of
// their primary code so Code is the primary and Raw keeps the add-on.
var snapiTypes = map[uint16]struct {
	name    string
	primary int
}{
	1: {"code39", 0}, 2: {"codabar", 0}, 3: {"code128", 0}, 4: {"2of5", 0}, 6: {"i2of5", 0},
	7: {"code93", 0}, 8: {"upca", 0}, 9: {"upce", 0}, 10: {"ean8", 0}, 11: {"ean13", 0},
	12: {"code11", 0}, 14: {"msi", 0}, 15: {"gs1-128", 0}, 17: {"pdf417", 0}, 22: {"bookland", 0},
	27: {"datamatrix", 0}, 28: {"qr", 0}, 32: {"code32", 0}, 44: {"microqr", 0}, 45: {"aztec", 0},
	48: {"databar", 0}, 49: {"databar-limited", 0}, 50: {"databar-expanded", 0},
	72: {"upca+2", 12}, 74: {"ean8+2", 8}, 75: {"ean13+2", 13},
	136: {"upca+5", 12}, 138: {"ean8+5", 8}, 139: {"ean13+5", 13},
}

var snapiUnknown = newInterner(1024)

type snapiDecoder struct {
	max int

	buf      []byte
	count    int
	next     int
	codeType uint16
	started  bool
	damaged  *DecodeError
	ack      [5]byte
}

func newSNAPIDecoder(o Opts) *snapiDecoder {
	return &snapiDecoder{max: o.MaxCode, buf: make([]byte, 0, min(o.MaxCode, 1024))}
}

func (d *snapiDecoder) Reset() {
	d.buf = d.buf[:0]
	d.count, d.next, d.codeType = 0, 0, 0
	d.started = false
	d.damaged = nil
}

// ACK returns the output report acknowledging a report of type t.
func (d *snapiDecoder) ackFor(t byte) []byte {
	d.ack = [5]byte{0x00, 0x01, t, 0x01, 0x00}
	return d.ack[:]
}

func (d *snapiDecoder) Decode(p []byte) (Decoded, error) {
	if len(p) == 0 {
		return Decoded{}, &DecodeError{Mode: ModeSNAPI, Offset: 0, What: "empty report"}
	}
	var count, index, n, hdr int
	var codeType uint16
	switch p[0] {
	case snapiScan:
		if len(p) < 6 {
			return d.fail(p[0], len(p), fmt.Sprintf("scan report is %d bytes, want at least 6", len(p)))
		}
		count, index, n, hdr = int(p[1]), int(p[2]), int(p[3]), 6
		codeType = binary.LittleEndian.Uint16(p[4:6])
	case snapiScanLarge:
		if len(p) < 8 {
			return d.fail(p[0], len(p), fmt.Sprintf("large scan report is %d bytes, want at least 8", len(p)))
		}
		count, index = int(binary.BigEndian.Uint16(p[1:3])), int(binary.BigEndian.Uint16(p[3:5]))
		n, hdr = int(p[5]), 8
		codeType = binary.LittleEndian.Uint16(p[6:8])
	case snapiStatus, snapiNotify:
		return Decoded{}, nil
	default:
		return Decoded{}, &DecodeError{Mode: ModeSNAPI, Offset: 0,
			What: fmt.Sprintf("unknown message type 0x%02x", p[0]),
			Fix:  "check that the scanner is in SNAPI mode (Zebra PID 0x1900)"}
	}
	if hdr+n > len(p) {
		lenOff := 3
		if p[0] == snapiScanLarge {
			lenOff = 5
		}
		return d.fail(p[0], lenOff, fmt.Sprintf("data length %d runs past the %d-byte report", n, len(p)))
	}
	if count == 0 || index >= count {
		return d.fail(p[0], 1, fmt.Sprintf("packet %d of %d", index, count))
	}
	if index == 0 {
		d.Reset() // a new scan starts; drop any unfinished one
		d.started, d.count, d.codeType = true, count, codeType
	} else if !d.started || index != d.next || count != d.count || codeType != d.codeType {
		want := d.next
		d.Reset()
		return d.fail(p[0], 2, fmt.Sprintf("packet %d of %d out of sequence (want %d); scan dropped", index, count, want))
	}
	d.next = index + 1
	if d.damaged == nil {
		if len(d.buf)+n > d.max {
			d.damaged = &DecodeError{Mode: ModeSNAPI, Offset: -1,
				What: fmt.Sprintf("code longer than %d bytes", d.max), Fix: "raise max_code"}
		} else {
			d.buf = append(d.buf, p[hdr:hdr+n]...)
		}
	}
	reply := d.ackFor(p[0])
	if d.next < d.count {
		return Decoded{Reply: reply}, nil
	}
	defer d.Reset()
	if d.damaged != nil {
		return Decoded{Reply: reply}, d.damaged
	}
	if len(d.buf) == 0 {
		return Decoded{Reply: reply}, nil
	}
	name, primary := snapiName(d.codeType)
	code := d.buf
	if primary > 0 && primary < len(code) {
		code = code[:primary]
	}
	for len(code) > 0 && (code[len(code)-1] == '\r' || code[len(code)-1] == '\n') {
		code = code[:len(code)-1]
	}
	return Decoded{Done: true, Raw: d.buf, Code: code, Symbology: name, Reply: reply}, nil
}

// fail reports a malformed scan report. It is still acknowledged: a
// scanner left waiting for an ACK stops sending.
func (d *snapiDecoder) fail(t byte, off int, what string) (Decoded, error) {
	return Decoded{Reply: d.ackFor(t)}, &DecodeError{Mode: ModeSNAPI, Offset: off, What: what}
}

func snapiName(t uint16) (string, int) {
	if v, ok := snapiTypes[t]; ok {
		return v.name, v.primary
	}
	k := [3]byte{0, byte(t >> 8), byte(t)}
	snapiUnknown.mu.RLock()
	s, ok := snapiUnknown.m[k]
	snapiUnknown.mu.RUnlock()
	if ok {
		return s, 0
	}
	s = "snapi-" + strconv.Itoa(int(t))
	snapiUnknown.mu.Lock()
	if len(snapiUnknown.m) < snapiUnknown.max {
		snapiUnknown.m[k] = s
	}
	snapiUnknown.mu.Unlock()
	return s, 0
}
