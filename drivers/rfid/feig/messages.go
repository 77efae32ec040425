package feig

import "fmt"

// Control bytes (commands) this driver sends.
const (
	CmdSoftwareVersion = 0x65 // Get Software Version
	CmdISO             = 0xB0 // ISO 15693 host commands; the sub-command is the first data byte
)

// ISO 15693 host sub-commands.
const (
	ISOInventory          = 0x01
	ISOReadMultipleBlocks = 0x23
)

// Inventory MODE bits.
const (
	ModeMore = 0x80 // fetch the data sets that did not fit the last reply (after status 0x94)
)

// Read Multiple Blocks MODE: addressed by UID.
const modeAddressed = 0x01

// Status is the reader's status byte in every reply.
type Status byte

// Status bytes (FEIG ISO-host, annex "Index of Status Bytes").
const (
	StatusOK             Status = 0x00
	StatusNoTransponder  Status = 0x01 // nothing in the field, or the addressed tag left it
	StatusDataFalse      Status = 0x02 // CRC error on the air interface
	StatusWriteError     Status = 0x03
	StatusAddressError   Status = 0x04 // block address beyond the tag's memory
	StatusWrongType      Status = 0x05 // command not supported by this transponder type
	StatusEEPROMFailure  Status = 0x10
	StatusParamRange     Status = 0x11
	StatusUnknownCommand Status = 0x80
	StatusLengthError    Status = 0x81
	StatusNotAvailable   Status = 0x82
	StatusRFCommError    Status = 0x83 // RF communication error: some tags may be missing
	StatusRFWarning      Status = 0x84 // RF warning: antenna mismatch or noise
	StatusBufferOverflow Status = 0x93
	StatusMoreData       Status = 0x94 // more data sets than fit: ask again with ModeMore
	StatusISOError       Status = 0x95 // the tag answered with an ISO 15693 error code (first data byte)
)

var statusNames = map[Status]string{
	StatusOK:             "ok",
	StatusNoTransponder:  "no transponder",
	StatusDataFalse:      "data false (RF CRC error)",
	StatusWriteError:     "write error",
	StatusAddressError:   "address error",
	StatusWrongType:      "wrong transponder type",
	StatusEEPROMFailure:  "EEPROM failure",
	StatusParamRange:     "parameter out of range",
	StatusUnknownCommand: "unknown command",
	StatusLengthError:    "length error",
	StatusNotAvailable:   "command not available",
	StatusRFCommError:    "RF communication error",
	StatusRFWarning:      "RF warning (check the antenna)",
	StatusBufferOverflow: "data buffer overflow",
	StatusMoreData:       "more data",
	StatusISOError:       "ISO 15693 error",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return fmt.Sprintf("0x%02X %s", byte(s), n)
	}
	return fmt.Sprintf("0x%02X", byte(s))
}

// StatusError is a reply whose status says the command failed.
type StatusError struct {
	Cmd, Sub byte
	Status   Status
	ISOError byte // with StatusISOError: the tag's ISO 15693 error code
}

func (e *StatusError) Error() string {
	if e.Status == StatusISOError {
		return fmt.Sprintf("feig: command 0x%02X/0x%02X: reader status %v, tag error 0x%02X", e.Cmd, e.Sub, e.Status, e.ISOError)
	}
	return fmt.Sprintf("feig: command 0x%02X/0x%02X: reader status %v", e.Cmd, e.Sub, e.Status)
}

// Transponder types (TR-TYPE) in inventory data sets, FEIG ID CPR manual
// (H20800-16e-ID-B) Annex A.
const (
	TRISO15693  = 0x03
	TRISO14443A = 0x04
	TRISO14443B = 0x05
	TRJewel     = 0x08
)

// DSFID28560_2 is the ISO 15693 data storage format identifier of a tag
// holding ISO 28560-2 library data.
const DSFID28560_2 = 0x06

// tr14443CL3 is the TR_INFO bit saying an ISO 14443A UID is sent as 10
// bytes (cascade level 3) rather than 7.
const tr14443CL3 = 0x04

// InventoryItem is one transponder found by an inventory. The layout of a
// data set depends on its TR-TYPE (manual §7.1.1.1-7.1.1.5):
//
//	0x03 ISO 15693   TR-TYPE DSFID UID(8)                      10 bytes
//	0x04 ISO 14443A  TR-TYPE TR_INFO OPT_INFO UID(7 or 10)     10 or 13 bytes
//	0x05 ISO 14443B  TR-TYPE PROTO_INFO APP_DATA(4) PUPI(4)    10 bytes
//	0x08 Jewel       TR-TYPE 0 0 HR0 HR1 UID(4)                 9 bytes
//
// For an ISO 14443A UID, TR_INFO bit 2 (CL3) says 10 bytes; the UID is
// sent most significant byte first, shorter UIDs padded with leading zeros.
type InventoryItem struct {
	TRType byte    // transponder type, TRISO15693 …
	DSFID  byte    // ISO 15693: data storage format identifier (0 when unused)
	UID    [8]byte // ISO 15693: as the reader sends it, most significant byte (0xE0) first
	// Other is the rest of a data set of another type, after TR-TYPE
	// (ISO 14443A: TR_INFO, OPT_INFO, UID), kept so it can be re-encoded.
	Other []byte
}

