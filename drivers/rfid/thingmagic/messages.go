package thingmagic

import (
	"encoding/binary"
	"fmt"
)

// Opcodes this driver sends (Mercury serial_reader_imp.h names in comments).
const (
	OpVersion          = 0x03 // VERSION
	OpBootFirmware     = 0x04 // BOOT_FIRMWARE: leave the bootloader for the application
	OpGetProgram       = 0x0C // GET_CURRENT_PROGRAM: bootloader or application
	OpReadTagMultiple  = 0x22 // READ_TAG_ID_MULTIPLE
	OpGetTagBuffer     = 0x29 // GET_TAG_ID_BUFFER
	OpClearTagBuffer   = 0x2A // CLEAR_TAG_ID_BUFFER
	OpMultiProtocolOp  = 0x2F // MULTI_PROTOCOL_TAG_OP (continuous mode; not used)
	OpSetAntennaPort   = 0x91 // SET_ANTENNA_PORT: TX/RX ports, or (option 2) the search list
	OpSetReadTxPower   = 0x92 // SET_READ_TX_POWER
	OpSetTagProtocol   = 0x93 // SET_TAG_PROTOCOL
	OpSetRegion        = 0x97 // SET_REGION
	OpSetReaderOptions = 0x9A // SET_READER_OPTIONAL_PARAMS
)

// ProtocolGen2 is the tag protocol id of EPC Gen2 / ISO 18000-63.
const ProtocolGen2 = 0x0005

// Region selects the reader's frequency plan (regulatory region).
type Region byte

// Regions the modules know.
const (
	RegionNA   Region = 0x01
	RegionEU   Region = 0x02
	RegionKR   Region = 0x03
	RegionIN   Region = 0x04
	RegionJP   Region = 0x05
	RegionPRC  Region = 0x06
	RegionEU3  Region = 0x08 // Europe, ETSI EN 302 208 (865.6–867.6 MHz)
	RegionKR2  Region = 0x09
	RegionAU   Region = 0x0B
	RegionNZ   Region = 0x0C
	RegionNA2  Region = 0x0D // North America, reduced FCC hop table (M6e Nano)
	RegionOpen Region = 0xFF
)

// Search flags of read tag multiple (Mercury TMR_SR_SearchFlag).
const (
	searchConfiguredList     = 0x0003 // search the antenna list set with OpSetAntennaPort option 2
	searchLargeTagPopulation = 0x0010 // tag count as 4 bytes
)

// Current program (OpGetProgram's reply, low two bits), as Mercury's
// TMR_SR_boot tests it.
const (
	ProgramBootloader = 1
	ProgramApp        = 2
)

// antennaListOption is OpSetAntennaPort's "logical antenna list" option.
const antennaListOption = 0x02

// AntennaPortData is the data of OpSetAntennaPort setting the TX and RX
// ports (monostatic: the same port), as SparkFun's setAntennaPort sends
// it for port 1: 01 01.
func AntennaPortData(port int) []byte { return []byte{byte(port), byte(port)} }

// AntennaSearchListData is the data of OpSetAntennaPort option 2: the
// ports a search with searchConfiguredList visits, each as a TX, RX pair
// (Mercury TMR_SR_cmdSetAntennaSearchList; SparkFun's setAntennaSearchList
// sends 02 01 01).
func AntennaSearchListData(ports []int) []byte {
	d := []byte{antennaListOption}
	for _, p := range ports {
		d = append(d, byte(p), byte(p))
	}
	return d
}

// Metadata flags of get tag buffer: which fields precede each tag's EPC.
const (
	MetaReadCount = 0x0001
	MetaRSSI      = 0x0002
	MetaAntenna   = 0x0004
	MetaFrequency = 0x0008
	MetaTimestamp = 0x0010
	MetaPhase     = 0x0020
	MetaProtocol  = 0x0040
	MetaData      = 0x0080
	MetaGPIO      = 0x0100
)

// Status is the reader's status word in every response.
type Status uint16

