package tagdata

import (
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tally-inventory/tally/drivers"
)

// PC word bits (EPC Gen2): length of the EPC in words (5 bits), user
// memory indicator, XPC indicator, toggle (1: ISO AFI follows, 0: GS1 EPC),
// then 8 bits of AFI or GS1 attribute bits.
const (
	pcUMI    = 0x0400
	pcXI     = 0x0200
	pcToggle = 0x0100
)

// Library AFIs (ISO 28560).
const (
	AFILibraryIn  = 0xC2 // library item, on the shelf (security on)
	AFILibraryOut = 0x07 // library item, checked out (security off)
)

func afiMeaning(afi int) string {
	switch afi {
	case AFILibraryIn:
		return "library item on the shelf, secured"
	case AFILibraryOut:
		return "library item, checked out"
	case 0xD7:
		return "3M legacy, secured"
	case 0xDA:
		return "3M legacy, unsecured"
	}
	return "not a library AFI"
}

// PCFor builds the PC word for an EPC of len(epc) bytes (rounded up to
// words). afi ≥ 0 sets the toggle bit and the AFI (ISO); afi < 0 leaves the
// toggle clear (GS1 EPC).
func PCFor(epc []byte, userMemory bool, afi int) uint16 {
	pc := uint16((len(epc)+1)/2) << 11
	if userMemory {
		pc |= pcUMI
	}
	if afi >= 0 {
		pc |= pcToggle | uint16(afi&0xFF)
	}
	return pc
}

// DecodeUHF decodes a UHF tag from its PC word, EPC (the bytes after the
// PC, as readers report them) and optionally user memory (nil when not
// read). The PC word's toggle bit chooses: set → ISO/TS 28560-4 (UII in
// URN Code 40, user memory in ISO 28560-2 elements); clear → GS1 EPC
// (SGTIN-96, GIAI-96; any other EPC comes back as a raw tag whose ID is
// the EPC hex, because equipment is often tagged with vendor-serialized
// EPCs that the catalog knows by their hex). pc 0 means the reader did not
// report it: the EPC decides.
//
// Field offsets count the PC word as bytes 0-1 and the EPC from byte 2;
// user memory fields count from the start of user memory.
func DecodeUHF(pc uint16, epc, user []byte) (*Tag, error) {
	return decodeUHF("", pc, epc, user, 0)
}

// decodeEPCBank finds the PC word in data (PC ‖ EPC, or StoredCRC ‖ PC ‖
// EPC) and decodes. m is "" to follow the toggle bit or ModelISO28560_4 to
// force ISO. A StoredCRC that does not match the PC and EPC after it is an
// error unless m forces the model (then a warning): reading those bytes as
// CRC ‖ PC ‖ EPC would make up an identifier. Without a PC word that fits,
// a 12-byte GS1 EPC (SGTIN-96, GIAI-96 header) decodes by its header, as
// readers that report the EPC alone (Chafon) hand it over. strict (for
// Detect) also refuses the header fallback: Detect tries the GS1 models on
// their own.
func decodeEPCBank(m Model, data, user []byte, strict bool) (*Tag, error) {
	label := ModelISO28560_4
	if len(data) < 2 {
		return nil, errAt(label, len(data), "truncated: an EPC bank starts with a 2-byte PC word; give PC and EPC (e.g. 3000 3074257BF7194E4000001A85)")
	}
	fits := func(pc uint16, rest int) bool {
		l := int(pc>>11) * 2
		return rest == l || (pc&pcXI != 0 && rest == l+2)
	}
	pc0 := uint16(data[0])<<8 | uint16(data[1])
	if fits(pc0, len(data)-2) && pc0>>11 > 0 {
		return decodeUHF(m, pc0, data[2:], user, 0)
	}
	var crcErr error
	if len(data) >= 4 {
		pc1 := uint16(data[2])<<8 | uint16(data[3])
		if fits(pc1, len(data)-4) && pc1>>11 > 0 {
			stored := uint16(data[0])<<8 | uint16(data[1])
			c := CRC16Genibus(data[2:])
			if stored == 0 || stored == c || m != "" && !strict {
				t, err := decodeUHF(m, pc1, data[4:], user, 2)
				if err != nil {
					return nil, err
				}
				v := hex16(stored)
				switch {
				case stored == 0:
					v += " (not reported)"
				case c == stored:
					v += " (ok)"
				default:
					v += " (computed " + hex16(c) + ")"
					t.warn("byte 0: StoredCRC %s does not match the PC and EPC (computed %s): the EPC may be damaged; decoded as %s because that format was asked for", hex16(stored), hex16(c), m)
				}
				t.Fields = append([]Field{{Name: "stored CRC", Value: v, Offset: 0}}, t.Fields...)
				return t, nil
			}
			crcErr = errAt(label, 0, "the first word %s is neither a PC word for these %d bytes nor the StoredCRC (%s) of the PC and EPC after it; give PC and EPC, or force a format with --format", hex16(stored), len(data), hex16(c))
		}
	}
	if m == "" && !strict && isGS1EPC(data) {
		return decodeUHF("", 0, data, user, -2)
	}
	if crcErr != nil {
		return nil, crcErr
	}
	return nil, errAt(label, 0, "PC word %s says %d words of EPC, but %d bytes follow: not an EPC bank; give the PC word and the EPC, optionally preceded by the StoredCRC word",
		hex16(pc0), pc0>>11, len(data)-2)
}

