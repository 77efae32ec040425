package hidscanner

import (
	"encoding/binary"
	"fmt"
)

// The encoders produce the report sequences a real scanner sends, for the
// simulator (drivers/sim), benchmarks and round-trip tests. They are the
// inverse of the decoders, written from the same layout tables.

// KeyboardReports returns the 8-byte boot reports a scanner configured for
// layout sends to type text: for each character a key-down report (with the
// modifiers it needs) and an all-zero key-up report. '\r' types Enter and
// '\t' Tab, so "30234000517861\r" is a complete scan.
func KeyboardReports(text, layout string) ([][8]byte, error) {
	m := layouts[layout]
	if m == nil {
		return nil, fmt.Errorf("layout %q: want one of %v", layout, Layouts())
	}
	out := make([][8]byte, 0, 2*len(text))
	for i, c := range text {
		k, mods, ok := m.find(c)
		if !ok {
			return nil, fmt.Errorf("character %q at byte %d cannot be typed in layout %q", c, i, layout)
		}
		out = append(out, [8]byte{0: mods, 2: k}, [8]byte{})
	}
	return out, nil
}

// find returns the usage and modifiers that type c, preferring the main
// key block and the fewest modifiers, as a scanner does.
func (m *keymap) find(c rune) (usage, mods byte, ok bool) {
	switch c {
	case '\r':
		return keyEnter, 0, true
	case '\t':
		return keyTab, 0, true
	}
	if c >= 1 && c <= 26 { // Ctrl+letter
		for k := byte(0x04); k <= 0x1D; k++ {
			if m[k][0] == 'a'+c-1 {
				return k, 0x01, true
			}
		}
	}
	if c >= 0x1B && c <= 0x1D { // Ctrl+[ \ ]
		for k := byte(0x04); k < keyMaxMapped; k++ {
			if m[k][0] == '['+c-0x1B {
				return k, 0x01, true
			}
		}
	}
	modsFor := [4]byte{0, 0x02, 0x40, 0x42}
	for _, block := range [][2]byte{{0x04, 0x30}, {0x33, 0x38}, {0x31, 0x32}, {0x64, 0x64}, {0x54, 0x63}} {
		for s := range 4 {
			for k := block[0]; k <= block[1]; k++ {
				if m[k][s] == c {
					return k, modsFor[s], true
				}
			}
		}
	}
	return 0, 0, false
}

// POSReports returns the 64-byte HID POS input reports (report id 0x02
// first) carrying data with AIM id aim, in vendor's byte layout: 56-byte
// chunks, continuation flag 1 on all but the last.
func POSReports(aim string, data []byte, vendor string) ([][]byte, error) {
	var l posLayout
	switch vendor {
	case VendorHoneywell, "":
		l = posHoneywell
	case VendorZebra, VendorDatalogic:
		l = posZebra
	default:
		return nil, fmt.Errorf("vendor %q: want honeywell, zebra or datalogic", vendor)
	}
	if len(aim) != 3 && aim != "" {
		return nil, fmt.Errorf("aim %q: want 3 characters such as ]C0", aim)
	}
	var out [][]byte
	for first := true; first || len(data) > 0; first = false {
		n := min(len(data), posChunk)
		r := make([]byte, posReportLen)
		r[0] = posDefaultID
		r[1] = byte(n)
		copy(r[l.aim:], aim)
		copy(r[l.data:], data[:n])
		data = data[n:]
		if len(data) > 0 {
			r[posContOff] = 1
		}
		out = append(out, r)
	}
	return out, nil
}

// SNAPIReports returns the 64-byte SNAPI scan reports (0x22, or 0x26 when
// more than 255 packets are needed) carrying data of the given code type.
func SNAPIReports(codeType uint16, data []byte) [][]byte {
	const size = 64
	chunk := size - 6
	count := max(1, (len(data)+chunk-1)/chunk)
	large := count > 255
	if large {
		chunk = size - 8
		count = max(1, (len(data)+chunk-1)/chunk)
	}
	out := make([][]byte, 0, count)
	for i := range count {
		n := min(len(data), chunk)
		r := make([]byte, size)
		if large {
			r[0] = snapiScanLarge
			binary.BigEndian.PutUint16(r[1:], uint16(count))
			binary.BigEndian.PutUint16(r[3:], uint16(i))
			r[5] = byte(n)
			binary.LittleEndian.PutUint16(r[6:], codeType)
			copy(r[8:], data[:n])
		} else {
			r[0] = snapiScan
			r[1], r[2], r[3] = byte(count), byte(i), byte(n)
			binary.LittleEndian.PutUint16(r[4:], codeType)
			copy(r[6:], data[:n])
		}
		data = data[n:]
		out = append(out, r)
	}
	return out
}
