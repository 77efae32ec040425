// Package profile loads the per-model device profiles in firmware-configs/:
// how to recognise a scanner or RFID reader, how to decode what it sends,
// what to send it on connect, and which settings a person must scan to set
// it up (rendered as a printable setup sheet).
//
// Profiles are strict: an unknown key, a malformed VID, or a combination the
// hardware cannot do (SNAPI on a non-Zebra scanner, a keyboard layout on a
// HID POS scanner, a baud rate no UART uses) is an error naming the file,
// the line and the field, so a typo never silently becomes a default.
//
// A scanner profile:
//
//	name: honeywell-voyager-1250g-keyboard   # must equal the file name
//	vendor: Honeywell
//	model: Voyager 1250g
//	kind: scanner
//	match:
//	  - vid: "0x0c2e"          # 4 hex digits; pid, usage_page, interface optional
//	    usage_page: "0x0001"
//	mode: keyboard             # keyboard | hidpos | snapi
//	decode:
//	  layout: us               # us | de | fr (keyboard mode only)
//	  terminator: enter        # enter | tab (keyboard); none (hidpos, snapi)
//	  strip_codabar_startstop: true
//	  strip_aim: false
//	setup_format: honeywell-menu
//	setup:
//	  - label: USB keyboard (PC)
//	    code: PAP124
//	    explain: Makes the scanner type like a keyboard.
//
// An RFID reader profile:
//
//	kind: rfid
//	serial: {port: /dev/ttyUSB*, baud: 57600, data_bits: 8, parity: none, stop_bits: 1}
//	protocol: chafon           # chafon | thingmagic | feig | ascii
//	address: 0
//	power_dbm: 26
//	region: na
//	antennas: [1]
//	block_order: msb-first     # feig only: msb-first (default) | lsb-first
//	blocks: 28                 # feig only: tag memory blocks to read
//	init:
//	  - hex: "04 00 21 D9 6A"  # frames are checked against the protocol's CRC
//	tag_data: [iso28560-4, sgtin-96]
package profile

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Kind is what sort of device a profile describes.
type Kind string

const (
	KindScanner Kind = "scanner"
	KindRFID    Kind = "rfid"
)

// Mode is how a USB scanner presents itself.
type Mode string

const (
	ModeKeyboard Mode = "keyboard" // HID boot keyboard ("keyboard wedge")
	ModeHIDPOS   Mode = "hidpos"   // HID POS, usage page 0x8C
	ModeSNAPI    Mode = "snapi"    // Zebra Symbol Native API over HID
)

// Layout is the keyboard country a keyboard-mode scanner is set to; the
// decoder must use the same table: the scanner turns characters into key
// usages by its own configured country, and reading raw HID reports
// bypasses the host's keymap.
type Layout string

const (
	LayoutUS Layout = "us"
	LayoutDE Layout = "de"
	LayoutFR Layout = "fr"
)

// Terminator is the suffix the scanner sends after each code.
type Terminator string

const (
	TermEnter Terminator = "enter"
	TermTab   Terminator = "tab"
	TermNone  Terminator = "none"
)

// SetupFormat says how a setup code is framed in its Code 128 symbol.
type SetupFormat string

const (
	// SetupPlain encodes the code as written.
	SetupPlain SetupFormat = "plain"
	// SetupHoneywellMenu encodes FNC3 (the Code 128 "reader programming"
	// function), the menu command, and "." (store in non-volatile memory).
	SetupHoneywellMenu SetupFormat = "honeywell-menu"
)

// Protocol is the wire protocol family of an RFID reader.
type Protocol string

const (
	ProtoChafon     Protocol = "chafon"
	ProtoThingMagic Protocol = "thingmagic"
	ProtoFEIG       Protocol = "feig"
	ProtoASCII      Protocol = "ascii"
)

// ASCIIFormat is how an ASCII reader frames a tag.
type ASCIIFormat string

const (
	ASCIIHexLine ASCIIFormat = "hex-line" // hex UID/EPC, one per line
	ASCIIRDM6300 ASCIIFormat = "rdm6300"  // STX, 10 hex data, 2 hex XOR, ETX
)

// TagModel is a tag data model a reader's tags are expected to carry.
type TagModel string

const (
	TagISO28560_3 TagModel = "iso28560-3"
	TagISO28560_2 TagModel = "iso28560-2"
	TagISO28560_4 TagModel = "iso28560-4"
	TagSGTIN96    TagModel = "sgtin-96"
	TagGIAI96     TagModel = "giai-96"
	Tag3MRFID501  TagModel = "3m-rfid501"
	TagUID        TagModel = "uid"
)

