package profile

import (
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tally-inventory/tally/drivers/internal/crc16"
)

// USB vendor IDs the validator knows: SNAPI is Zebra's, menu commands are
// Honeywell's (the IDs github.com/NielsLeenheer/WebHidBarcodeScanner
// src/main.js accepts for each).
const (
	VIDHoneywell uint16 = 0x0c2e
	VIDZebra     uint16 = 0x05e0
)

// Usage pages a scanner's mode implies (USB HID Usage Tables: Generic
// Desktop 0x01 holds the keyboard; HID Point of Sale Usage Tables: page
// 0x8C is the bar code scanner).
const (
	UsagePageGenericDesktop uint16 = 0x0001 // boot keyboard
	UsagePageBarcode        uint16 = 0x008c // HID POS bar code scanner
)

// StandardBauds are the rates a profile may name; anything else is a typo.
var StandardBauds = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600}

// Regions are the UHF regulatory regions a profile may name.
var Regions = []string{"na", "eu", "cn", "kr", "in", "jp", "au", "nz"}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	id16RE    = regexp.MustCompile(`^0[xX][0-9a-fA-F]{4}$`)
	pageRE    = regexp.MustCompile(`^0[xX][0-9a-fA-F]{1,4}$`)
	menuRE    = regexp.MustCompile(`^[A-Z0-9]{3,40}$`)
	menuCmdRE = regexp.MustCompile(`^[\x21-\x7e]+[.!]$`)
)

var rfidOnly = []string{"serial", "protocol", "ascii_format", "address", "power_dbm", "region", "antennas", "tag_data"}
var scannerOnly = []string{"mode", "decode", "setup_format", "setup"}

func (l *loader) validate(r *rawProfile) *Profile {
	p := &Profile{
		Name: r.Name, File: l.file, Vendor: r.Vendor, Model: r.Model,
		Description: r.Description, Kind: Kind(r.Kind), Notes: r.Notes,
	}
	switch {
	case r.Name == "":
		l.errf("name", "missing; give the profile a name equal to its file name, e.g. %q", stem(l.file))
	case !nameRE.MatchString(r.Name):
		l.errf("name", "%q: use lower-case letters, digits and '-' only", r.Name)
	case isYAML(l.file) && stem(l.file) != r.Name:
		l.errf("name", "%q does not match the file name %q; rename one of them", r.Name, path.Base(l.file))
	}
	if strings.TrimSpace(r.Vendor) == "" {
		l.errf("vendor", "missing")
	}
	if strings.TrimSpace(r.Model) == "" {
		l.errf("model", "missing")
	}
	for i, m := range r.Match {
		p.Match = append(p.Match, l.match(fmt.Sprintf("match[%d]", i), m))
	}
	switch p.Kind {
	case KindScanner:
		for _, f := range rfidOnly {
			if l.has(f) {
				l.errf(f, "is for RFID reader profiles; this profile is kind scanner")
			}
		}
		l.scanner(r, p)
	case KindRFID:
		for _, f := range scannerOnly {
			if l.has(f) {
				l.errf(f, "is for scanner profiles; this profile is kind rfid")
			}
		}
		l.rfid(r, p)
	case "":
		l.errf("kind", "missing; want scanner or rfid")
	default:
		l.errf("kind", "%q is not a kind; want scanner or rfid", r.Kind)
	}
	return p
}

func stem(file string) string {
	b := path.Base(strings.ReplaceAll(file, "\\", "/"))
	return strings.TrimSuffix(b, path.Ext(b))
}

func (l *loader) hex16(f, s string, re *regexp.Regexp, what, example string) uint16 {
	if s == "" {
		return 0
	}
	if !re.MatchString(s) {
		l.errf(f, "bad %s %q: want hex such as %q", what, s, example)
		return 0
	}
	v, _ := strconv.ParseUint(s[2:], 16, 16)
	if v == 0 {
		l.errf(f, "bad %s %q: 0x0000 is not a valid %s", what, s, what)
	}
	return uint16(v)
}

