package tagdata

import (
	"fmt"
	"strconv"

	"github.com/tally-inventory/tally/drivers"
)

// ISO 28560-3 (the Danish data model) basic block layout.
const (
	basicLen    = 32 // basic block with an 11-byte owner field
	basicLenExt = 34 // basic block with a 13-byte owner field (ISIL up to 13 characters)
	offPII      = 3
	lenPII      = 16
	offCRC      = 19
	offOwner    = 21
)

// typeOfUsage3 names the ISO 28560-3 type-of-usage nibble.
var typeOfUsage3 = [16]string{
	0: "acquisition",
	1: "circulating",
	2: "not for loan",
	3: "local use (3)",
	4: "local use (4)",
	5: "reserved (5)",
	6: "no information",
	7: "discarded",
	8: "patron card",
	9: "equipment",
}

// extName3 names ISO 28560-3 optional (extension) data blocks by id.
var extName3 = map[uint16]string{
	1: "library extension",
	2: "acquisition extension",
	3: "library supplement",
	4: "title",
	5: "interlibrary loan",
}

// crc3 computes the basic block CRC: CRC-16/CCITT-FALSE over bytes 0..18
// and the 13 owner bytes 21..33, missing owner bytes counting as 0x00 (so a
// 32-byte block is followed by two zero bytes). No copy is made.
func crc3(p []byte, n int) uint16 {
	crc := crc1021(0xFFFF, p[:offCRC])
	owner := p[offOwner:min(n, len(p))]
	crc = crc1021(crc, owner)
	for range basicLenExt - offOwner - len(owner) {
		crc = crc1021(crc, zeroByte[:])
	}
	return crc
}

var zeroByte = [1]byte{0}

// ReverseBlocks returns a copy of p with the bytes of every 4-byte block
// reversed, which is how some readers return ISO 15693 blocks. A trailing
// partial block is copied as is. Applying it twice gives p back.
func ReverseBlocks(p []byte) []byte {
	q := make([]byte, len(p))
	copy(q, p)
	for i := 0; i+4 <= len(q); i += 4 {
		q[i], q[i+1], q[i+2], q[i+3] = q[i+3], q[i+2], q[i+1], q[i]
	}
	return q
}

// crcOK3 checks the basic block CRC of p and reports the stored and
// computed values and how long the basic block is (32, or 34 when a 13-byte
// owner field is what makes the CRC match).
func crcOK3(p []byte) (ok bool, stored, computed uint16, n int) {
	stored = uint16(p[offCRC]) | uint16(p[offCRC+1])<<8
	computed = crc3(p, basicLen)
	if computed == stored {
		return true, stored, computed, basicLen
	}
	if len(p) >= basicLenExt && (p[32] != 0 || p[33] != 0) {
		if c := crc3(p, basicLenExt); c == stored {
			return true, stored, c, basicLenExt
		}
	}
	return false, stored, computed, basicLen
}