// BlockOrder is how an HF reader sends the bytes of each tag memory block.
type BlockOrder string

const (
	// BlockMSBFirst: last byte of each block first, as FEIG readers do in
	// ISO-host mode (ID CPR manual H20800-16e-ID-B §3.1, Annex F); the
	// driver reverses every block. The default for protocol feig.
	BlockMSBFirst BlockOrder = "msb-first"
	// BlockLSBFirst: blocks in tag memory order, passed on as read.
	BlockLSBFirst BlockOrder = "lsb-first"
)

// Parity of a serial line.
type Parity string

const (
	ParityNone Parity = "none"
	ParityEven Parity = "even"
	ParityOdd  Parity = "odd"
)

// Profile is one validated device profile.
type Profile struct {
	Name        string // unique, equals the file name without .yaml
	File        string // the file it was loaded from, for messages
	Vendor      string
	Model       string
	Description string
	Kind        Kind
	Notes       []string  // shown on the setup sheet
	Init        []Command // sent in order on connect

	// USB match rules: for scanners the HID device, for RFID readers the
	// USB-serial bridge (used for udev rules). Empty: the profile is only
	// used when a device names it in the config.
	Match []Match

	// Scanner fields.
	Mode        Mode
	Decode      Decode
	SetupFormat SetupFormat
	Setup       []Setting

	// RFID reader fields.
	Serial      Serial
	Protocol    Protocol
	ASCIIFormat ASCIIFormat // protocol ascii only
	Address     *int        // bus address; nil when the protocol has none
	PowerDBm    *float64    // transmit power; nil to keep the reader's
	Region      string      // UHF regulatory region
	Antennas    []int       // antenna ports to use, 1-based
	BlockOrder  BlockOrder  // protocol feig: how the reader sends each block; "" is msb-first
	Blocks      int         // protocol feig: tag memory blocks to read; 0 keeps the driver's (28, an ICODE SLIX)
	ReadPC      bool        // protocol chafon: read each new tag's PC word (one command per tag) so ISO/TS 28560-4 tags decode
	TagData     []TagModel  // data models to try, in order
}

// Match is one rule for recognising a USB device. A zero field matches
// anything (0x0000 is not a valid VID, PID or usage page).
type Match struct {
	VID       uint16
	PID       uint16
	UsagePage uint16
	Interface int // USB interface number, -1 for any
}

// Decode holds a scanner's decode options.
type Decode struct {
	Layout                Layout // keyboard mode only; "" otherwise
	Terminator            Terminator
	StripCodabarStartStop bool
	StripAIM              bool
}

// Setting is one barcode a person scans to set the device up.
type Setting struct {
	Label   string // what it does, e.g. "USB keyboard (PC)"
	Code    string // the command it carries, e.g. "PAP124"
	Explain string // why, in a sentence
}

// Serial holds serial line settings.
type Serial struct {
	Port     string // a path or glob, e.g. /dev/ttyUSB*
	Baud     int
	DataBits int
	Parity   Parity
	StopBits int
}

// CommandKind says how an init command is sent.
type CommandKind string

const (
	CmdHex     CommandKind = "hex"     // bytes written as they are
	CmdMenu    CommandKind = "menu"    // Honeywell menu command: SYN M CR + text
	CmdFeature CommandKind = "feature" // HID feature report; first byte is the report ID
)

// Command is one init command.
type Command struct {
	Kind CommandKind
	Text string // as written in the profile
	Data []byte // the bytes to send
	Note string
}

// Symbol returns the exact data encoded in the setting's Code 128 barcode.
// FNC3 is carried as code128.FNC3.
func (p *Profile) Symbol(s Setting) string {
	if p.SetupFormat == SetupHoneywellMenu {
		return string(fnc3) + s.Code + "."
	}
	return s.Code
}

// String is a one-line summary such as "Honeywell Voyager 1250g (keyboard)".
func (p *Profile) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", p.Vendor, p.Model)
	switch {
	case p.Kind == KindScanner && p.Mode != "":
		fmt.Fprintf(&b, " (%s)", p.Mode)
	case p.Kind == KindRFID:
		fmt.Fprintf(&b, " (%s)", p.Protocol)
	}
	return b.String()
}

func (c Command) String() string {
	return fmt.Sprintf("%s %s", c.Kind, strings.ToUpper(hex.EncodeToString(c.Data)))
}