// Status words worth naming (Mercury tmr_status.h).
const (
	StatusOK               Status = 0x0000
	StatusWrongDataLength  Status = 0x0100
	StatusInvalidOpcode    Status = 0x0101
	StatusUnimplemented    Status = 0x0102
	StatusPowerTooHigh     Status = 0x0103
	StatusInvalidParameter Status = 0x0105
	StatusPowerTooLow      Status = 0x0106
	StatusInvalidRegion    Status = 0x010B
	StatusNoTagsFound      Status = 0x0400
	StatusNoProtocol       Status = 0x0401
	StatusInvalidProtocol  Status = 0x0402
	StatusAntennaNotConn   Status = 0x0503
	StatusTemperature      Status = 0x0504
	StatusHighReturnLoss   Status = 0x0505
	StatusBufferEmpty      Status = 0x0600
	StatusBufferFull       Status = 0x0601
	StatusSystemUnknown    Status = 0x7F00
	StatusAssertFailed     Status = 0x7F01
)

var statusNames = map[Status]string{
	StatusOK:               "ok",
	StatusWrongDataLength:  "wrong number of data bytes",
	StatusInvalidOpcode:    "invalid opcode",
	StatusUnimplemented:    "unimplemented opcode",
	StatusPowerTooHigh:     "power too high",
	StatusInvalidParameter: "invalid parameter value",
	StatusPowerTooLow:      "power too low",
	StatusInvalidRegion:    "invalid region",
	StatusNoTagsFound:      "no tags found",
	StatusNoProtocol:       "no tag protocol set",
	StatusInvalidProtocol:  "invalid tag protocol",
	StatusAntennaNotConn:   "antenna not connected",
	StatusTemperature:      "temperature exceeds limits",
	StatusHighReturnLoss:   "high return loss (check the antenna)",
	StatusBufferEmpty:      "not enough tags in the tag buffer",
	StatusBufferFull:       "tag buffer full",
	StatusSystemUnknown:    "unknown system error",
	StatusAssertFailed:     "firmware assertion failed",
}

func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return fmt.Sprintf("0x%04X %s", uint16(s), n)
	}
	return fmt.Sprintf("0x%04X", uint16(s))
}

// StatusError is a response whose status word is not OK.
type StatusError struct {
	Opcode byte
	Status Status
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("thingmagic: opcode 0x%02X: reader status %v", e.Opcode, e.Status)
}

// Version is the reply to OpVersion.
type Version struct {
	Bootloader [4]byte
	Hardware   [4]byte // Hardware[0] is the model: 0x18 M6e, 0x30 M6e Nano
	FWDate     [4]byte
	FWVersion  [4]byte
	Protocols  uint32 // bit n-1 set: protocol n supported (bit 4: Gen2)
}

// ParseVersion decodes a version reply's data.
func ParseVersion(d []byte) (Version, error) {
	var v Version
	if len(d) < 20 {
		return v, &FrameError{len(d), fmt.Sprintf("version reply has %d data bytes, want 20", len(d))}
	}
	copy(v.Bootloader[:], d[0:4])
	copy(v.Hardware[:], d[4:8])
	copy(v.FWDate[:], d[8:12])
	copy(v.FWVersion[:], d[12:16])
	v.Protocols = binary.BigEndian.Uint32(d[16:20])
	return v, nil
}

// AppendVersion encodes v as a version reply's data.
func AppendVersion(dst []byte, v Version) []byte {
	dst = append(dst, v.Bootloader[:]...)
	dst = append(dst, v.Hardware[:]...)
	dst = append(dst, v.FWDate[:]...)
	dst = append(dst, v.FWVersion[:]...)
	return binary.BigEndian.AppendUint32(dst, v.Protocols)
}

// ReadTagMultipleData is the data of a synchronous read tag multiple
// command: option 0 (no select filter), search flags (the configured
// antenna list, a 4-byte tag count, as Mercury's read sends them), and the
// search time in milliseconds.
func ReadTagMultipleData(timeoutMs uint16) []byte {
	const flags = searchConfiguredList | searchLargeTagPopulation
	return []byte{0x00, flags >> 8, flags & 0xFF, byte(timeoutMs >> 8), byte(timeoutMs)}
}