func (l *loader) match(at string, m rawMatch) Match {
	out := Match{
		VID:       l.hex16(at+".vid", m.VID, id16RE, "VID", "0x0c2e"),
		PID:       l.hex16(at+".pid", m.PID, id16RE, "PID", "0x0b81"),
		UsagePage: l.hex16(at+".usage_page", m.UsagePage, pageRE, "usage page", "0x8c"),
		Interface: -1,
	}
	if m.Interface != nil {
		if *m.Interface < 0 || *m.Interface > 255 {
			l.errf(at+".interface", "%d is not a USB interface number (0-255)", *m.Interface)
		}
		out.Interface = *m.Interface
	}
	if m.PID != "" && m.VID == "" {
		l.errf(at+".pid", "a PID means nothing without its VID; add vid")
	}
	if m.VID == "" && m.UsagePage == "" {
		l.errf(at, "matches every USB device; give at least vid or usage_page")
	}
	return out
}

func (l *loader) scanner(r *rawProfile, p *Profile) {
	p.Mode = Mode(r.Mode)
	switch p.Mode {
	case ModeKeyboard, ModeHIDPOS, ModeSNAPI:
	case "":
		l.errf("mode", "missing; want keyboard, hidpos or snapi")
	default:
		l.errf("mode", "%q is not a mode; want keyboard, hidpos or snapi", r.Mode)
	}
	for i, m := range p.Match {
		at := fmt.Sprintf("match[%d]", i)
		switch p.Mode {
		case ModeSNAPI:
			if m.VID != VIDZebra {
				l.errf(at+".vid", "mode snapi is Zebra's protocol; it needs vid \"0x05e0\", not %s", fmtID(m.VID))
			}
		case ModeKeyboard:
			if m.UsagePage != 0 && m.UsagePage != UsagePageGenericDesktop {
				l.errf(at+".usage_page", "a keyboard-mode scanner is on usage page 0x0001, not %s", fmtID(m.UsagePage))
			}
		case ModeHIDPOS:
			if m.UsagePage != 0 && m.UsagePage != UsagePageBarcode {
				l.errf(at+".usage_page", "a HID POS scanner is on usage page 0x008c, not %s", fmtID(m.UsagePage))
			}
		}
	}
	if p.Mode == ModeSNAPI && len(p.Match) == 0 {
		l.errf("match", "mode snapi needs a match rule with vid \"0x05e0\"")
	}

	d := rawDecode{}
	if r.Decode != nil {
		d = *r.Decode
	}
	p.Decode = Decode{StripCodabarStartStop: d.StripCodabarStartStop, StripAIM: d.StripAIM}
	switch Layout(d.Layout) {
	case LayoutUS, LayoutDE, LayoutFR:
		if p.Mode != ModeKeyboard && p.Mode != "" {
			l.errf("decode.layout", "applies to keyboard mode only: a %s scanner sends characters, not key codes; remove it", p.Mode)
		}
		p.Decode.Layout = Layout(d.Layout)
	case "":
		if p.Mode == ModeKeyboard {
			p.Decode.Layout = LayoutUS
		}
	default:
		l.errf("decode.layout", "%q is not a layout; want us, de or fr", d.Layout)
	}
	switch Terminator(d.Terminator) {
	case TermEnter, TermTab:
		if p.Mode == ModeHIDPOS || p.Mode == ModeSNAPI {
			l.errf("decode.terminator", "%q applies to keyboard mode only: %s reports frame each code; write none or remove it", d.Terminator, p.Mode)
		}
		p.Decode.Terminator = Terminator(d.Terminator)
	case TermNone:
		if p.Mode == ModeKeyboard {
			l.errf("decode.terminator", "none: a keyboard-mode scanner must end each code with Enter or Tab, or tally cannot tell where a code ends; want enter or tab (and the scanner's suffix setup code)")
		}
		p.Decode.Terminator = TermNone
	case "":
		p.Decode.Terminator = TermNone
		if p.Mode == ModeKeyboard {
			p.Decode.Terminator = TermEnter
		}
	default:
		l.errf("decode.terminator", "%q is not a terminator; want enter, tab or none", d.Terminator)
	}

	allHoneywell := len(p.Match) > 0
	for _, m := range p.Match {
		allHoneywell = allHoneywell && m.VID == VIDHoneywell
	}
	for i, c := range r.Init {
		at := fmt.Sprintf("init[%d]", i)
		cmd, ok := l.command(at, c)
		if !ok {
			continue
		}
		switch {
		case p.Mode == ModeKeyboard:
			l.errf(at, "a keyboard-mode scanner has no command channel; remove init or use mode hidpos")
		case cmd.Kind == CmdMenu && !allHoneywell:
			l.errf(at+".menu", "menu commands are Honeywell's; every match rule needs vid \"0x0c2e\"")
		}
		p.Init = append(p.Init, cmd)
	}

	p.SetupFormat = SetupFormat(r.SetupFormat)
	switch p.SetupFormat {
	case "":
		p.SetupFormat = SetupPlain
	case SetupPlain:
	case SetupHoneywellMenu:
		if !allHoneywell {
			l.errf("setup_format", "honeywell-menu barcodes program Honeywell scanners only; every match rule needs vid \"0x0c2e\"")
		}
	default:
		l.errf("setup_format", "%q is not a setup format; want plain or honeywell-menu", r.SetupFormat)
	}
	for i, s := range r.Setup {
		at := fmt.Sprintf("setup[%d]", i)
		if strings.TrimSpace(s.Label) == "" {
			l.errf(at+".label", "missing; say what scanning it does")
		}
		switch {
		case s.Code == "":
			l.errf(at+".code", "missing; the data of the barcode to scan")
		case p.SetupFormat == SetupHoneywellMenu && !menuRE.MatchString(s.Code):
			l.errf(at+".code", "%q is not a Honeywell menu command: want upper-case letters and digits such as PAP124, without the trailing '.'", s.Code)
		case len(s.Code) > 60:
			l.errf(at+".code", "%d characters is too long for a scannable Code 128 symbol (max 60)", len(s.Code))
		default:
			for j := 0; j < len(s.Code); j++ {
				if s.Code[j] < 0x20 || s.Code[j] > 0x7e {
					l.errf(at+".code", "byte %d (0x%02x) is not printable ASCII", j, s.Code[j])
					break
				}
			}
		}
		p.Setup = append(p.Setup, Setting{Label: s.Label, Code: s.Code, Explain: s.Explain})
	}
}

