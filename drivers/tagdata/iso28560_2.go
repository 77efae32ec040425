package tagdata

import (
	"errors"
	"strconv"
	"strings"

	"github.com/tally-inventory/tally/drivers"
)

// DSFID28560_2 is the data storage format identifier of ISO 28560-2 data
// (access method "no directory", data format 6). HF tags report it in their
// system information; UHF tags store it as the first byte of user memory.
const DSFID28560_2 = 0x06

// oidNames2 names the ISO 28560-2 relative OIDs.
var oidNames2 = [...]string{
	1:  "primary item identifier",
	2:  "content parameter",
	3:  "owner institution (ISIL)",
	4:  "set information",
	5:  "type of usage",
	6:  "shelf location",
	7:  "ONIX media format",
	8:  "MARC media format",
	9:  "supplier identifier",
	10: "order number",
	11: "ILL borrowing institution (ISIL)",
	12: "ILL borrowing transaction number",
	13: "GS1 product identifier",
	14: "alternative unique item identifier",
	15: "local data A",
	16: "local data B",
	17: "title",
	18: "product identifier local",
	19: "media format (other)",
	20: "supply chain stage",
	21: "supplier invoice number",
	22: "alternative item identifier",
	23: "alternative owner institution",
	24: "subsidiary of an owner institution",
	25: "alternative ILL borrowing institution",
	26: "local data C",
}

// OIDName returns the ISO 28560-2 name of a relative OID.
func OIDName(oid int) string {
	if oid > 0 && oid < len(oidNames2) {
		return oidNames2[oid]
	}
	return "oid " + strconv.Itoa(oid)
}

// Relative OIDs with a meaning tally uses.
const (
	OIDPrimaryItemID    = 1
	OIDContentParameter = 2
	OIDOwnerISIL        = 3
	OIDSetInformation   = 4
	OIDTypeOfUsage      = 5
	OIDShelfLocation    = 6
	OIDILLBorrowingISIL = 11
	OIDTitle            = 17
)

func isISILOID(oid int) bool { return oid == OIDOwnerISIL || oid == OIDILLBorrowingISIL }

func decode28560_2(data []byte) (*Tag, error) {
	const m = ModelISO28560_2
	if err := blank(data); err != nil {
		return nil, &DecodeError{Model: m, Offset: -1, Msg: err.(*DecodeError).Msg}
	}
	t := newTag(m, 8)
	first, err := parseElements(t, data)
	if err != nil {
		return nil, err
	}
	if t.ID == "" {
		return nil, errAt(m, -1, "no primary item identifier (OID 1) element: this is not a library item tag, or only user memory of a UHF tag; try --format")
	}
	if first != OIDPrimaryItemID && !(len(data) > 0 && data[0] == DSFID28560_2) {
		t.warn("the primary item identifier is not the first element, as ISO 28560-2 requires")
	}
	return t, nil
}