// ParseTagCount decodes the tag count from a read tag multiple reply. The
// reply has four shapes depending on firmware and search flags: option,
// flags, then a 1- or 4-byte count, with or without an extra select-option
// byte before the count.
func ParseTagCount(d []byte) (int, error) {
	switch len(d) {
	case 4:
		return int(d[3]), nil
	case 5:
		return int(d[4]), nil
	case 7:
		return int(binary.BigEndian.Uint32(d[3:7])), nil
	case 8:
		return int(binary.BigEndian.Uint32(d[4:8])), nil
	}
	return 0, &FrameError{0, fmt.Sprintf("read tag multiple reply has %d data bytes, want 4, 5, 7 or 8", len(d))}
}

// TagRead is one tag record from the tag buffer.
type TagRead struct {
	ReadCount int
	RSSI      int    // dBm
	Antenna   int    // logical port: the TX port nibble, 16 when it reads 0
	Frequency uint32 // kHz
	Timestamp uint32 // ms since the search began
	Phase     uint16
	Protocol  byte
	Data      []byte // embedded read data (MetaData)
	GPIO      byte
	PC        []byte // PC word (and XPC words) when Protocol is Gen2
	EPC       []byte
	TagCRC    uint16
	Raw       []byte // the record as sent, metadata to tag CRC
}

// TagBuffer is a decoded get tag buffer reply.
type TagBuffer struct {
	Flags   uint16 // metadata flags the records carry
	Options byte
	Tags    []TagRead
}

// GetTagBufferData is the data of a get tag buffer command asking for the
// given metadata.
func GetTagBufferData(flags uint16) []byte {
	return []byte{byte(flags >> 8), byte(flags), 0x00}
}

// ParseTagBuffer decodes a get tag buffer reply's data. The records alias d.
// tags is reused to hold them if it has room.
func ParseTagBuffer(d []byte, tags []TagRead) (TagBuffer, error) {
	if len(d) < 4 {
		return TagBuffer{}, &FrameError{len(d), fmt.Sprintf("tag buffer reply has %d data bytes, want at least 4 (flags, options, count)", len(d))}
	}
	tb := TagBuffer{Flags: binary.BigEndian.Uint16(d), Options: d[2], Tags: tags[:0]}
	count := int(d[3])
	i := 4
	for k := range count {
		start := i
		var t TagRead
		need := func(n int, what string) error {
			if i+n > len(d) {
				return &FrameError{i, fmt.Sprintf("tag %d of %d: %s needs %d bytes, %d left", k+1, count, what, n, len(d)-i)}
			}
			return nil
		}
		f := tb.Flags
		if f&MetaReadCount != 0 {
			if err := need(1, "read count"); err != nil {
				return tb, err
			}
			t.ReadCount = int(d[i])
			i++
		}
		if f&MetaRSSI != 0 {
			if err := need(1, "RSSI"); err != nil {
				return tb, err
			}
			t.RSSI = int(int8(d[i]))
			i++
		}
		if f&MetaAntenna != 0 {
			if err := need(1, "antenna"); err != nil {
				return tb, err
			}
			t.Antenna = int(d[i] >> 4)
			if t.Antenna == 0 {
				t.Antenna = 16
			}
			i++
		}
		if f&MetaFrequency != 0 {
			if err := need(3, "frequency"); err != nil {
				return tb, err
			}
			t.Frequency = uint32(d[i])<<16 | uint32(d[i+1])<<8 | uint32(d[i+2])
			i += 3
		}
		if f&MetaTimestamp != 0 {
			if err := need(4, "timestamp"); err != nil {
				return tb, err
			}
			t.Timestamp = binary.BigEndian.Uint32(d[i:])
			i += 4
		}
		if f&MetaPhase != 0 {
			if err := need(2, "phase"); err != nil {
				return tb, err
			}
			t.Phase = binary.BigEndian.Uint16(d[i:])
			i += 2
		}
		if f&MetaProtocol != 0 {
			if err := need(1, "protocol"); err != nil {
				return tb, err
			}
			t.Protocol = d[i]
			i++
		}
		if f&MetaData != 0 {
			if err := need(2, "data length"); err != nil {
				return tb, err
			}
			n := (int(binary.BigEndian.Uint16(d[i:])) + 7) / 8
			i += 2
			if err := need(n, "data"); err != nil {
				return tb, err
			}
			t.Data = d[i : i+n]
			i += n
		}
		if f&MetaGPIO != 0 {
			if err := need(1, "GPIO"); err != nil {
				return tb, err
			}
			t.GPIO = d[i]
			i++
		}
		if err := need(2, "EPC length"); err != nil {
			return tb, err
		}
		bits := int(binary.BigEndian.Uint16(d[i:]))
		i += 2
		n := (bits + 7) / 8
		if n < 2 {
			return tb, &FrameError{i - 2, fmt.Sprintf("tag %d of %d: EPC length is %d bits, too short to hold the tag CRC", k+1, count, bits)}
		}
		if err := need(n, "EPC"); err != nil {
			return tb, err
		}
		id := d[i : i+n-2]
		if t.Protocol == byte(ProtocolGen2) {
			pcn := 2
			if len(id) >= 2 && id[0]&0x02 != 0 { // XPC_W1 follows
				pcn = 4
				if len(id) >= 4 && id[2]&0x80 != 0 { // XPC_W2 follows
					pcn = 6
				}
			}
			if len(id) < pcn {
				return tb, &FrameError{i, fmt.Sprintf("tag %d of %d: %d ID bytes cannot hold a %d-byte PC", k+1, count, len(id), pcn)}
			}
			t.PC, id = id[:pcn], id[pcn:]
		}
		t.EPC = id
		t.TagCRC = binary.BigEndian.Uint16(d[i+n-2:])
		i += n
		t.Raw = d[start:i]
		tb.Tags = append(tb.Tags, t)
	}
	if i != len(d) {
		return tb, &FrameError{i, fmt.Sprintf("%d bytes follow the last of %d tag records", len(d)-i, count)}
	}
	return tb, nil
}