// isGS1EPC reports whether epc is a 96-bit EPC with a GS1 header tally
// decodes (SGTIN-96, GIAI-96).
func isGS1EPC(epc []byte) bool {
	return len(epc) == 12 && (epc[0] == HeaderSGTIN96 || epc[0] == HeaderGIAI96)
}

func decodeUHF(m Model, pc uint16, epc, user []byte, pcOff int) (*Tag, error) {
	label := ModelISO28560_4
	t := newTag(label, 14)
	epcOff := pcOff + 2
	if pc == 0 && m == "" {
		// PC unknown: decide from the EPC itself.
		if isGS1EPC(epc) {
			if err := decodeGS1(t, epc, epcOff); err != nil {
				return nil, err
			}
			return t, nil
		}
		if len(epc) == 0 {
			return nil, errAt(label, epcOff, "the EPC is empty: the tag has no identifier; program it or scan the barcode")
		}
		return rawEPC(t, epc, epcOff, "the reader gave no PC word and the EPC is not SGTIN-96 or GIAI-96"), nil
	}
	words := int(pc >> 11)
	iso := pc&pcToggle != 0
	t.add("PC word", hex16(pc), pcOff)
	t.add("EPC length", strconv.Itoa(words)+" words", pcOff)
	t.add("user memory indicator", strconv.FormatBool(pc&pcUMI != 0), pcOff)
	if pc&pcXI != 0 {
		t.add("XPC indicator", "true", pcOff)
	}
	if iso {
		t.AFI = int(pc & 0xFF)
		t.add("toggle", "1 (ISO: AFI follows)", pcOff)
		t.add("AFI", hex8(byte(t.AFI))+" ("+afiMeaning(t.AFI)+")", pcOff+1)
	} else {
		t.add("toggle", "0 (GS1 EPC)", pcOff)
		t.add("attribute bits", hex8(byte(pc)), pcOff+1)
	}
	if len(epc) < 2*words {
		return nil, errAt(label, epcOff+len(epc), "truncated: the PC word says %d EPC words (%d bytes), the reader gave %d; read the whole EPC", words, 2*words, len(epc))
	}
	if pc&pcXI != 0 && len(epc) == 2*words+2 {
		t.add("XPC word", drivers.HexUpper(epc[:2]), epcOff)
		epc, epcOff = epc[2:], epcOff+2
	}
	if len(epc) > 2*words {
		t.warn("byte %d: %d bytes beyond the %d EPC words the PC word announces are ignored", epcOff+2*words, len(epc)-2*words, words)
		epc = epc[:2*words]
	}
	if len(epc) == 0 {
		return nil, errAt(label, epcOff, "the EPC is empty: the tag has no identifier; program it or scan the barcode")
	}
	if m == ModelISO28560_4 && !iso {
		t.warn("the PC toggle bit is 0 (a GS1 EPC); decoding the EPC as an ISO UII because iso28560-4 was asked for")
		iso = true
	}
	if !iso {
		if len(epc) == 12 && (epc[0] == HeaderSGTIN96 || epc[0] == HeaderGIAI96) {
			if err := decodeGS1(t, epc, epcOff); err != nil {
				return nil, err
			}
		} else {
			rawEPC(t, epc, epcOff, "EPC header "+headerOf(epc)+" is not SGTIN-96 or GIAI-96")
		}
		if pc&pcUMI != 0 && len(user) > 0 {
			t.add("user memory", strconv.Itoa(len(user))+" bytes (GS1 user memory is not decoded)", 0)
		}
		return t, nil
	}
	t.EPC = drivers.HexUpper(epc)
	uii, at, err := decodeUII(epc)
	if err != nil {
		return nil, errAt(label, epcOff+at, "%v: the UII is damaged or not ISO/TS 28560-4 (URN Code 40); try --format", err)
	}
	if uii == "" {
		return nil, errAt(label, epcOff, "the UII is only padding: the tag has no identifier; program it or scan the barcode")
	}
	t.add("UII", uii, epcOff)
	if isil, pii, ok := strings.Cut(uii, "."); ok && isil != "" && pii != "" {
		t.ISIL, t.ID = isil, pii
		if len(isil) > 2 && isil[2] == '-' && isUpper(isil[0]) && isUpper(isil[1]) {
			t.Country = isil[:2]
		}
		t.add("owner institution (ISIL)", isil, epcOff)
		t.add("primary item identifier", pii, epcOff)
	} else {
		t.ID = uii
		t.add("primary item identifier", uii, epcOff)
	}
	if t.AFI != AFILibraryIn && t.AFI != AFILibraryOut {
		t.warn("AFI %s is not a library AFI (0xC2 in, 0x07 out)", hex8(byte(t.AFI)))
	}
	if len(user) > 0 && !allZero(user) {
		if pc&pcUMI == 0 {
			t.warn("user memory was given but the PC word says the tag has none")
		}
		t.add("user memory", strconv.Itoa(len(user))+" bytes", 0)
		id, isil, country := t.ID, t.ISIL, t.Country
		if _, err := parseElements(t, user); err != nil {
			t.warn("user memory: %v", err)
		}
		if t.ID != id {
			// The UII is the identifier; a primary item identifier in user
			// memory that disagrees is worth a warning, not a switch.
			if id != "" && t.ID != id {
				t.warn("user memory's primary item identifier %q differs from the UII's %q", t.ID, id)
			}
			t.ID = id
		}
		if isil != "" {
			t.ISIL, t.Country = isil, country
		}
	}
	return t, nil
}