// parseElements decodes an ISO 28560-2 element stream into t: an optional
// DSFID byte, then elements until a zero precursor or the end of data. It
// returns the OID of the first element. Element structure (ISO/IEC 15962):
//
//	precursor [relative OID − 15] [offset] length… data [offset × 0x00]
//
// precursor: bit 7 offset byte present, bits 6-4 compaction, bits 3-0
// relative OID (15: the next byte + 15).
func parseElements(t *Tag, data []byte) (first int, err error) {
	const m = ModelISO28560_2
	pos := 0
	if len(data) > 0 && data[0] == DSFID28560_2 {
		t.add("DSFID", hex8(data[0])+" (ISO 28560-2)", 0)
		pos = 1
	}
	var seen [4]uint64 // OIDs present, for the content parameter check
	var cp []byte
	cpAt := -1
	for pos < len(data) {
		start := pos
		pre := data[pos]
		if pre == 0 {
			break // terminator; what follows is unused memory
		}
		if pre == 0xFF && first != 0 && allFF(data[pos:]) {
			break // never-written memory after the last element
		}
		if pre == 0x80 {
			pos++ // filler byte
			continue
		}
		pos++
		oid := int(pre & 0x0F)
		if oid == 15 {
			if pos >= len(data) {
				return 0, errAt(m, pos, "truncated: precursor %s announces an extended OID byte that is missing; read more blocks", hex8(pre))
			}
			oid += int(data[pos])
			pos++
		}
		if oid == 0 {
			return 0, errAt(m, start, "precursor %s names OID 0, which no element has: not ISO 28560-2 data, or the tag is damaged; try --format", hex8(pre))
		}
		pad := 0
		if pre&0x80 != 0 {
			if pos >= len(data) {
				return 0, errAt(m, pos, "truncated: the offset byte of the element at byte %d is missing; read more blocks", start)
			}
			pad = int(data[pos])
			pos++
		}
		n := 0
		for i := 0; ; i++ {
			if pos >= len(data) {
				return 0, errAt(m, pos, "truncated: the length of %s (element at byte %d) is missing; read more blocks", OIDName(oid), start)
			}
			if i == 3 {
				return 0, errAt(m, pos, "length of %s runs over 3 bytes: the tag data is damaged", OIDName(oid))
			}
			b := data[pos]
			pos++
			n = n<<7 | int(b&0x7F)
			if b&0x80 == 0 {
				break
			}
		}
		if n == 0 {
			return 0, errAt(m, pos-1, "%s (element at byte %d) has length 0", OIDName(oid), start)
		}
		if pos+n > len(data) {
			return 0, errAt(m, len(data), "truncated: %s (element at byte %d) needs %d data bytes, %d left; read more blocks", OIDName(oid), start, n, len(data)-pos)
		}
		val := data[pos : pos+n]
		c := compactionOf(pre >> 4)
		text, derr := decodeValue(oid, c, val)
		if derr != nil {
			return 0, errAt(m, pos, "%s (element at byte %d, %s compaction): %v", OIDName(oid), start, c, derr)
		}
		pos += n
		if pos+pad > len(data) {
			return 0, errAt(m, len(data), "truncated: %s (element at byte %d) is followed by %d pad bytes, %d left; read more blocks", OIDName(oid), start, pad, len(data)-pos)
		}
		pos += pad
		if first == 0 {
			first = oid
		}
		if oid < 256 {
			seen[oid>>6] |= 1 << (oid & 63)
		}
		t.add(OIDName(oid), text, start)
		switch oid {
		case OIDPrimaryItemID:
			if t.ID == "" {
				t.ID = text
			}
		case OIDContentParameter:
			if c == CompactApplication {
				cp, cpAt = val, start
			}
		case OIDOwnerISIL:
			t.ISIL = text
			if len(text) > 2 && text[2] == '-' && isUpper(text[0]) && isUpper(text[1]) {
				t.Country = text[:2]
			}
		case OIDSetInformation:
			if len(text)%2 == 0 && len(text) <= 6 && isDigits(text) {
				h := len(text) / 2
				t.PartsInSet, _ = strconv.Atoi(text[:h])
				t.PartNumber, _ = strconv.Atoi(text[h:])
			}
		case OIDTypeOfUsage:
			t.TypeOfUsage = text
		}
	}
	if first == 0 {
		return 0, errAt(m, pos, "no data elements: the tag's ISO 28560-2 area is empty")
	}
	if cp != nil {
		var want [4]uint64
		for i, b := range cp {
			for j := range 8 {
				if b&(0x80>>j) != 0 {
					if oid := 3 + 8*i + j; oid < 256 {
						want[oid>>6] |= 1 << (oid & 63)
					}
				}
			}
		}
		for oid := 3; oid < 256; oid++ {
			w, s := want[oid>>6]&(1<<(oid&63)) != 0, seen[oid>>6]&(1<<(oid&63)) != 0
			if w && !s {
				t.warn("byte %d: the content parameter lists %s, which is not on the tag (or not in the blocks read)", cpAt, OIDName(oid))
			} else if s && !w {
				t.warn("byte %d: %s is on the tag but not listed in the content parameter", cpAt, OIDName(oid))
			}
		}
	}
	return first, nil
}

