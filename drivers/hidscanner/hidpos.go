package hidscanner

import "fmt"

// HID POS scanned-data report, offsets as hidapi returns it (report id
// first). Honeywell:
//
//	0      report id (0x02)
//	1      number of data bytes in this report, ≤ 56
//	2..4   AIM symbology id, e.g. "]E0"
//	5..60  data, zero padded
//	61     Honeywell code id; 62 reserved
//	63     continuation: 1 more reports follow, 0 last
//
// Zebra and Datalogic put one extra byte before the AIM id, shifting it and
// the data by one; the continuation flag stays at 63.
const (
	posReportLen = 64
	posChunk     = 56
	posContOff   = 63
	posDefaultID = 0x02
)

type posLayout struct{ aim, data int }

var (
	posHoneywell = posLayout{aim: 2, data: 5}
	posZebra     = posLayout{aim: 3, data: 6}
)

type posDecoder struct {
	vendor   string
	reportID byte
	max      int

	buf     []byte
	sym     string
	started bool
	damaged *DecodeError
}

func newPOSDecoder(o Opts) *posDecoder {
	id := byte(posDefaultID)
	if o.ReportID != 0 {
		id = byte(o.ReportID)
	}
	return &posDecoder{vendor: o.Vendor, reportID: id, max: o.MaxCode,
		buf: make([]byte, 0, min(o.MaxCode, 1024))}
}

func (d *posDecoder) Reset() {
	d.buf = d.buf[:0]
	d.sym = ""
	d.started = false
	d.damaged = nil
}

func (d *posDecoder) layout(p []byte) posLayout {
	switch d.vendor {
	case VendorZebra, VendorDatalogic:
		return posZebra
	case VendorAuto:
		if p[posZebra.aim] == ']' && p[posHoneywell.aim] != ']' {
			return posZebra
		}
	}
	return posHoneywell
}

func (d *posDecoder) Decode(p []byte) (Decoded, error) {
	if len(p) == 0 {
		return Decoded{}, &DecodeError{Mode: ModeHIDPOS, Offset: 0, What: "empty report"}
	}
	if p[0] != d.reportID {
		return Decoded{}, nil // another report (status, feature echo): not scan data
	}
	if len(p) < posReportLen {
		d.Reset()
		return Decoded{}, &DecodeError{Mode: ModeHIDPOS, Offset: len(p),
			What: fmt.Sprintf("report id 0x%02x is %d bytes, want %d", p[0], len(p), posReportLen),
			Fix:  "check that the scanner is in HID POS mode (not keyboard), or set report_id"}
	}
	l := d.layout(p)
	n := int(p[1])
	if n > posChunk || l.data+n > posContOff {
		d.Reset()
		return Decoded{}, &DecodeError{Mode: ModeHIDPOS, Offset: 1,
			What: fmt.Sprintf("length %d exceeds the %d-byte chunk", n, posChunk),
			Fix:  "check the profile's vendor (honeywell vs zebra/datalogic byte layout)"}
	}
	cont := p[posContOff]
	if cont > 1 {
		d.Reset()
		return Decoded{}, &DecodeError{Mode: ModeHIDPOS, Offset: posContOff,
			What: fmt.Sprintf("continuation flag 0x%02x, want 0 or 1", cont),
			Fix:  "check the profile's vendor and that the device is a HID POS scanner"}
	}
	if !d.started {
		d.started = true
		d.sym = aimString(p[l.aim : l.aim+3])
	}
	if d.damaged == nil {
		if len(d.buf)+n > d.max {
			d.damaged = &DecodeError{Mode: ModeHIDPOS, Offset: -1,
				What: fmt.Sprintf("code longer than %d bytes", d.max), Fix: "raise max_code"}
		} else {
			d.buf = append(d.buf, p[l.data:l.data+n]...)
		}
	}
	if cont == 1 {
		return Decoded{}, nil
	}
	defer d.Reset()
	if d.damaged != nil {
		return Decoded{}, d.damaged
	}
	if len(d.buf) == 0 {
		return Decoded{}, nil
	}
	code := d.buf
	for len(code) > 0 && (code[len(code)-1] == '\r' || code[len(code)-1] == '\n') {
		code = code[:len(code)-1]
	}
	return Decoded{Done: true, Raw: d.buf, Code: code, Symbology: d.sym}, nil
}

// aimCache interns AIM ids so a Read's Symbology costs no allocation. It is
// bounded: at most 26*2*36 ids exist, and only well-formed ones are kept.
var aimCache = newInterner(4096)

// aimString returns b as an AIM id string, or "" when b is not "]" +
// letter + alphanumeric (some scanners send zeros when AIM ids are off).
func aimString(b []byte) string {
	if len(b) != 3 || b[0] != ']' || !isLetter(b[1]) || !isAlnum(b[2]) {
		return ""
	}
	return aimCache.get([3]byte(b))
}

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }
func isAlnum(c byte) bool  { return isLetter(c) || (c >= '0' && c <= '9') }
