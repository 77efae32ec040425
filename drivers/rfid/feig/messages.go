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

// InventoryItem is one ISO 15693 tag found by an inventory.
type InventoryItem struct {
	TRType byte    // transponder type (0x03 ISO 15693)
	DSFID  byte    // data storage format id
	UID    [8]byte // as the reader sends it, most significant byte (0xE0) first
}

// ParseInventory decodes an inventory reply's data. items is reused if it
// has room.
func ParseInventory(d []byte, items []InventoryItem) ([]InventoryItem, error) {
	items = items[:0]
	if len(d) == 0 {
		return items, &FrameError{0, "inventory reply has no DATA-SETS byte"}
	}
	n := int(d[0])
	if want := 1 + 10*n; len(d) != want {
		return items, &FrameError{min(len(d), want), fmt.Sprintf("inventory reply announces %d data sets (%d bytes) but has %d data bytes", n, want, len(d))}
	}
	for i := range n {
		p := d[1+10*i:]
		it := InventoryItem{TRType: p[0], DSFID: p[1]}
		copy(it.UID[:], p[2:10])
		items = append(items, it)
	}
	return items, nil
}

// AppendInventory encodes an inventory reply's data.
func AppendInventory(dst []byte, items []InventoryItem) []byte {
	dst = append(dst, byte(len(items)))
	for _, it := range items {
		dst = append(dst, it.TRType, it.DSFID)
		dst = append(dst, it.UID[:]...)
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
