package tagdata

import (
	"encoding/binary"
	"strconv"
)

// 3M "RFID 501" layout (as documented by Biblio-RFID):
//
//	0: 0x04 | item in set<<4 | items in set | 0x00 | item type
//	4: barcode, 16 bytes, NUL padded
//	20: branch (12 bits) | library (20 bits), big-endian
//	24: custom signed 32-bit, big-endian
//	28: 4 zero bytes
const (
	off3MBarcode = 4
	off3MBranch  = 20
	off3MCustom  = 24
	off3MZero    = 28
)

var itemTypes3M = map[byte]string{
	0: "other", 1: "book", 2: "magazine", 3: "bound journal", 4: "audio tape",
	5: "video", 6: "CD/CD-ROM", 7: "diskette", 8: "book with diskette",
	9: "book with CD/CD-ROM", 13: "book with audio tape",
}

func decode3M(data []byte) (*Tag, error) {
	const m = Model3M
	if err := blank(data); err != nil {
		return nil, &DecodeError{Model: m, Offset: -1, Msg: err.(*DecodeError).Msg}
	}
	if len(data) < off3MCustom {
		return nil, errAt(m, len(data), "truncated: a 3M tag needs 24 bytes (6 blocks), got %d; read more blocks", len(data))
	}
	if data[0] != 0x04 {
		return nil, errAt(m, 0, "first byte is %s, 3M RFID 501 tags start with 0x04: not a 3M tag; try --format", hex8(data[0]))
	}
	if data[2] != 0x00 {
		return nil, errAt(m, 2, "third byte is %s, 3M RFID 501 tags have 0x00 there: not a 3M tag; try --format", hex8(data[2]))
	}
	field := data[off3MBarcode:off3MBranch]
	bc := cstring(field)
	if len(bc) == 0 {
		return nil, errAt(m, off3MBarcode, "the barcode field is empty: the tag was never programmed; reprogram it")
	}
	for i, c := range bc {
		if c < 0x20 || c > 0x7E {
			return nil, errAt(m, off3MBarcode+i, "barcode byte %s is not printable ASCII: the tag is damaged or not a 3M tag; try --format", hex8(c))
		}
	}
	t := newTag(m, 10)
	t.add("format", hex8(data[0]), 0)
	t.PartNumber, t.PartsInSet = int(data[1]>>4), int(data[1]&15)
	t.add("part number", strconv.Itoa(t.PartNumber), 1)
	t.add("parts in set", strconv.Itoa(t.PartsInSet), 1)
	if t.PartsInSet == 0 || t.PartNumber == 0 || t.PartNumber > t.PartsInSet {
		t.warn("part %d of %d is inconsistent; the item may be counted wrongly", t.PartNumber, t.PartsInSet)
	}
	typ := itemTypes3M[data[3]]
	if typ == "" {
		typ = "unknown"
	}
	t.TypeOfUsage = typ
	t.add("item type", strconv.Itoa(int(data[3]))+" ("+typ+")", 3)
	t.ID = string(bc)
	t.add("barcode", t.ID, off3MBarcode)
	for i := len(bc); i < len(field); i++ {
		if field[i] != 0 {
			t.warn("byte %d: leftover data after the barcode's terminating NUL", off3MBarcode+i)
			break
		}
	}
	bl := binary.BigEndian.Uint32(data[off3MBranch:])
	t.add("branch", strconv.Itoa(int(bl>>20)), off3MBranch)
	t.add("library", strconv.Itoa(int(bl&0xFFFFF)), off3MBranch+1)
	if len(data) >= off3MZero {
		t.add("custom", strconv.Itoa(int(int32(binary.BigEndian.Uint32(data[off3MCustom:])))), off3MCustom)
	}
	if len(data) >= off3MZero+4 && binary.BigEndian.Uint32(data[off3MZero:]) != 0 {
		t.warn("byte %d: the last block should be zero", off3MZero)
	}
	return t, nil
}

// Tag3M is a 3M RFID 501 tag to encode.
type Tag3M struct {
	PartNumber, PartsInSet int // 0..15 each; 0 means 1
	ItemType               byte
	Barcode                string // 1..16 printable ASCII
	Branch                 int    // 0..4095
	Library                int    // 0..1048575
	Custom                 int32
}

// Encode3M encodes t as a 32-byte 3M RFID 501 tag.
func Encode3M(t Tag3M) ([]byte, error) {
	const m = Model3M
	part, parts := t.PartNumber, t.PartsInSet
	if part == 0 {
		part = 1
	}
	if parts == 0 {
		parts = 1
	}
	switch {
	case part < 0 || part > 15 || parts < 0 || parts > 15:
		return nil, errAt(m, 1, "part %d of %d does not fit in 4 bits each", part, parts)
	case len(t.Barcode) == 0 || len(t.Barcode) > 16 || !printableASCII([]byte(t.Barcode)):
		return nil, errAt(m, off3MBarcode, "barcode %q must be 1 to 16 printable ASCII characters", t.Barcode)
	case t.Branch < 0 || t.Branch > 0xFFF:
		return nil, errAt(m, off3MBranch, "branch %d is outside 0..4095", t.Branch)
	case t.Library < 0 || t.Library > 0xFFFFF:
		return nil, errAt(m, off3MBranch, "library %d is outside 0..1048575", t.Library)
	}
	p := make([]byte, 32)
	p[0], p[1], p[3] = 0x04, byte(part<<4|parts), t.ItemType
	copy(p[off3MBarcode:], t.Barcode)
	binary.BigEndian.PutUint32(p[off3MBranch:], uint32(t.Branch)<<20|uint32(t.Library))
	binary.BigEndian.PutUint32(p[off3MCustom:], uint32(t.Custom))
	return p, nil
}
