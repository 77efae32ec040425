// Package hidscanner reads USB-HID barcode scanners directly (not as
// keystrokes through whatever window has focus) and turns their input
// reports into drivers.Reads.
//
// Three report formats are decoded, each by a pure decoder that does not
// allocate per report:
//
//   - keyboard: boot keyboard reports (8 bytes, or 9 with a report id),
//     the key-up rule for repeated characters, Shift/AltGr/Ctrl, keypad
//     digits, Enter/Tab terminators and the US, DE and FR layouts.
//   - hidpos: HID POS (usage page 0x8C) scanned-data reports: length byte,
//     AIM symbology id, 56-byte chunks joined by a continuation flag, in the
//     Honeywell or the Zebra/Datalogic byte layout.
//   - snapi: Zebra SNAPI scan reports (0x22, 0x26), with the ACK the
//     scanner waits for.
//
// The device is anything shaped like a HID device (Device); only hid.go
// touches github.com/karalabe/hid, so everything else is tested with
// byte-exact transcripts and no hardware. Facts: the boot keyboard report
// and usages (USB HID Usage Tables; github.com/hathach/tinyusb
// src/class/hid/hid.h), Honeywell HID POS captures
// (github.com/HenkVanAsselt/python_hon_usbhid README.md,
// github.com/NielsLeenheer/WebHidBarcodeScanner src/main.js) and Zebra SNAPI
// (github.com/Elemecca/go-zebra-scanner snapi/snapi.go).
package hidscanner

import (
	"fmt"
	"strings"
	"time"
)

// Device is an open HID device: Read returns one input report per call
// (with the report id first when the device uses numbered reports), Write
// sends one output report (report id first, 0 for none). Close must make a
// blocked Read return. karalabe/hid's hid.Device satisfies it.
type Device interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	Close() error
}

// DeviceInfo describes one HID interface found by enumeration.
type DeviceInfo struct {
	Path         string // platform path, stable while the device stays plugged in the same port
	VID, PID     uint16
	UsagePage    uint16 // top-level collection: 0x01 (with Usage 0x06) keyboard, 0x8C bar code scanner
	Usage        uint16
	Interface    int // USB interface number
	Serial       string
	Manufacturer string
	Product      string
}

func (i DeviceInfo) String() string {
	return fmt.Sprintf("%04x:%04x usage %04x:%04x if %d %q %q serial %q at %s",
		i.VID, i.PID, i.UsagePage, i.Usage, i.Interface, i.Manufacturer, i.Product, i.Serial, i.Path)
}

// Enumerator lists and opens HID devices. HIDBus (hid.go) is the real one;
// tests use fakes to plug and unplug devices.
type Enumerator interface {
	// Enumerate lists devices; 0 for vid or pid matches any.
	Enumerate(vid, pid uint16) ([]DeviceInfo, error)
	// Open opens one listed device.
	Open(info DeviceInfo) (Device, error)
}

// Match selects a device among those enumerated. Zero fields match
// anything. Give Serial (or Path) when several scanners of one model are
// plugged in, so each keeps its name across re-plugging.
type Match struct {
	VID, PID  uint16
	UsagePage uint16 // 0x07 (keyboard page, as profiles often say) means a keyboard collection: 0x01/0x06
	Usage     uint16
	Interface int // USB interface number; counts only with MatchInterface
	// MatchInterface makes Interface count; USB interface 0 is valid, so a
	// zero Interface alone cannot mean "any".
	MatchInterface bool
	Serial         string
	Path           string
}

// String names what m asks for, leaving out what it leaves open (a zero
// PID is any product, not product 0000).
func (m Match) String() string {
	var parts []string
	if m.VID != 0 {
		parts = append(parts, fmt.Sprintf("vendor %04x", m.VID))
	}
	if m.PID != 0 {
		parts = append(parts, fmt.Sprintf("product %04x", m.PID))
	}
	switch {
	case m.UsagePage == 0x07:
		parts = append(parts, "a keyboard collection")
	case m.UsagePage != 0:
		parts = append(parts, fmt.Sprintf("usage page %04x", m.UsagePage))
	}
	if m.Usage != 0 && m.UsagePage != 0x07 {
		parts = append(parts, fmt.Sprintf("usage %04x", m.Usage))
	}
	if m.MatchInterface {
		parts = append(parts, fmt.Sprintf("interface %d", m.Interface))
	}
	if m.Serial != "" {
		parts = append(parts, fmt.Sprintf("serial %q", m.Serial))
	}
	if m.Path != "" {
		parts = append(parts, fmt.Sprintf("path %s", m.Path))
	}
	if len(parts) == 0 {
		return "any vendor"
	}
	return strings.Join(parts, ", ")
}