// AppendTagRecord encodes one tag record with the given metadata flags.
func AppendTagRecord(dst []byte, flags uint16, t TagRead) []byte {
	if flags&MetaReadCount != 0 {
		dst = append(dst, byte(t.ReadCount))
	}
	if flags&MetaRSSI != 0 {
		dst = append(dst, byte(int8(t.RSSI)))
	}
	if flags&MetaAntenna != 0 {
		a := byte(t.Antenna & 0x0F)
		dst = append(dst, a<<4|a)
	}
	if flags&MetaFrequency != 0 {
		dst = append(dst, byte(t.Frequency>>16), byte(t.Frequency>>8), byte(t.Frequency))
	}
	if flags&MetaTimestamp != 0 {
		dst = binary.BigEndian.AppendUint32(dst, t.Timestamp)
	}
	if flags&MetaPhase != 0 {
		dst = binary.BigEndian.AppendUint16(dst, t.Phase)
	}
	if flags&MetaProtocol != 0 {
		dst = append(dst, t.Protocol)
	}
	if flags&MetaData != 0 {
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(t.Data)*8))
		dst = append(dst, t.Data...)
	}
	if flags&MetaGPIO != 0 {
		dst = append(dst, t.GPIO)
	}
	n := len(t.PC) + len(t.EPC) + 2
	dst = binary.BigEndian.AppendUint16(dst, uint16(n*8))
	dst = append(dst, t.PC...)
	dst = append(dst, t.EPC...)
	return binary.BigEndian.AppendUint16(dst, t.TagCRC)
}

// AppendTagBuffer encodes a get tag buffer reply's data.
func AppendTagBuffer(dst []byte, flags uint16, tags []TagRead) []byte {
	dst = append(dst, byte(flags>>8), byte(flags), 0x00, byte(len(tags)))
	for _, t := range tags {
		dst = AppendTagRecord(dst, flags, t)
	}
	return dst
}