func fmtID(v uint16) string { return fmt.Sprintf("0x%04x", v) }

// command parses one init command; exactly one of hex, menu, feature.
func (l *loader) command(at string, c rawCommand) (Command, bool) {
	n := 0
	for _, s := range []string{c.Hex, c.Menu, c.Feature} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		l.errf(at, "give exactly one of hex, menu or feature")
		return Command{}, false
	}
	switch {
	case c.Hex != "":
		b, ok := l.hexBytes(at+".hex", c.Hex)
		return Command{Kind: CmdHex, Text: c.Hex, Data: b, Note: c.Note}, ok
	case c.Feature != "":
		b, ok := l.hexBytes(at+".feature", c.Feature)
		if ok && len(b) < 2 {
			l.errf(at+".feature", "want a report ID and at least one data byte")
			ok = false
		}
		return Command{Kind: CmdFeature, Text: c.Feature, Data: b, Note: c.Note}, ok
	default:
		if !menuCmdRE.MatchString(c.Menu) {
			l.errf(at+".menu", "%q: a menu command is printable ASCII ending in '.' (store) or '!' (volatile), e.g. \"REVINF.\"", c.Menu)
			return Command{}, false
		}
		data := append([]byte{0x16, 'M', 0x0d}, c.Menu...)
		return Command{Kind: CmdMenu, Text: c.Menu, Data: data, Note: c.Note}, true
	}
}