// Matches reports whether info satisfies m.
func (m Match) Matches(info DeviceInfo) bool {
	if m.VID != 0 && info.VID != m.VID || m.PID != 0 && info.PID != m.PID {
		return false
	}
	switch {
	case m.UsagePage == 0x07:
		if info.UsagePage != 0x01 || info.Usage != 0x06 {
			return false
		}
	case m.UsagePage != 0 && info.UsagePage != m.UsagePage:
		return false
	}
	if m.Usage != 0 && m.UsagePage != 0x07 && info.Usage != m.Usage {
		return false
	}
	if m.MatchInterface && info.Interface != m.Interface {
		return false
	}
	if m.Serial != "" && info.Serial != m.Serial || m.Path != "" && info.Path != m.Path {
		return false
	}
	return true
}

// Modes, layouts, terminators and vendors a profile can name.
const (
	ModeKeyboard = "keyboard"
	ModeHIDPOS   = "hidpos"
	ModeSNAPI    = "snapi"

	TermEnter = "enter" // Enter or keypad Enter ends a code; Tab is data
	TermTab   = "tab"   // Tab ends a code; Enter is data
	TermAny   = "any"   // either ends a code
	// TermNone: no suffix. HID POS and SNAPI reports frame each code
	// themselves, so a scanner in those modes sends none; a keyboard-mode
	// scanner cannot be read without one.
	TermNone = "none"

	VendorHoneywell = "honeywell" // AIM id at raw offset 2, data at 5
	VendorZebra     = "zebra"     // one extra byte: AIM at 3, data at 6
	VendorDatalogic = "datalogic" // same layout as zebra
	VendorAuto      = "auto"      // find the AIM id's ']' per report
)

// Opts says how to decode a scanner. Profile files set these fields by
// their lower-case names (mode, layout, terminator, vendor, report_id,
// report_size, max_code); zero values take the defaults below.
type Opts struct {
	// Mode is the scanner's USB interface mode: "keyboard" (default),
	// "hidpos" or "snapi".
	Mode string
	// Layout is the keyboard country the scanner is configured for:
	// "us" (default), "de" or "fr". keyboard mode only.
	Layout string
	// Terminator is the suffix the scanner sends after each code:
	// "enter" (default), "tab" or "any" in keyboard mode; "none" (or any of
	// those, ignored) in hidpos and snapi mode, whose reports frame each
	// code. A keyboard-mode scanner without a suffix cannot be read.
	Terminator string
	// Vendor selects the HID POS byte layout: "honeywell" (default),
	// "zebra", "datalogic" or "auto". hidpos mode only.
	Vendor string
	// ReportID is the input report id carrying scan data. 0 takes the mode
	// default: keyboard reads 8-byte reports and 9-byte reports of any id;
	// hidpos reads id 2. Set it when a composite keyboard scanner sends
	// other 9-byte reports (consumer keys) on the same interface.
	ReportID int
	// ReportSize is the read buffer size in bytes (default 64, the USB
	// full-speed maximum).
	ReportSize int
	// MaxCode is the longest code accepted, in bytes (default 4096); a
	// longer one is dropped with an error, so memory stays bounded.
	MaxCode int

	// OnSkip, when set, is called from the read goroutine with each report
	// or code that was dropped (garbage, wrong layout, overflow). Reading
	// goes on. Not settable from a profile.
	OnSkip func(error)
	// Now stamps Reads; nil means time.Now. For tests.
	Now func() time.Time
}

// DefaultOpts reads a US keyboard-wedge scanner that ends codes with Enter.
var DefaultOpts = Opts{
	Mode:       ModeKeyboard,
	Layout:     "us",
	Terminator: TermEnter,
	Vendor:     VendorHoneywell,
	ReportSize: 64,
	MaxCode:    4096,
}