func allFF(p []byte) bool {
	for _, b := range p {
		if b != 0xFF {
			return false
		}
	}
	return true
}

// decodeValue turns compacted bytes into text.
func decodeValue(oid int, c Compaction, p []byte) (string, error) {
	switch c {
	case CompactApplication:
		switch {
		case oid == OIDContentParameter:
			return contentParameter(p), nil
		case isISILOID(oid):
			return decodeISIL(p)
		}
		return drivers.HexUpper(p), nil
	case CompactInteger:
		return decodeInteger(p)
	case CompactNumeric:
		return decodeNumeric(p)
	case Compact5Bit:
		return decode5Bit(p)
	case Compact6Bit:
		return decode6Bit(p)
	case Compact7Bit:
		return decode7Bit(p)
	case CompactOctet:
		return decodeOctets(p), nil
	}
	return decodeUTF8(p)
}

// contentParameter lists the OIDs a content parameter bitmap announces:
// bit 7 of the first byte is OID 3, then 4, 5, …
func contentParameter(p []byte) string {
	var names []string
	for i, b := range p {
		for j := range 8 {
			if b&(0x80>>j) != 0 {
				names = append(names, OIDName(3+8*i+j))
			}
		}
	}
	if names == nil {
		return "(no optional elements)"
	}
	return joinNames(names)
}

// Element2 is one ISO 28560-2 data element to encode.
type Element2 struct {
	OID        int        // relative OID, 1..270
	Value      string     // the text; for OIDs 3 and 11 an ISIL
	Raw        []byte     // bytes for application-defined or octet elements; overrides Value
	Compaction Compaction // CompactAuto picks ISIL compaction for ISILs, else the tightest scheme
	Lock       bool       // the element will be write-locked: it (with adjacent locked elements) starts and ends on a block boundary
}

// Tag2 is an ISO 28560-2 element stream to encode.
type Tag2 struct {
	DSFID            byte // written as the first byte when non-zero (UHF user memory: 0x06)
	BlockSize        int  // tag block size for aligning locked elements; 0 means 4
	ContentParameter bool // insert a content parameter (OID 2) after the primary item identifier listing OIDs ≥ 3
	Elements         []Element2
	PadTo            int // pad with zero bytes to a multiple of this many bytes (2 for UHF words, the block size for HF)
}

type encElem struct {
	head []byte // precursor and extended OID byte
	body []byte // length and data
	pad  int    // -1: no offset byte
}

func (e *encElem) size() int {
	n := len(e.head) + len(e.body)
	if e.pad >= 0 {
		n += 1 + e.pad
	}
	return n
}

// align gives e an offset byte and the pad bytes that make it end on a
// block boundary, given where it starts.
func (e *encElem) align(start, bs int) {
	if (start+e.size())%bs == 0 {
		return
	}
	e.pad = 0
	e.pad = (bs - (start+e.size())%bs) % bs
}