func (l *loader) hexBytes(at, s string) ([]byte, bool) {
	compact := strings.NewReplacer(" ", "", "\t", "").Replace(s)
	for i := 0; i < len(compact); i++ {
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(compact[i])) {
			l.errf(at, "%q: character %q at offset %d is not a hex digit", s, compact[i], i)
			return nil, false
		}
	}
	if len(compact)%2 != 0 || len(compact) == 0 {
		l.errf(at, "%q: want whole bytes, two hex digits each, e.g. \"04 FF 21 19 95\"", s)
		return nil, false
	}
	b, _ := hex.DecodeString(compact)
	return b, true
}

func (l *loader) rfid(r *rawProfile, p *Profile) {
	for i, m := range p.Match {
		at := fmt.Sprintf("match[%d]", i)
		if m.UsagePage != 0 {
			l.errf(at+".usage_page", "an RFID reader's match rule names its USB-serial bridge, which is not a HID device; remove usage_page")
		}
		if m.VID != 0 && m.PID == 0 {
			l.errf(at+".pid", "missing; a serial bridge is matched by vid and pid")
		}
	}
	p.Protocol = Protocol(r.Protocol)
	switch {
	case p.Protocol == "":
		l.errf("protocol", "missing; want %s", protocolWords())
	case !knownProtocol(p.Protocol):
		l.errf("protocol", "%q is not a protocol; want %s", r.Protocol, protocolWords())
	}
	uhf := p.Protocol == ProtoChafon || p.Protocol == ProtoThingMagic

	if r.Serial == nil {
		l.errf("serial", "missing; give port and baud")
	} else {
		s := r.Serial
		p.Serial = Serial{Port: s.Port, Baud: s.Baud, DataBits: 8, Parity: ParityNone, StopBits: 1}
		if s.Port == "" || strings.ContainsAny(s.Port, " \t") {
			l.errf("serial.port", "want a device path or glob such as /dev/ttyUSB*")
		}
		if !slices.Contains(StandardBauds, s.Baud) {
			l.errf("serial.baud", "%d is not a standard rate; want one of %v", s.Baud, StandardBauds)
		}
		if s.DataBits != nil {
			if *s.DataBits < 5 || *s.DataBits > 8 {
				l.errf("serial.data_bits", "%d: want 5 to 8", *s.DataBits)
			}
			p.Serial.DataBits = *s.DataBits
		}
		switch Parity(s.Parity) {
		case ParityNone, ParityEven, ParityOdd:
			p.Serial.Parity = Parity(s.Parity)
		case "":
		default:
			l.errf("serial.parity", "%q: want none, even or odd", s.Parity)
		}
		if s.StopBits != nil {
			if *s.StopBits != 1 && *s.StopBits != 2 {
				l.errf("serial.stop_bits", "%d: want 1 or 2", *s.StopBits)
			}
			p.Serial.StopBits = *s.StopBits
		}
	}

	p.ASCIIFormat = ASCIIFormat(r.ASCIIFormat)
	switch {
	case p.Protocol == ProtoASCII && p.ASCIIFormat == "":
		l.errf("protocol", "an ascii reader needs ascii_format: hex-line or rdm6300")
	case p.Protocol == ProtoASCII && p.ASCIIFormat != ASCIIHexLine && p.ASCIIFormat != ASCIIRDM6300:
		l.errf("ascii_format", "%q: want hex-line or rdm6300", r.ASCIIFormat)
	case p.Protocol != ProtoASCII && p.ASCIIFormat != "":
		l.errf("ascii_format", "applies to protocol ascii only")
	}

	if r.Address != nil {
		switch p.Protocol {
		case ProtoChafon, ProtoFEIG:
			if *r.Address < 0 || *r.Address > 255 {
				l.errf("address", "%d: a bus address is 0-255 (255 = any reader on the line)", *r.Address)
			}
		default:
			l.errf("address", "protocol %s has no bus address; remove it", p.Protocol)
		}
		a := *r.Address
		p.Address = &a
	}
	if r.PowerDBm != nil {
		v := *r.PowerDBm
		switch {
		case p.Protocol == ProtoChafon && (v < 0 || v > 30):
			l.errf("power_dbm", "%g: a Chafon reader takes 0-30 dBm", v)
		case p.Protocol == ProtoThingMagic && (v < 0 || v > 31.5):
			l.errf("power_dbm", "%g: a ThingMagic module takes 0-31.5 dBm (the M6e Nano 0-27)", v)
		case !uhf && p.Protocol != "":
			l.errf("power_dbm", "is for UHF readers; set an HF or ASCII reader's power in the reader itself")
		}
		p.PowerDBm = &v
	}
	if r.Region != "" {
		switch {
		case !uhf && p.Protocol != "":
			l.errf("region", "is for UHF readers; protocol %s has no regulatory region", p.Protocol)
		case !slices.Contains(Regions, r.Region):
			l.errf("region", "%q: want one of %v", r.Region, Regions)
		}
		p.Region = r.Region
	}
	if len(r.Antennas) > 0 {
		if p.Protocol == ProtoASCII {
			l.errf("antennas", "an ascii reader has no antenna selection; remove it")
		}
		seen := map[int]bool{}
		for i, a := range r.Antennas {
			if a < 1 || a > 8 {
				l.errf(fmt.Sprintf("antennas[%d]", i), "%d: antenna ports are numbered 1-8", a)
			}
			if seen[a] {
				l.errf(fmt.Sprintf("antennas[%d]", i), "antenna %d listed twice", a)
			}
			seen[a] = true
		}
		p.Antennas = r.Antennas
	}

	p.BlockOrder = BlockOrder(r.BlockOrder)
	switch {
	case p.BlockOrder != "" && p.Protocol != ProtoFEIG:
		l.errf("block_order", "applies to protocol feig only")
	case p.BlockOrder != "" && p.BlockOrder != BlockMSBFirst && p.BlockOrder != BlockLSBFirst:
		l.errf("block_order", "%q: want msb-first (FEIG ISO-host, the default) or lsb-first", r.BlockOrder)
	}
	if r.Blocks != nil {
		switch {
		case p.Protocol != ProtoFEIG:
			l.errf("blocks", "applies to protocol feig only")
		case *r.Blocks < 1 || *r.Blocks > 256:
			l.errf("blocks", "%d: a tag has 1-256 blocks (an ICODE SLIX 28, the ISO 28560-3 basic block 8)", *r.Blocks)
		}
		p.Blocks = *r.Blocks
	}

	if r.ReadPC && p.Protocol != ProtoChafon {
		l.errf("read_pc", "applies to protocol chafon only (ThingMagic reports the PC word with each tag)")
	}
	p.ReadPC = r.ReadPC

	if len(r.TagData) == 0 {
		l.errf("tag_data", "missing; list the tag data models to expect, e.g. [iso28560-3]")
	}
	seen := map[string]bool{}
	for i, t := range r.TagData {
		at := fmt.Sprintf("tag_data[%d]", i)
		m := TagModel(t)
		if seen[t] {
			l.errf(at, "%q listed twice", t)
		}
		seen[t] = true
		ok := map[Protocol][]TagModel{
			ProtoChafon:     {TagISO28560_4, TagSGTIN96, TagGIAI96, TagUID},
			ProtoThingMagic: {TagISO28560_4, TagSGTIN96, TagGIAI96, TagUID},
			ProtoFEIG:       {TagISO28560_3, TagISO28560_2, Tag3MRFID501, TagUID},
			ProtoASCII:      {TagUID},
		}
		switch m {
		case TagISO28560_3, TagISO28560_2, TagISO28560_4, TagSGTIN96, TagGIAI96, Tag3MRFID501, TagUID:
			if allowed, known := ok[p.Protocol]; known && !slices.Contains(allowed, m) {
				l.errf(at, "a %s reader cannot deliver %s tag data; it can deliver %v", p.Protocol, m, allowed)
			}
		default:
			l.errf(at, "%q is not a tag data model; want iso28560-3, iso28560-2, iso28560-4, sgtin-96, giai-96, 3m-rfid501 or uid", t)
		}
		p.TagData = append(p.TagData, m)
	}

	for i, c := range r.Init {
		at := fmt.Sprintf("init[%d]", i)
		cmd, ok := l.command(at, c)
		if !ok {
			continue
		}
		if cmd.Kind != CmdHex {
			l.errf(at, "an RFID reader takes hex frames only")
			continue
		}
		if p.Protocol == ProtoASCII {
			l.errf(at, "an ascii reader only sends; it takes no init commands")
			continue
		}
		if msg := checkFrame(p.Protocol, p.Address, cmd.Data); msg != "" {
			l.errf(at+".hex", "%s", msg)
		}
		p.Init = append(p.Init, cmd)
	}
}