func allZero(p []byte) bool {
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

func headerOf(epc []byte) string {
	if len(epc) == 0 {
		return "(none)"
	}
	return hex8(epc[0])
}

// rawEPC makes t a raw tag whose identifier is the EPC hex.
func rawEPC(t *Tag, epc []byte, off int, why string) *Tag {
	t.Model = ModelRaw
	t.EPC = drivers.HexUpper(epc)
	t.ID = t.EPC
	t.add("EPC", t.EPC, off)
	t.warn("%s; the EPC hex is the identifier", why)
	return t
}

// urn40 is the URN Code 40 alphabet; index 0 is padding.
const urn40 = "\x00ABCDEFGHIJKLMNOPQRSTUVWXYZ-.:0123456789"

// decodeUII decodes an ISO/TS 28560-4 UII. On error it returns the byte
// offset of the problem.
func decodeUII(p []byte) (string, int, error) {
	var b strings.Builder
	b.Grow(len(p) * 3 / 2)
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c <= 0xFA:
			if i+1 >= len(p) {
				if c == 0 {
					return b.String(), 0, nil // odd trailing pad byte
				}
				return "", i, errString("truncated URN Code 40 word")
			}
			v := int(c)<<8 | int(p[i+1])
			i += 2
			if v == 0 {
				continue // padding word
			}
			if v > 64000 {
				return "", i - 2, errString("word " + hex16(uint16(v)) + " is beyond URN Code 40 (max 0xFA00)")
			}
			v--
			for _, x := range [3]int{v / 1600, v / 40 % 40, v % 40} {
				if x != 0 {
					b.WriteByte(urn40[x])
				}
			}
		case c == 0xFB:
			if i+2 > len(p) {
				return "", i, errString("truncated long numeric string")
			}
			nn := p[i+1]
			digits, nb := int(nn>>4)+9, int(nn&15)+4
			if i+2+nb > len(p) {
				return "", i, errString("long numeric string of " + strconv.Itoa(nb) + " bytes runs past the EPC")
			}
			var s string
			if nb <= 8 {
				var v uint64
				for _, x := range p[i+2 : i+2+nb] {
					v = v<<8 | uint64(x)
				}
				s = strconv.FormatUint(v, 10)
			} else {
				s = new(big.Int).SetBytes(p[i+2 : i+2+nb]).String()
			}
			if len(s) > digits {
				return "", i, errString("long numeric string has " + strconv.Itoa(len(s)) + " digits, its header says " + strconv.Itoa(digits))
			}
			for range digits - len(s) {
				b.WriteByte('0')
			}
			b.WriteString(s)
			i += 2 + nb
		case c == 0xFC:
			if i+2 > len(p) || p[i+1] < 0x20 || p[i+1] > 0x7E {
				return "", i, errString("0xFC must be followed by a printable ISO 646 character")
			}
			b.WriteByte(p[i+1])
			i += 2
		case c == 0xFD || c == 0xFE:
			n := int(c-0xFD) + 2
			if i+1+n > len(p) {
				return "", i, errString("truncated UTF-8 character")
			}
			r, size := utf8.DecodeRune(p[i+1 : i+1+n])
			if r == utf8.RuneError || size != n {
				return "", i, errString("invalid " + strconv.Itoa(n) + "-byte UTF-8 character")
			}
			b.WriteRune(r)
			i += 1 + n
		default:
			return "", i, errString("byte 0xFF is not a UII code")
		}
	}
	return b.String(), 0, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// encodeUII encodes text as an ISO/TS 28560-4 UII: runs of 9 or more
