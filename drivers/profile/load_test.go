package profile

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

const goodScanner = `name: test-scanner
vendor: Honeywell
model: Voyager 1250g
kind: scanner
match:
  - vid: "0x0c2e"
    usage_page: "0x0001"
mode: keyboard
decode:
  layout: us
  terminator: enter
setup_format: honeywell-menu
setup:
  - label: USB keyboard
    code: PAP124
`

const goodRFID = `name: test-rfid
vendor: Chafon
model: UHFReader18
kind: rfid
serial:
  port: /dev/ttyUSB*
  baud: 57600
protocol: chafon
address: 0
power_dbm: 20
region: na
init:
  - hex: "04 00 21 D9 6A"
tag_data: [iso28560-4]
`

func TestLoadGood(t *testing.T) {
	p, err := Load("test-scanner.yaml", []byte(goodScanner))
	if err != nil {
		t.Fatal(err)
	}
	want := Match{VID: 0x0c2e, UsagePage: 0x0001, Interface: -1}
	if len(p.Match) != 1 || p.Match[0] != want {
		t.Errorf("Match = %+v, want [%+v]", p.Match, want)
	}
	if p.Decode.Layout != LayoutUS || p.Decode.Terminator != TermEnter || p.Mode != ModeKeyboard {
		t.Errorf("decode = %+v mode %s", p.Decode, p.Mode)
	}
	if got := p.Symbol(p.Setup[0]); got != "\u00f3PAP124." {
		t.Errorf("Symbol = %q, want FNC3 PAP124 .", got)
	}

	r, err := Load("test-rfid.yaml", []byte(goodRFID))
	if err != nil {
		t.Fatal(err)
	}
	if r.Serial != (Serial{Port: "/dev/ttyUSB*", Baud: 57600, DataBits: 8, Parity: ParityNone, StopBits: 1}) {
		t.Errorf("serial defaults = %+v", r.Serial)
	}
	if r.Address == nil || *r.Address != 0 || r.PowerDBm == nil || *r.PowerDBm != 20 {
		t.Errorf("address/power = %v/%v", r.Address, r.PowerDBm)
	}
	if got := r.Init[0].String(); got != "hex 040021D96A" {
		t.Errorf("init = %s", got)
	}
}

func TestLoadDefaults(t *testing.T) {
	// HID POS defaults to no terminator and no layout.
	y := strings.Replace(goodScanner, "mode: keyboard\ndecode:\n  layout: us\n  terminator: enter\n", "mode: hidpos\n", 1)
	y = strings.Replace(y, `usage_page: "0x0001"`, `usage_page: "0x8c"`, 1)
	p, err := Load("test-scanner.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if p.Decode.Layout != "" || p.Decode.Terminator != TermNone || p.Match[0].UsagePage != 0x8c {
		t.Errorf("decode = %+v, match %+v", p.Decode, p.Match)
	}
}