// Encode28560_2 encodes t as an ISO 28560-2 element stream.
func Encode28560_2(t Tag2) ([]byte, error) {
	const m = ModelISO28560_2
	bs := t.BlockSize
	if bs <= 0 {
		bs = 4
	}
	elems := t.Elements
	if t.ContentParameter {
		var bits []byte
		for _, e := range elems {
			if e.OID >= 3 {
				i := (e.OID - 3) / 8
				for len(bits) <= i {
					bits = append(bits, 0)
				}
				bits[i] |= 0x80 >> ((e.OID - 3) % 8)
			}
		}
		if bits == nil {
			bits = []byte{0}
		}
		cp := Element2{OID: OIDContentParameter, Raw: bits, Compaction: CompactApplication}
		at := 0
		if len(elems) > 0 && elems[0].OID == OIDPrimaryItemID {
			at = 1
		}
		elems = append(append(append([]Element2{}, elems[:at]...), cp), elems[at:]...)
	}
	enc := make([]encElem, len(elems))
	for i, e := range elems {
		if e.OID < 1 || e.OID > 15+255 {
			return nil, errAt(m, -1, "element %d: OID %d is outside 1..270", i, e.OID)
		}
		c := e.Compaction
		var data []byte
		var err error
		switch {
		case c == CompactAuto && isISILOID(e.OID) && e.Raw == nil:
			c = CompactApplication
			data, err = encodeISIL(e.Value)
		case c == CompactAuto && e.Raw != nil:
			c, data = CompactOctet, e.Raw
		case c == CompactAuto:
			c = autoCompactionFor(e.OID, e.Value)
			data, err = compact(c, e.Value)
		case c == CompactApplication && e.Raw == nil && isISILOID(e.OID):
			data, err = encodeISIL(e.Value)
		case (c == CompactApplication || c == CompactOctet) && e.Raw != nil:
			data = e.Raw
		case c == CompactApplication:
			err = errors.New("application-defined compaction needs Raw bytes")
		case c > CompactUTF8 || c < 0:
			err = errors.New("unknown compaction " + c.String())
		default:
			data, err = compact(c, e.Value)
		}
		if err != nil {
			return nil, errAt(m, -1, "element %d (%s): %v", i, OIDName(e.OID), err)
		}
		if len(data) == 0 || len(data) >= 1<<14 {
			return nil, errAt(m, -1, "element %d (%s): %d data bytes; 1..16383 fit", i, OIDName(e.OID), len(data))
		}
		x := &enc[i]
		x.pad = -1
		pre := c.code() << 4
		if e.OID >= 15 {
			x.head = []byte{pre | 15, byte(e.OID - 15)}
		} else {
			x.head = []byte{pre | byte(e.OID)}
		}
		if len(data) < 128 {
			x.body = append([]byte{byte(len(data))}, data...)
		} else {
			x.body = append([]byte{0x80 | byte(len(data)>>7), byte(len(data) & 0x7F)}, data...)
		}
	}
	// Align runs of locked elements: pad the element before a run so the
	// run starts on a block boundary, and the run's last element so it
	// ends on one. Elements are laid out in order, so padding an earlier
	// element moves the later ones before they are placed.
	pos := 0
	if t.DSFID != 0 {
		pos = 1
	}
	for i := range enc {
		if elems[i].Lock && (i == 0 || !elems[i-1].Lock) && pos%bs != 0 && i > 0 {
			prev := &enc[i-1]
			pos -= prev.size()
			prev.align(pos, bs)
			pos += prev.size()
		}
		if elems[i].Lock && (i == len(enc)-1 || !elems[i+1].Lock) {
			enc[i].align(pos, bs)
		}
		pos += enc[i].size()
	}
	out := make([]byte, 0, pos+bs)
	if t.DSFID != 0 {
		out = append(out, t.DSFID)
	}
	for i := range enc {
		x := &enc[i]
		if x.pad >= 0 {
			x.head[0] |= 0x80
			out = append(out, x.head...)
			out = append(out, byte(x.pad))
		} else {
			out = append(out, x.head...)
		}
		out = append(out, x.body...)
		for range max(x.pad, 0) {
			out = append(out, 0)
		}
	}
	if t.PadTo > 1 {
		for len(out)%t.PadTo != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}

// autoCompactionFor is autoCompaction with the minimum lengths below which
// a bit-packed scheme saves nothing, and UTF-8 for titles, as libraries'
// encoders do.
func autoCompactionFor(oid int, s string) Compaction {
	if oid == OIDTitle {
		return CompactUTF8
	}
	c := autoCompaction(s)
	switch {
	case c == CompactInteger && len(s) < 2,
		c == Compact5Bit && len(s) < 3,
		c == Compact6Bit && len(s) < 4,
		c == Compact7Bit && len(s) < 8:
		if strings.ContainsFunc(s, func(r rune) bool { return r > 0x7F }) {
			return CompactUTF8
		}
		if c == CompactInteger {
			return CompactNumeric
		}
		return CompactUTF8
	}
	return c
}