// digits as long numeric strings, characters of the URN Code 40 alphabet
// three to a word, anything else as a 1-byte (0xFC), 2- or 3-byte UTF-8
// escape. The result is padded to whole words.
func encodeUII(s string) ([]byte, error) {
	var out []byte
	var table []byte // pending URN Code 40 values
	flush := func() {
		for len(table)%3 != 0 {
			table = append(table, 0)
		}
		for i := 0; i < len(table); i += 3 {
			v := int(table[i])*1600 + int(table[i+1])*40 + int(table[i+2]) + 1
			out = append(out, byte(v>>8), byte(v))
		}
		table = table[:0]
	}
	for i := 0; i < len(s); {
		// a run of digits long enough for a long numeric string
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i >= 9 {
			flush()
			for j-i >= 9 {
				// up to 24 digits per string; never leave a tail too short for its own
				n := min(j-i, 24)
				if rest := j - i - n; rest > 0 && rest < 9 {
					n = j - i - 9
				}
				v, _ := new(big.Int).SetString(s[i:i+n], 10)
				raw := v.Bytes()
				for len(raw) < 4 {
					raw = append([]byte{0}, raw...)
				}
				out = append(out, 0xFB, byte((n-9)<<4|(len(raw)-4)))
				out = append(out, raw...)
				i += n
			}
			continue
		}
		c := s[i]
		if k := strings.IndexByte(urn40[1:], c); k >= 0 {
			table = append(table, byte(k+1))
			i++
			continue
		}
		flush()
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return nil, errString("invalid UTF-8 at byte " + strconv.Itoa(i))
		case size == 1:
			if c < 0x20 || c > 0x7E {
				return nil, errString("control character " + strconv.QuoteRune(r) + " cannot be written in a UII")
			}
			out = append(out, 0xFC, c)
		case size == 2 || size == 3:
			out = append(out, 0xFD+byte(size-2))
			out = append(out, s[i:i+size]...)
		default:
			return nil, errString("character " + strconv.QuoteRune(r) + " needs 4 UTF-8 bytes; a UII holds up to 3")
		}
		i += size
	}
	flush()
	if len(out)%2 != 0 {
		out = append(out, 0)
	}
	return out, nil
}

// Tag4 is an ISO/TS 28560-4 UHF tag to encode.
type Tag4 struct {
	AFI  int    // 0 means AFILibraryIn (0xC2)
	ISIL string // owner institution; the UII is ISIL + "." + ID when set
	ID   string // primary item identifier
	User *Tag2  // optional user memory; DSFID 0x06 and word padding are filled in
}

// UHF is a UHF tag's memory as a reader or the simulator holds it.
type UHF struct {
	PC   uint16
	EPC  []byte // after the PC word
	User []byte // nil when the tag has no user memory
}

// Encode28560_4 encodes t as an ISO/TS 28560-4 EPC bank (and user memory).
func Encode28560_4(t Tag4) (UHF, error) {
	const m = ModelISO28560_4
	if t.ID == "" {
		return UHF{}, errAt(m, -1, "the primary item identifier is empty")
	}
	uii := t.ID
	if t.ISIL != "" {
		uii = t.ISIL + "." + t.ID
	}
	epc, err := encodeUII(uii)
	if err != nil {
		return UHF{}, errAt(m, -1, "UII %q: %v", uii, err)
	}
	if len(epc) > 62 {
		return UHF{}, errAt(m, -1, "UII %q needs %d bytes; an EPC holds at most 62 (31 words)", uii, len(epc))
	}
	afi := t.AFI
	if afi == 0 {
		afi = AFILibraryIn
	}
	var user []byte
	if t.User != nil {
		u := *t.User
		if u.DSFID == 0 {
			u.DSFID = DSFID28560_2
		}
		if u.PadTo == 0 {
			u.PadTo = 2
		}
		if u.BlockSize == 0 {
			u.BlockSize = 2
		}
		if user, err = Encode28560_2(u); err != nil {
			return UHF{}, err
		}
	}
	return UHF{PC: PCFor(epc, user != nil, afi), EPC: epc, User: user}, nil
}