func decode28560_3(data []byte) (*Tag, error) {
	const m = ModelISO28560_3
	if err := blank(data); err != nil {
		return nil, &DecodeError{Model: m, Offset: -1, Msg: err.(*DecodeError).Msg}
	}
	if len(data) < basicLen {
		return nil, errAt(m, len(data), "truncated: the basic block is 32 bytes and only %d were read; read at least 8 blocks of 4 bytes", len(data))
	}
	p := data
	ok, stored, computed, n := crcOK3(p)
	reversed := false
	if !ok {
		// Some readers return every block byte-reversed; the CRC tells.
		q := ReverseBlocks(data)
		if ok2, stored2, _, n2 := crcOK3(q); ok2 {
			p, n, stored, reversed = q, n2, stored2, true
		} else {
			return nil, errAt(m, offCRC, "crc is %s, computed %s: the tag data is damaged or not ISO 28560-3; try --format", hex16(stored), hex16(computed))
		}
	}
	version := p[0] >> 4
	usage := p[0] & 0x0F
	var nibbleWarn string
	switch {
	case version != 1 && version != 2 && (usage == 1 || usage == 2):
		// Bibliotheca writes the type of usage in the high nibble and the
		// version in the low one (libdanrfid, DDMData.java: 0x71 discarded,
		// 0x21 not for loan). The CRC already vouches for the block.
		version, usage = usage, version
		nibbleWarn = fmt.Sprintf("byte 0 is %s: version and type of usage are in swapped nibbles (as Bibliotheca writes them); read as version %d, type of usage %d", hex8(p[0]), version, usage)
	case version != 1 && version != 2:
		return nil, errAt(m, 0, "data model version %d is unknown (ISO 28560-3 uses 1; byte 0 is %s): written by another system; try --format", version, hex8(p[0]))
	case p[0] == 0x21:
		nibbleWarn = "byte 0 is 0x21: read as version 2, circulating; Bibliotheca writes 0x21 for version 1, not for loan (swapped nibbles)"
	}
	pii := cstring(p[offPII : offPII+lenPII])
	if len(pii) == 0 {
		return nil, errAt(m, offPII, "primary item identifier is empty: the tag was initialised but no barcode written; reprogram it")
	}
	// Bytes after the NUL must be NUL too; anything else is leftover data.
	for i := offPII + len(pii); i < offPII+lenPII; i++ {
		if p[i] != 0 {
			return nil, errAt(m, i, "byte %s after the primary item identifier's terminating NUL; the identifier field is corrupt", hex8(p[i]))
		}
	}

	t := newTag(m, 12)
	t.Reversed = reversed
	if reversed {
		t.add("block order", "reversed (each 4-byte block byte-reversed by the reader)", 0)
	}
	if nibbleWarn != "" {
		t.warn("%s", nibbleWarn)
	}
	t.add("version", strconv.Itoa(int(version)), 0)
	t.TypeOfUsage = typeOfUsage3[usage]
	if t.TypeOfUsage == "" {
		t.TypeOfUsage = "reserved (" + strconv.Itoa(int(usage)) + ")"
	}
	t.add("type of usage", strconv.Itoa(int(usage))+" ("+t.TypeOfUsage+")", 0)
	t.PartsInSet, t.PartNumber = int(p[1]), int(p[2])
	t.add("parts in item", strconv.Itoa(t.PartsInSet), 1)
	t.add("part number", strconv.Itoa(t.PartNumber), 2)
	if t.PartsInSet == 0 || t.PartNumber == 0 || t.PartNumber > t.PartsInSet {
		t.warn("part %d of %d is inconsistent; the item may be counted wrongly", t.PartNumber, t.PartsInSet)
	}
	t.ID = textOf(trimSpaces(pii)) // some encoders pad with spaces instead of NULs
	t.add("primary item identifier", t.ID, offPII)
	t.add("crc", hex16(stored)+" (ok)", offCRC)

	owner := trimSpaces(cstring(p[offOwner:n]))
	if len(owner) > 0 {
		ownerS := textOf(owner)
		t.add("owner library", ownerS, offOwner)
		if len(owner) >= 2 && isUpper(owner[0]) && isUpper(owner[1]) {
			t.Country = string(owner[:2])
			lib := owner[2:]
			if len(lib) > 0 && lib[0] == '-' {
				lib = lib[1:]
			}
			t.add("country", t.Country, offOwner)
			if len(lib) > 0 {
				t.add("library", textOf(lib), offOwner+len(owner)-len(lib))
				t.ISIL = t.Country + "-" + textOf(lib)
			}
		} else {
			t.ISIL = ownerS
		}
	}
	if n < len(p) {
		extensions3(t, p, n)
	}
	return t, nil
}