// checkFrame checks an init frame's length byte, address and CRC against
// the protocol (the frame layouts in drivers/rfid/*), so a mistyped byte in a profile is
// caught at load rather than as a silent reader.
func checkFrame(proto Protocol, addr *int, b []byte) string {
	n := len(b)
	switch proto {
	case ProtoChafon:
		if n < 5 || int(b[0]) != n-1 {
			return fmt.Sprintf("a Chafon frame starts with its length (bytes after it); byte 0 is 0x%02X but %d bytes follow", b[0], n-1)
		}
		if got, want := uint16(b[n-2])|uint16(b[n-1])<<8, crc16.MCRF4XX(b[:n-2]); got != want {
			return fmt.Sprintf("CRC at offset %d is %02X %02X, want %02X %02X (CRC-16/MCRF4XX, LSB first)", n-2, b[n-2], b[n-1], byte(want), byte(want>>8))
		}
		if addr != nil && b[1] != byte(*addr) && b[1] != 0xFF {
			return fmt.Sprintf("address byte 0x%02X at offset 1 is not the profile's address %d", b[1], *addr)
		}
	case ProtoFEIG:
		if n < 5 || int(b[0]) != n {
			return fmt.Sprintf("a FEIG standard frame starts with its total length; byte 0 is 0x%02X but the frame has %d bytes", b[0], n)
		}
		if got, want := uint16(b[n-2])|uint16(b[n-1])<<8, crc16.MCRF4XX(b[:n-2]); got != want {
			return fmt.Sprintf("CRC at offset %d is %02X %02X, want %02X %02X (CRC-16/MCRF4XX, LSB first)", n-2, b[n-2], b[n-1], byte(want), byte(want>>8))
		}
		if addr != nil && b[1] != byte(*addr) && b[1] != 0xFF {
			return fmt.Sprintf("COM-ADR 0x%02X at offset 1 is not the profile's address %d", b[1], *addr)
		}
	case ProtoThingMagic:
		if n < 5 || b[0] != 0xFF || int(b[1]) != n-5 {
			return fmt.Sprintf("a ThingMagic frame is FF LEN OPCODE DATA CRC with LEN = %d data bytes", max(n-5, 0))
		}
		if got, want := uint16(b[n-2])<<8|uint16(b[n-1]), crc16.Augmented(b[1:n-2]); got != want {
			return fmt.Sprintf("CRC at offset %d is %02X %02X, want %02X %02X (ThingMagic CRC, MSB first)", n-2, b[n-2], b[n-1], byte(want>>8), byte(want))
		}
	}
	return ""
}