func TestMenuCommandBytes(t *testing.T) {
	y := strings.Replace(goodScanner, "mode: keyboard\ndecode:\n  layout: us\n  terminator: enter\n",
		"mode: hidpos\ninit:\n  - menu: REVINF.\n", 1)
	y = strings.Replace(y, `usage_page: "0x0001"`, `usage_page: "0x008c"`, 1)
	p, err := Load("test-scanner.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	want := "\x16M\rREVINF."
	if got := string(p.Init[0].Data); got != want {
		t.Errorf("menu bytes = %q, want %q", got, want)
	}
}

// TestLoadErrors: each broken profile yields an error naming the file,
// the line and the field.
func TestLoadErrors(t *testing.T) {
	sc := func(old, new string) string { return strings.Replace(goodScanner, old, new, 1) }
	rf := func(old, new string) string { return strings.Replace(goodRFID, old, new, 1) }
	tests := []struct {
		name string
		file string
		yaml string
		want []string // each must appear in the error text
	}{
		{"unknown top key", "test-scanner.yaml", sc("mode: keyboard", "mode: keyboard\nmodel_year: 2020"),
			[]string{"test-scanner.yaml:9: model_year: unknown field \"model_year\"", "known fields here: name, vendor"}},
		{"unknown nested key", "test-scanner.yaml", sc("  terminator: enter", "  terminator: enter\n  suffix: cr"),
			[]string{"test-scanner.yaml:12: decode.suffix: unknown field"}},
		{"bad vid", "test-scanner.yaml", sc(`vid: "0x0c2e"`, `vid: "0x0c2"`),
			[]string{`test-scanner.yaml:6: match[0].vid: bad VID "0x0c2"`}},
		{"decimal vid", "test-scanner.yaml", sc(`vid: "0x0c2e"`, `vid: 3118`),
			[]string{`test-scanner.yaml:6: match[0].vid: bad VID "3118"`}},
		{"zero vid", "test-scanner.yaml", sc(`vid: "0x0c2e"`, `vid: "0x0000"`),
			[]string{`match[0].vid: bad VID "0x0000": 0x0000 is not a valid VID`}},
		{"pid without vid", "test-scanner.yaml", sc(`vid: "0x0c2e"`, `pid: "0x1200"`),
			[]string{"test-scanner.yaml:6: match[0].pid: a PID means nothing without its VID"}},
		{"snapi on honeywell", "test-scanner.yaml", sc("mode: keyboard\ndecode:\n  layout: us\n", "mode: snapi\ndecode:\n"),
			[]string{`test-scanner.yaml:6: match[0].vid: mode snapi is Zebra's protocol`}},
		{"layout on hidpos", "test-scanner.yaml", sc("mode: keyboard", "mode: hidpos"),
			[]string{"test-scanner.yaml:10: decode.layout: applies to keyboard mode only", "test-scanner.yaml:7: match[0].usage_page: a HID POS scanner is on usage page 0x008c"}},
		{"bad layout", "test-scanner.yaml", sc("layout: us", "layout: uk"),
			[]string{`test-scanner.yaml:10: decode.layout: "uk" is not a layout`}},
		{"bad terminator", "test-scanner.yaml", sc("terminator: enter", "terminator: lf"),
			[]string{`test-scanner.yaml:11: decode.terminator: "lf"`}},
		{"keyboard without terminator", "test-scanner.yaml", sc("terminator: enter", "terminator: none"),
			[]string{`test-scanner.yaml:11: decode.terminator: none: a keyboard-mode scanner must end each code`}},
		{"enter on hidpos", "test-scanner.yaml", sc("mode: keyboard\ndecode:\n  layout: us\n", "mode: hidpos\ndecode:\n"),
			[]string{`test-scanner.yaml:10: decode.terminator: "enter" applies to keyboard mode only`}},
		{"init on keyboard", "test-scanner.yaml", sc("mode: keyboard", "init:\n  - hex: \"01 02\"\nmode: keyboard"),
			[]string{"test-scanner.yaml:9: init[0]: a keyboard-mode scanner has no command channel"}},
		{"menu format on zebra", "test-scanner.yaml", sc(`vid: "0x0c2e"`, `vid: "0x05e0"`),
			[]string{"test-scanner.yaml:12: setup_format: honeywell-menu barcodes program Honeywell scanners only"}},
		{"menu code with dot", "test-scanner.yaml", sc("code: PAP124", "code: PAP124."),
			[]string{`test-scanner.yaml:15: setup[0].code: "PAP124." is not a Honeywell menu command`}},
		{"setup without label", "test-scanner.yaml", sc("  - label: USB keyboard\n", "  - label: \"\"\n"),
			[]string{"test-scanner.yaml:14: setup[0].label: missing"}},
		{"rfid field on scanner", "test-scanner.yaml", sc("mode: keyboard", "mode: keyboard\nbaud: 9600"),
			[]string{"test-scanner.yaml:9: baud: unknown field"}},
		{"serial on scanner", "test-scanner.yaml", sc("mode: keyboard", "mode: keyboard\nprotocol: chafon"),
			[]string{"test-scanner.yaml:9: protocol: is for RFID reader profiles"}},
		{"name mismatch", "other.yaml", goodScanner,
			[]string{`other.yaml:1: name: "test-scanner" does not match the file name "other.yaml"`}},
		{"bad kind", "test-scanner.yaml", sc("kind: scanner", "kind: printer"),
			[]string{`test-scanner.yaml:4: kind: "printer" is not a kind`}},
		{"type error", "test-scanner.yaml", sc("  - label: USB keyboard", "  - label: [a, b]"),
			[]string{"test-scanner.yaml:14: setup[0].label: want a single value"}},
		{"syntax error", "test-scanner.yaml", "name: [unclosed\n", []string{"test-scanner.yaml:"}},
		{"two documents", "test-scanner.yaml", goodScanner + "---\nname: x\n", []string{"more than one YAML document"}},
		{"empty", "test-scanner.yaml", "", []string{"test-scanner.yaml: empty file"}},

		{"odd baud", "test-rfid.yaml", rf("baud: 57600", "baud: 57601"),
			[]string{"test-rfid.yaml:7: serial.baud: 57601 is not a standard rate"}},
		{"bad parity", "test-rfid.yaml", rf("  baud: 57600", "  baud: 57600\n  parity: mark"),
			[]string{`test-rfid.yaml:8: serial.parity: "mark"`}},
		{"missing serial", "test-rfid.yaml", rf("serial:\n  port: /dev/ttyUSB*\n  baud: 57600\n", ""),
			[]string{"test-rfid.yaml:1: serial: missing"}},
		{"bad crc", "test-rfid.yaml", rf("D9 6A", "D9 6B"),
			[]string{"test-rfid.yaml:13: init[0].hex: CRC at offset 3 is D9 6B, want D9 6A"}},
		{"bad length byte", "test-rfid.yaml", rf("04 00 21 D9 6A", "05 00 21 D9 6A"),
			[]string{"init[0].hex: a Chafon frame starts with its length"}},
		{"bad hex", "test-rfid.yaml", rf("04 00 21 D9 6A", "04 00 2G D9 6A"),
			[]string{`init[0].hex: "04 00 2G D9 6A": character 'G' at offset 5 is not a hex digit`}},
		{"wrong address in frame", "test-rfid.yaml", rf("address: 0", "address: 3"),
			[]string{"address byte 0x00 at offset 1 is not the profile's address 3"}},
		{"tag model impossible", "test-rfid.yaml", rf("tag_data: [iso28560-4]", "tag_data: [iso28560-3]"),
			[]string{"test-rfid.yaml:14: tag_data[0]: a chafon reader cannot deliver iso28560-3 tag data"}},
		{"tag model unknown", "test-rfid.yaml", rf("tag_data: [iso28560-4]", "tag_data: [danish]"),
			[]string{`tag_data[0]: "danish" is not a tag data model`}},
		{"power too high", "test-rfid.yaml", rf("power_dbm: 20", "power_dbm: 36"),
			[]string{"test-rfid.yaml:10: power_dbm: 36: a Chafon reader takes 0-30 dBm"}},
		{"region on hf", "test-rfid.yaml", rf("protocol: chafon", "protocol: feig"),
			[]string{"region: is for UHF readers", "power_dbm: is for UHF readers", "init[0].hex: a FEIG standard frame"}},
		{"address on thingmagic", "test-rfid.yaml", rf("protocol: chafon", "protocol: thingmagic"),
			[]string{"test-rfid.yaml:9: address: protocol thingmagic has no bus address"}},
		{"ascii without format", "test-rfid.yaml", rf("protocol: chafon", "protocol: ascii"),
			[]string{"protocol: an ascii reader needs ascii_format", "init[0]: an ascii reader only sends"}},
		{"scanner field on rfid", "test-rfid.yaml", rf("protocol: chafon", "protocol: chafon\nmode: hidpos"),
			[]string{"test-rfid.yaml:9: mode: is for scanner profiles"}},
		{"rfid usage page", "test-rfid.yaml", rf("kind: rfid", "kind: rfid\nmatch:\n  - vid: \"0x1a86\"\n    usage_page: \"0x0001\""),
			[]string{"match[0].usage_page: an RFID reader's match rule names its USB-serial bridge", "match[0].pid: missing"}},
		{"block order on uhf", "test-rfid.yaml", rf("region: na", "region: na\nblock_order: lsb-first"),
			[]string{"test-rfid.yaml:12: block_order: applies to protocol feig only"}},
		{"blocks on uhf", "test-rfid.yaml", rf("region: na", "region: na\nblocks: 8"),
			[]string{"test-rfid.yaml:12: blocks: applies to protocol feig only"}},
		{"block order unknown", "test-rfid.yaml", rf("protocol: chafon", "protocol: feig\nblock_order: reversed"),
			[]string{`block_order: "reversed": want msb-first (FEIG ISO-host, the default) or lsb-first`}},
		{"duplicate antenna", "test-rfid.yaml", rf("region: na", "region: na\nantennas: [1, 1]"),
			[]string{"antennas[1]: antenna 1 listed twice"}},
		{"menu on rfid", "test-rfid.yaml", rf(`  - hex: "04 00 21 D9 6A"`, "  - menu: REVINF."),
			[]string{"test-rfid.yaml:13: init[0]: an RFID reader takes hex frames only"}},
		{"two command kinds", "test-rfid.yaml", rf(`  - hex: "04 00 21 D9 6A"`, "  - hex: \"04 00 21 D9 6A\"\n    menu: X."),
			[]string{"init[0]: give exactly one of hex, menu or feature"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Load(tt.file, []byte(tt.yaml))
			if err == nil {
				t.Fatalf("Load succeeded (%+v); want errors %q", p, tt.want)
			}
			if p != nil {
				t.Errorf("Load returned a profile with an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.File != tt.file {
				t.Errorf("error is not a *FieldError naming %s: %#v", tt.file, err)
			}
		})
	}
}

func TestLoadDirJoinsErrors(t *testing.T) {
	fsys := fstest.MapFS{
		"a/test-scanner.yaml": {Data: []byte(goodScanner)},
		"b/test-rfid.yaml":    {Data: []byte(strings.Replace(goodRFID, "baud: 57600", "baud: 1", 1))},
		"c/bad.yaml":          {Data: []byte("name: bad\nvendor: x\nmodel: y\nkind: scanner\nmode: keyboard\nfoo: 1\n")},
		"c/readme.txt":        {Data: []byte("not a profile")},
	}
	_, err := LoadDir(fsys)
	if err == nil {
		t.Fatal("LoadDir succeeded")
	}
	for _, w := range []string{"b/test-rfid.yaml:7: serial.baud", "c/bad.yaml:6: foo: unknown field"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not contain %q", err, w)
		}
	}

	dup := fstest.MapFS{
		"a/test-scanner.yaml": {Data: []byte(goodScanner)},
		"b/test-scanner.yaml": {Data: []byte(goodScanner)},
	}
	if _, err := LoadDir(dup); err == nil || !strings.Contains(err.Error(), "names must be unique") {
		t.Errorf("duplicate names: err = %v", err)
	}
}

func TestCRCs(t *testing.T) {
	// Frames from the driver packages' tests, where each one's public source
	// is named (drivers/rfid/{chafon,feig,thingmagic}/frame_test.go).
	frames := []struct {
		proto Protocol
		hex   string
	}{
		{ProtoChafon, "04 00 01 DB 4B"},
		{ProtoChafon, "04 FF 01 1B B4"},
		{ProtoChafon, "04 FF 21 19 95"},
		{ProtoFEIG, "07 FF B0 01 00 1C 56"},
		{ProtoFEIG, "05 FF 65 E5 CB"},
		{ProtoThingMagic, "FF 00 03 1D 0C"},
		{ProtoThingMagic, "FF 03 9A 01 0C 00 A3 5D"},
	}
	for _, f := range frames {
		l := &loader{lines: map[string]int{}}
		b, _ := l.hexBytes("", f.hex)
		if msg := checkFrame(f.proto, nil, b); msg != "" {
			t.Errorf("%s %s: %s", f.proto, f.hex, msg)
		}
		b[len(b)-1] ^= 1
		if msg := checkFrame(f.proto, nil, b); msg == "" {
			t.Errorf("%s %s with a flipped CRC bit passed", f.proto, f.hex)
		}
	}
}
