package chafon

import (
	"fmt"
	"time"
)

// Protocol is the layout of the inventory answer, which differs between
// the older UHFReader18 family and the UHFReader288 family.
type Protocol int

const (
	// ProtocolAuto picks the layout from the reader type in the reader
	// information answer.
	ProtocolAuto Protocol = iota
	// Protocol18 (UHFReader18, CF-RU5102): Num, then Len EPC per tag.
	Protocol18
	// Protocol288 (UHFReader288M, CF-RU6402, CF-MU804, UHFReader86
	// CF-MU903/904): Ant, Num, then Len EPC RSSI per tag; the inventory
	// command carries Q, session and antenna parameters.
	Protocol288
)

func (p Protocol) String() string {
	switch p {
	case ProtocolAuto:
		return "auto"
	case Protocol18:
		return "uhfreader18"
	case Protocol288:
		return "uhfreader288"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// Reader type codes from the reader information answer, as
// github.com/wabson/chafon-rfid chafon_rfid/base.py ReaderType lists them.
const (
	TypeRU5102Doc   byte = 0x03 // CF-RU5102 as documented
	TypeRU5102      byte = 0x08 // CF-RU5102 as shipped
	TypeUHFReader18 byte = 0x09
	Type288M        byte = 0x0C // CF-RU6402
	Type86Doc       byte = 0x0F // UHFReader86, CF-MU903/904, as documented
	Type86          byte = 0x10 // UHFReader86, CF-MU903/904, as shipped
	Type288MP       byte = 0x20 // CF-MU804
	Type288ADV      byte = 0x8B // CF-RU6401
)

// protocolFor maps a reader type to its inventory layout. The UHFReader86
// speaks the 288 layout: chafon-rfid reads it with the UHFReader288M
// command and frame classes (examples/continuous-read.py; its
// uhfreader86.py at commit cce76b3 subclasses them unchanged).
func protocolFor(readerType byte) Protocol {
	switch readerType {
	case Type288M, Type86Doc, Type86, Type288MP, Type288ADV:
		return Protocol288
	}
	return Protocol18
}

// answerMode returns the command that puts a reader of type t into answer
// mode (the host polls with inventory commands), or false for types that
// have no such command or whose command is not known. chafon-rfid sends
// these at start (examples/continuous-read.py); a reader left in scan mode
// by other software would otherwise talk over the inventory replies.
func answerMode(t byte) (cmd byte, data []byte, ok bool) {
	switch t {
	case TypeUHFReader18:
		return CmdSetWorkMode18, make([]byte, 6), true
	case Type288M, Type288MP:
		return CmdSetWorkMode288, []byte{0}, true
	}
	return 0, nil, false
}

// Tag is one tag from an inventory answer.
type Tag struct {
	EPC     []byte // EPC words as the reader sent them (no PC word); aliases the frame
	Antenna int    // 1..4; 0 when the layout does not say
	RSSI    byte   // raw RSSI byte (288 layout only), reader units, not dBm
}

// ParseInventory decodes the data of an inventory answer (status 0x01,
// 0x02, 0x03 or 0x04) and calls fn for each tag. EPC slices alias data.
// Errors say at which data byte the layout broke.
func ParseInventory(p Protocol, data []byte, fn func(Tag)) error {
	i, ant := 0, 0
	if p == Protocol288 {
		if len(data) < 1 {
			return fmt.Errorf("chafon inventory: data byte 0: missing antenna byte")
		}
		ant = antennaNumber(data[0])
		i = 1
	}
	if len(data) < i+1 {
		return fmt.Errorf("chafon inventory: data byte %d: missing tag count", i)
	}
	n := int(data[i])
	i++
	for t := range n {
		if i >= len(data) {
			return fmt.Errorf("chafon inventory: data byte %d: tag %d of %d missing (frame too short for its count)", i, t+1, n)
		}
		l := int(data[i])
		i++
		if l == 0 || i+l > len(data) {
			return fmt.Errorf("chafon inventory: data byte %d: tag %d EPC length %d does not fit the %d bytes left", i-1, t+1, l, len(data)-i)
		}
		tag := Tag{EPC: data[i : i+l], Antenna: ant}
		i += l
		if p == Protocol288 {
			if i >= len(data) {
				return fmt.Errorf("chafon inventory: data byte %d: tag %d RSSI byte missing", i, t+1)
			}
			tag.RSSI = data[i]
			i++
		}
		fn(tag)
	}
	if i != len(data) {
		return fmt.Errorf("chafon inventory: data byte %d: %d bytes left after %d tags", i, len(data)-i, n)
	}
	return nil
}

// AppendInventory appends the data of an inventory answer holding tags to
// dst: the simulator's and the tests' encoder. ant is the 288 antenna
// number (1..4).
func AppendInventory(dst []byte, p Protocol, ant int, tags []Tag) []byte {
	if p == Protocol288 {
		dst = append(dst, antennaBit(ant))
	}
	dst = append(dst, byte(len(tags)))
	for _, t := range tags {
		dst = append(dst, byte(len(t.EPC)))
		dst = append(dst, t.EPC...)
		if p == Protocol288 {
			dst = append(dst, t.RSSI)
		}
	}
	return dst
}

// antennaNumber maps the 288 antenna bit (1, 2, 4, 8) to 1..4.
func antennaNumber(b byte) int {
	switch b {
	case 1:
		return 1
	case 2:
		return 2
	case 4:
		return 3
	case 8:
		return 4
	}
	return 0
}

func antennaBit(n int) byte {
	if n < 1 || n > 4 {
		return 1
	}
	return 1 << (n - 1)
}

// InventoryParams are the 288-layout inventory command parameters.
type InventoryParams struct {
	Q        byte          // anticollision Q, 0..15
	Session  byte          // 0..3
	Antenna  int           // 1..4
	ScanTime time.Duration // 100 ms steps, 0.1..25.5 s
}

// InventoryData returns the inventory command data for p: none for the 18
// layout; Q, session, mask (EPC bank, empty), target A, antenna, scan time
// for the 288 layout.
func InventoryData(p Protocol, ip InventoryParams) []byte {
	if p != Protocol288 {
		return nil
	}
	return []byte{ip.Q & 0x0F, ip.Session & 0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x80 + byte(max(ip.Antenna-1, 0)&3), scanSteps(ip.ScanTime)}
}

// scanSteps converts d to the reader's 100 ms steps, clamped to 1..255.
func scanSteps(d time.Duration) byte {
	s := int64(d / (100 * time.Millisecond))
	return byte(min(max(s, 1), 255))
}

// Band is a frequency band code of the reader information answer.
type Band byte

const (
	BandChina2  Band = 1
	BandUS      Band = 2
	BandKorea   Band = 3
	BandEU      Band = 4
	BandUkraine Band = 6
	BandPeru    Band = 7
	BandChina1  Band = 8
	BandEU3     Band = 9
	BandTaiwan  Band = 10
	BandUS3     Band = 12
)

// Region is a band and its channel range (channel numbers are band
// specific: EU channel N is 865.1 + 0.2·N MHz).
type Region struct {
	Band     Band
	Min, Max byte // channel numbers, 0..63
}

// Data returns the set-region (0x22) command data: MaxFre, MinFre, with
// the band split over their top two bits.
func (r Region) Data() []byte {
	return []byte{byte(r.Band)>>2<<6 | r.Max&0x3F, byte(r.Band)&3<<6 | r.Min&0x3F}
}

// ParseRegion reverses Region.Data for dmaxfre and dminfre.
func ParseRegion(dmaxfre, dminfre byte) Region {
	return Region{
		Band: Band((dmaxfre&0xC0)>>4 | (dminfre&0xC0)>>6),
		Max:  dmaxfre & 0x3F,
		Min:  dminfre & 0x3F,
	}
}

// Info is the reader information answer (0x21).
type Info struct {
	Firmware  [2]byte
	Type      byte
	Protocols byte // bit 0 ISO 18000-6B, bit 1 EPC C1G2 (6C)
	Region    Region
	Power     int           // dBm
	ScanTime  time.Duration // inventory scan time
}

// ParseInfo decodes the data of a reader information answer.
func ParseInfo(data []byte) (Info, error) {
	if len(data) < 8 {
		return Info{}, fmt.Errorf("chafon reader info: data byte %d: have %d bytes, want at least 8", len(data), len(data))
	}
	return Info{
		Firmware:  [2]byte{data[0], data[1]},
		Type:      data[2],
		Protocols: data[3],
		Region:    ParseRegion(data[4], data[5]),
		Power:     int(data[6]),
		ScanTime:  time.Duration(data[7]) * 100 * time.Millisecond,
	}, nil
}

// Data encodes i as a reader information answer's data (8 bytes plus the
// four trailing bytes the 288 family sends).
func (i Info) Data() []byte {
	r := i.Region.Data()
	st := byte(min(max(i.ScanTime/(100*time.Millisecond), 0), 255))
	return []byte{i.Firmware[0], i.Firmware[1], i.Type, i.Protocols, r[0], r[1], byte(i.Power), st, 0x01, 0x00, 0x00, 0x00}
}

// ReadPCData returns the Read Data (0x02) command data that reads the PC
// word of the tag with epc: ENum (the EPC's length in words), EPC, Mem
// 0x01 (EPC bank), WordPtr 1, Num 1, access password 0, MaskAdr 0, MaskLen
// 0. The answer's data is the word read. Layout as in the UHFReader18
// family's user manual and github.com/PietaTony/uhf iso18000-6C.go
// ReadData (commit 00708d206c0a9d3ec76a26c2a79858ce0a06fdd2), which speaks
// the same command set.
func ReadPCData(epc []byte) []byte {
	d := make([]byte, 0, len(epc)+10)
	d = append(d, byte(len(epc)/2))
	d = append(d, epc...)
	return append(d, 0x01, 0x01, 0x01, 0, 0, 0, 0, 0, 0)
}