// setLen is the length of the data set of type tr starting at p, or 0 when
// the type's layout is unknown.
func setLen(tr byte, p []byte) int {
	switch tr {
	case TRISO15693, TRISO14443B:
		return 10
	case TRJewel:
		return 9
	case TRISO14443A:
		if len(p) < 2 {
			return 10
		}
		if p[1]&tr14443CL3 != 0 {
			return 13
		}
		return 10
	}
	return 0
}

// UnknownTypeError is an inventory data set of a transponder type whose
// layout is not known: the sets before it were parsed, the rest of the
// reply cannot be.
type UnknownTypeError struct {
	Offset int  // byte offset of the data set in the inventory data
	TRType byte // its transponder type
	Left   int  // data sets announced but not parsed, this one included
}

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("feig: inventory data set at byte %d has transponder type 0x%02X, whose layout is unknown; %d data sets skipped (configure the reader for ISO 15693 only)", e.Offset, e.TRType, e.Left)
}

// ParseInventory decodes an inventory reply's data. items is reused if it
// has room. On an *UnknownTypeError the items before the unknown set are
// returned with it.
func ParseInventory(d []byte, items []InventoryItem) ([]InventoryItem, error) {
	items = items[:0]
	if len(d) == 0 {
		return items, &FrameError{0, "inventory reply has no DATA-SETS byte"}
	}
	n := int(d[0])
	pos := 1
	for i := range n {
		if pos >= len(d) {
			return items, &FrameError{pos, fmt.Sprintf("inventory reply announces %d data sets but ends after %d", n, i)}
		}
		tr := d[pos]
		l := setLen(tr, d[pos:])
		if l == 0 {
			return items, &UnknownTypeError{Offset: pos, TRType: tr, Left: n - i}
		}
		if pos+l > len(d) {
			return items, &FrameError{len(d), fmt.Sprintf("data set %d (transponder type 0x%02X) needs %d bytes, %d left", i+1, tr, l, len(d)-pos)}
		}
		p := d[pos : pos+l]
		it := InventoryItem{TRType: tr}
		if tr == TRISO15693 {
			it.DSFID = p[1]
			copy(it.UID[:], p[2:10])
		} else {
			it.Other = p[1:]
		}
		items = append(items, it)
		pos += l
	}
	if pos != len(d) {
		return items, &FrameError{pos, fmt.Sprintf("%d bytes after the %d announced data sets", len(d)-pos, n)}
	}
	return items, nil
}

// AppendInventory encodes an inventory reply's data.
func AppendInventory(dst []byte, items []InventoryItem) []byte {
	dst = append(dst, byte(len(items)))
	for _, it := range items {
		dst = append(dst, it.TRType)
		if it.TRType == TRISO15693 {
			dst = append(dst, it.DSFID)
			dst = append(dst, it.UID[:]...)
		} else {
			dst = append(dst, it.Other...)
		}
	}
	return dst
}

// InventoryRequest is the data of an ISO 15693 inventory (mode 0x00, or
// ModeMore to continue after StatusMoreData).
func InventoryRequest(mode byte) []byte { return []byte{ISOInventory, mode} }

// ReadBlocksRequest is the data of Read Multiple Blocks addressed to uid.
func ReadBlocksRequest(uid [8]byte, first, count byte) []byte {
	d := []byte{ISOReadMultipleBlocks, modeAddressed}
	d = append(d, uid[:]...)
	return append(d, first, count)
}

// Blocks is a decoded Read Multiple Blocks reply.
type Blocks struct {
	Size     int    // bytes per block
	Count    int    // blocks read
	Security []byte // per-block security status
	Data     []byte // the blocks concatenated, as the reader sent them
}

// ParseBlocks decodes a Read Multiple Blocks reply's data.
func ParseBlocks(d []byte) (Blocks, error) {
	if len(d) < 2 {
		return Blocks{}, &FrameError{len(d), "block reply needs DB-N and DB-SIZE"}
	}
	b := Blocks{Count: int(d[0]), Size: int(d[1])}
	if b.Size == 0 && b.Count > 0 {
		return b, &FrameError{1, "block size is 0"}
	}
	if want := 2 + b.Count*(1+b.Size); len(d) != want {
		return b, &FrameError{min(len(d), want), fmt.Sprintf("%d blocks of %d bytes need %d data bytes, reply has %d", b.Count, b.Size, want, len(d))}
	}
	b.Security = make([]byte, 0, b.Count)
	b.Data = make([]byte, 0, b.Count*b.Size)
	for i := range b.Count {
		p := d[2+i*(1+b.Size):]
		b.Security = append(b.Security, p[0])
		b.Data = append(b.Data, p[1:1+b.Size]...)
	}
	return b, nil
}

// AppendBlocks encodes a Read Multiple Blocks reply's data from data split
// into blocks of size bytes (security status 0).
func AppendBlocks(dst []byte, size int, data []byte) []byte {
	n := len(data) / size
	dst = append(dst, byte(n), byte(size))
	for i := range n {
		dst = append(dst, 0)
		dst = append(dst, data[i*size:(i+1)*size]...)
	}
	return dst
}

// ReverseBlocks reverses the byte order inside every size-byte block of p
// in place: some readers send each block most significant byte first.
func ReverseBlocks(p []byte, size int) {
	for i := 0; i+size <= len(p); i += size {
		b := p[i : i+size]
		for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
			b[l], b[r] = b[r], b[l]
		}
	}
}