// withDefaults fills zero fields from DefaultOpts and validates the rest.
func (o Opts) withDefaults() (Opts, error) {
	if o.Mode == "" {
		o.Mode = DefaultOpts.Mode
	}
	if o.Layout == "" {
		o.Layout = DefaultOpts.Layout
	}
	if o.Terminator == "" {
		o.Terminator = DefaultOpts.Terminator
	}
	if o.Vendor == "" {
		o.Vendor = DefaultOpts.Vendor
	}
	if o.ReportSize == 0 {
		o.ReportSize = DefaultOpts.ReportSize
	}
	if o.MaxCode == 0 {
		o.MaxCode = DefaultOpts.MaxCode
	}
	o.Mode = strings.ToLower(o.Mode)
	o.Layout = strings.ToLower(o.Layout)
	o.Terminator = strings.ToLower(o.Terminator)
	o.Vendor = strings.ToLower(o.Vendor)
	switch o.Mode {
	case ModeKeyboard, ModeHIDPOS, ModeSNAPI:
	default:
		return o, fmt.Errorf("mode %q: want %q, %q or %q", o.Mode, ModeKeyboard, ModeHIDPOS, ModeSNAPI)
	}
	if layouts[o.Layout] == nil {
		return o, fmt.Errorf("layout %q: want one of %s", o.Layout, strings.Join(Layouts(), ", "))
	}
	switch o.Terminator {
	case TermEnter, TermTab, TermAny:
	case TermNone:
		if o.Mode == ModeKeyboard {
			return o, fmt.Errorf("terminator %q: a keyboard-mode scanner must end each code with Enter or Tab (scan its \"add Enter suffix\" setup code); want %q, %q or %q",
				o.Terminator, TermEnter, TermTab, TermAny)
		}
	default:
		return o, fmt.Errorf("terminator %q: want %q, %q, %q or %q (none: hidpos and snapi only)", o.Terminator, TermEnter, TermTab, TermAny, TermNone)
	}
	switch o.Vendor {
	case VendorHoneywell, VendorZebra, VendorDatalogic, VendorAuto:
	default:
		return o, fmt.Errorf("vendor %q: want %q, %q, %q or %q", o.Vendor, VendorHoneywell, VendorZebra, VendorDatalogic, VendorAuto)
	}
	if o.ReportID < 0 || o.ReportID > 255 {
		return o, fmt.Errorf("report id %d: want 0..255", o.ReportID)
	}
	if o.ReportSize < 8 || o.ReportSize > 4096 {
		return o, fmt.Errorf("report size %d: want 8..4096", o.ReportSize)
	}
	if o.MaxCode < 1 || o.MaxCode > 1<<20 {
		return o, fmt.Errorf("max code %d: want 1..1048576", o.MaxCode)
	}
	return o, nil
}

// Decoded is what a decoder made of one report. The slices alias the
// decoder's buffers and are valid until its next Decode call.
type Decoded struct {
	Done      bool   // a code is complete
	Raw       []byte // the code's bytes as sent, with terminator/suffix
	Code      []byte // a prefix of Raw: without the terminator, trailing CR/LF or add-on
	Symbology string // AIM id ("]E0") for hidpos, a name for snapi, "" for keyboard
	Reply     []byte // an output report to write to the device now (SNAPI ACK), or nil
}

// Decoder turns input reports into codes. Decoders are not safe for
// concurrent use; each scanner has its own.
type Decoder interface {
	// Decode consumes one input report. A report it cannot use yields an
	// error (a *DecodeError); the decoder stays usable.
	Decode(report []byte) (Decoded, error)
	// Reset drops any partly received code.
	Reset()
}

// NewDecoder returns the decoder for o.Mode.
func NewDecoder(o Opts) (Decoder, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	switch o.Mode {
	case ModeHIDPOS:
		return newPOSDecoder(o), nil
	case ModeSNAPI:
		return newSNAPIDecoder(o), nil
	default:
		return newKeyboardDecoder(o), nil
	}
}

// DecodeError says what was wrong with a report, where, and what to do.
type DecodeError struct {
	Mode   string // decoder mode
	Offset int    // byte offset in the report, -1 when it is about a whole code
	What   string
	Fix    string // what a person can do about it; may be ""
}

func (e *DecodeError) Error() string {
	s := e.Mode + " report"
	if e.Offset >= 0 {
		s += fmt.Sprintf(" byte %d", e.Offset)
	}
	s += ": " + e.What
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}