func trimSpaces(p []byte) []byte {
	for len(p) > 0 && p[len(p)-1] == ' ' {
		p = p[:len(p)-1]
	}
	return p
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// extensions3 lists the optional data blocks after the basic block:
// [length][id, 2 bytes LSB first][XOR check][payload], the XOR of the whole
// block being 0, and a zero length ending the list. A bad optional block
// does not make the tag unreadable: the basic block carries the identifier
// under its own CRC, so problems become warnings.
func extensions3(t *Tag, p []byte, start int) {
	pos := start
	// A 32-byte basic block followed by two zero bytes may be a 34-byte one
	// with a short owner field; the blocks then start at 34.
	if start == basicLen && len(p) > basicLenExt && p[32] == 0 && p[33] == 0 && p[34] != 0 {
		pos = basicLenExt
	}
	for count := 0; pos < len(p) && p[pos] != 0; count++ {
		l := int(p[pos])
		if l < 4 {
			t.warn("byte %d: optional block length %d is shorter than its 4-byte header; ignoring the rest", pos, l)
			return
		}
		if pos+l > len(p) {
			t.warn("byte %d: optional block of %d bytes runs past the %d bytes read; read more blocks to see it", pos, l, len(p))
			return
		}
		var x byte
		for _, c := range p[pos : pos+l] {
			x ^= c
		}
		id := uint16(p[pos+1]) | uint16(p[pos+2])<<8
		name, known := extName3[id]
		if !known {
			name = "optional block " + strconv.Itoa(int(id))
		} else {
			name += " block"
		}
		if x != 0 {
			t.warn("byte %d: %s fails its XOR check (%s); its contents are ignored", pos, name, hex8(x))
			pos += l
			continue
		}
		payload := p[pos+4 : pos+l]
		v := fmt.Sprintf("id %d, %d bytes: ", id, len(payload))
		if printableASCII(cstring(payload)) {
			v += strconv.Quote(string(cstring(payload)))
		} else {
			v += drivers.HexUpper(payload)
		}
		t.add(name, v, pos)
		pos += l
	}
}

// Tag3 is an ISO 28560-3 tag to encode.
type Tag3 struct {
	Version     int    // 0 means 1
	TypeOfUsage int    // 0..15; 1 circulating, 2 not for loan, 9 equipment, …
	PartsInSet  int    // 0 means 1
	PartNumber  int    // 0 means 1
	ID          string // primary item identifier, printable ASCII, 1..16 bytes
	Owner       string // owner library: ISIL or country+library ("DE705"), up to 13 bytes
	Extensions  []Extension3
}

// Extension3 is an ISO 28560-3 optional data block.
type Extension3 struct {
	ID      uint16
	Payload []byte // up to 251 bytes
}

// Encode28560_3 encodes t as ISO 28560-3: a 32-byte basic block (34 when
// the owner field is longer than 11 bytes) with its CRC, then any optional
// blocks and a terminating zero byte. Tags without optional blocks are
// exactly the basic block.
func Encode28560_3(t Tag3) ([]byte, error) {
	const m = ModelISO28560_3
	v := t.Version
	if v == 0 {
		v = 1
	}
	parts, part := t.PartsInSet, t.PartNumber
	if parts == 0 {
		parts = 1
	}
	if part == 0 {
		part = 1
	}
	switch {
	case v < 1 || v > 15:
		return nil, errAt(m, 0, "version %d does not fit in 4 bits", v)
	case t.TypeOfUsage < 0 || t.TypeOfUsage > 15:
		return nil, errAt(m, 0, "type of usage %d does not fit in 4 bits", t.TypeOfUsage)
	case parts > 255 || part > 255 || parts < 0 || part < 0:
		return nil, errAt(m, 1, "parts %d/%d do not fit in a byte", part, parts)
	case len(t.ID) == 0 || len(t.ID) > lenPII || !printableASCII([]byte(t.ID)):
		return nil, errAt(m, offPII, "primary item identifier %q must be 1 to 16 printable ASCII characters", t.ID)
	case len(t.Owner) > basicLenExt-offOwner || (t.Owner != "" && !printableASCII([]byte(t.Owner))):
		return nil, errAt(m, offOwner, "owner %q must be up to 13 printable ASCII characters", t.Owner)
	}
	n := basicLen
	if len(t.Owner) > basicLen-offOwner {
		n = basicLenExt
	}
	size := n
	for _, e := range t.Extensions {
		if len(e.Payload) > 251 {
			return nil, errAt(m, size, "optional block %d payload of %d bytes is longer than 251", e.ID, len(e.Payload))
		}
		size += 4 + len(e.Payload)
	}
	if len(t.Extensions) > 0 {
		size++ // terminator
	}
	p := make([]byte, size)
	p[0] = byte(v<<4 | t.TypeOfUsage)
	p[1], p[2] = byte(parts), byte(part)
	copy(p[offPII:], t.ID)
	copy(p[offOwner:n], t.Owner)
	crc := crc3(p, n)
	p[offCRC], p[offCRC+1] = byte(crc), byte(crc>>8)
	pos := n
	for _, e := range t.Extensions {
		l := 4 + len(e.Payload)
		p[pos] = byte(l)
		p[pos+1], p[pos+2] = byte(e.ID), byte(e.ID>>8)
		copy(p[pos+4:], e.Payload)
		var x byte
		for _, c := range p[pos : pos+l] {
			x ^= c
		}
		p[pos+3] = x
		pos += l
	}
	return p, nil
}
