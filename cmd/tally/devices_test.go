package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strings"
	"testing"

	"go.bug.st/serial/enumerator"

	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

// tallyFail runs the CLI in-process, expects a non-zero exit, and returns
// stdout and stderr.
func tallyFail(t *testing.T, in string, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	stdin = strings.NewReader(in)
	defer func() { stdin = os.Stdin }()
	if code := runMain(context.Background(), args, &out, &errb); code == 0 {
		t.Fatalf("tally %s: exit 0, want an error\n%s", strings.Join(args, " "), out.String())
	}
	return out.String(), errb.String()
}

// Published tag vectors, through the command line: the Danish data model's
// (libdanrfid DDMDataTest), a 3M RFID 501 tag (Biblio-RFID t/05-RFID501.t),
// the ISO 28560-2 annex example (dp2 TestChip.cs), an ISO/TS 28560-4 EPC
// bank (dp2 TestUHF.cs) and the GS1 TDS SGTIN-96 example; the decoder's own
// tests in drivers/tagdata hold each beside its source.
const (
	vecDanish = "11 01 01 31 31 32 32 33 33 34 34 00 00 00 00 00 00 00 00 51 3E 44 45 37 30 35 00 00 00 00 00 00"
	vec3M     = "04 11 00 00 32 30 30 39 30 31 30 31 30 31 32 33 00 00 00 00 FF FF FF FF 7F FF FF FF 00 00 00 00"
	vecAnnex  = "91 00 05 1C BE 99 1A 14 02 01 D0 14 02 04 B3 46 07 44 1C B6 E2 E3 35 D6 83 02 07 AC C0 9E BA A0 6F 6B 00 00"
	vecUHF    = "0000 45C2 141C C04F C70B ADB5 C6E2 DA1D ED4D D319"
	vecSGTIN  = "3074257BF7194E4000001A85"
)

func TestDecodeReferenceVectors(t *testing.T) {
	reversed := strings.ToUpper(hex.EncodeToString(tagdata.ReverseBlocks(mustHex(t, vecDanish))))
	giai, err := tagdata.EncodeGIAI96(tagdata.GIAI{CompanyPrefix: "0614141", AssetReference: 4711})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string // after "decode"
		want tagJSON  // the keys compared: model, id and those set
		line []string // lines the text output must contain
	}{
		{"danish auto", split(vecDanish), tagJSON{Model: "iso28560-3", ID: "11223344", Country: "DE", TypeOfUsage: "circulating"},
			[]string{"byte  19  crc                      0x3E51 (ok)", "byte  21  owner library            DE705"}},
		{"danish forced", append([]string{"--format", "iso28560-3"}, vecDanish), tagJSON{Model: "iso28560-3", ID: "11223344"}, nil},
		{"danish reversed blocks", []string{reversed}, tagJSON{Model: "iso28560-3", ID: "11223344", Reversed: true}, nil},
		{"3m auto", []string{vec3M}, tagJSON{Model: "3m-rfid501", ID: "200901010123"},
			[]string{"byte  20  branch        4095", "byte  21  library       1048575"}},
		{"3m forced alias", []string{"--format", "3m", vec3M}, tagJSON{Model: "3m-rfid501", ID: "200901010123"}, nil},
		{"28560-2 annex", []string{"--format", "iso28560-2", vecAnnex}, tagJSON{Model: "iso28560-2", ID: "123456789012", ISIL: "US-InU-Mu"},
			[]string{"set information", "1203", "QA268.L55"}},
		{"28560-4 EPC bank", []string{vecUHF}, tagJSON{Model: "iso28560-4", ISIL: "CH-000134-1", ID: "12345678.31", AFI: ptr(0xC2)},
			[]string{"CH-000134-1.12345678.31", "0xC2 (library item on the shelf"}},
		{"28560-4 with user memory", []string{vecUHF, "/", "06", vecAnnex}, tagJSON{Model: "iso28560-4"},
			[]string{"US-InU-Mu", "QA268.L55", "DSFID"}},
		{"28560-4 long numeric", []string{"--format", "iso28560-4", "21C2 FB21 02DD DF7C 4E00"}, tagJSON{Model: "iso28560-4", ID: "12312345678"}, nil},
		{"sgtin bare EPC", []string{vecSGTIN}, tagJSON{Model: "sgtin-96", ID: "urn:epc:id:sgtin:0614141.812345.6789",
			URI: "urn:epc:tag:sgtin-96:3.0614141.812345.6789", GTIN: "80614141123458", Serial: "6789"}, nil},
		// The EPC alone, as a Chafon reader reports it, through the UHF
		// entry point: bytes 0-1 are not a StoredCRC (GS1 TDS example).
		{"sgtin EPC without PC as uhf", []string{"--format", "uhf", vecSGTIN}, tagJSON{Model: "sgtin-96", ID: "urn:epc:id:sgtin:0614141.812345.6789",
			GTIN: "80614141123458", Serial: "6789"}, nil},
		{"sgtin with PC word", []string{"3000", vecSGTIN}, tagJSON{Model: "sgtin-96", GTIN: "80614141123458"},
			[]string{"PC word                0x3000"}},
		{"giai", []string{"--format", "giai", hex.EncodeToString(giai)}, tagJSON{Model: "giai-96", ID: "4711", URI: "urn:epc:tag:giai-96:0.0614141.4711"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got tagJSON
			out := tally(t, "", append([]string{"decode", "--json"}, tc.args...)...)
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("--json output %q: %v", out, err)
			}
			check := func(field, got, want string) {
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", field, got, want)
				}
			}
			check("model", got.Model, tc.want.Model)
			check("id", got.ID, tc.want.ID)
			check("isil", got.ISIL, tc.want.ISIL)
			check("country", got.Country, tc.want.Country)
			check("type_of_usage", got.TypeOfUsage, tc.want.TypeOfUsage)
			check("uri", got.URI, tc.want.URI)
			check("gtin", got.GTIN, tc.want.GTIN)
			check("serial", got.Serial, tc.want.Serial)
			if tc.want.Reversed && !got.Reversed {
				t.Error("reversed blocks not reported")
			}
			if tc.want.AFI != nil && (got.AFI == nil || *got.AFI != *tc.want.AFI) {
				t.Errorf("afi = %v, want %d", got.AFI, *tc.want.AFI)
			}
			if len(got.Fields) == 0 {
				t.Error("no fields in JSON")
			}
			text := tally(t, "", append([]string{"decode"}, tc.args...)...)
			if !strings.HasPrefix(text, "model  "+tc.want.Model) {
				t.Errorf("text output does not start with the model:\n%s", text)
			}
			for _, l := range tc.line {
				if !strings.Contains(text, l) {
					t.Errorf("text output lacks %q:\n%s", l, text)
				}
			}
		})
	}
}

// Field offsets survive into JSON; derived values have none.
func TestDecodeJSONOffsets(t *testing.T) {
	var got tagJSON
	if err := json.Unmarshal([]byte(tally(t, "", "decode", "--json", vecSGTIN)), &got); err != nil {
		t.Fatal(err)
	}
	offsets := map[string]*int{}
	for _, f := range got.Fields {
		offsets[f.Name] = f.Offset
	}
	if o := offsets["serial"]; o == nil || *o != 7 {
		t.Errorf("serial offset %v, want 7", o)
	}
	if o, ok := offsets["GTIN"]; !ok || o != nil {
		t.Errorf("GTIN: present %v, offset %v; want present without an offset", ok, o)
	}
}

func TestDecodeErrorsSayWhereAndWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"not hex", []string{"11", "0G"}, []string{"'G'", "position 4"}},
		{"odd digits", []string{"11", "22", "3", "44"}, []string{"odd number", `"3" at byte 2`}},
		{"odd digits in user memory", []string{vecUHF, "/", "06 1"}, []string{"user memory", `"1" at byte 1 of user memory`}},
		{"forced model does not fit", []string{"--format", "iso28560-3", vecSGTIN}, []string{"iso28560-3: byte 12", "try --format auto", "sgtin-96"}},
		{"nothing fits", []string{"04 11 00 00 31 32"}, []string{"use --format", "iso28560-3: byte 6", "3m-rfid501: byte 6"}},
		{"unknown format", []string{"--format", "danish-ish", "11"}, []string{"--format", "danish-ish", "iso28560-3", "giai-96"}},
		{"slash on HF", []string{"--format", "iso28560-2", "11 / 22"}, []string{"only makes sense for UHF"}},
		{"blank 3M tag", []string{strings.Repeat("55", 24) + "00000000"}, []string{"blank"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := tallyFail(t, "", append([]string{"decode"}, tc.args...)...)
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("error lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}

// Without arguments, each stdin line is a tag; a bad line is reported and
// the others still decode.
func TestDecodeStdinLines(t *testing.T) {
	in := "# dump from the wand\n" + vecDanish + "\n\nzz\n" + vecSGTIN + "\n"
	out, errs := tallyFail(t, in, "decode")
	if !strings.Contains(out, `id     "11223344"`) || !strings.Contains(out, "urn:epc:id:sgtin:0614141.812345.6789") {
		t.Errorf("good lines not decoded:\n%s", out)
	}
	if !strings.Contains(out, "line 4: hex: character 'z'") {
		t.Errorf("bad line not reported with its number:\n%s", out)
	}
	if !strings.Contains(errs, "1 of 3 tags did not decode") {
		t.Errorf("summary error: %q", errs)
	}

	js := tally(t, vecDanish+"\n"+vecSGTIN+"\n", "decode", "--json")
	lines := strings.Split(strings.TrimSpace(js), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %d:\n%s", len(lines), js)
	}
	var second tagJSON
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil || second.Model != "sgtin-96" {
		t.Errorf("second line %q: %v", lines[1], err)
	}
	if _, errs := tallyFail(t, "\n# nothing\n", "decode"); !strings.Contains(errs, "no tag data") {
		t.Errorf("empty stdin: %q", errs)
	}
}

// ---- devices ---------------------------------------------------------------

// fakeBus is a HID bus with a fixed set of devices.
type fakeBus struct {
	devs []hidscanner.DeviceInfo
	err  error
}

func (b fakeBus) Enumerate(vid, pid uint16) ([]hidscanner.DeviceInfo, error) {
	var out []hidscanner.DeviceInfo
	for _, d := range b.devs {
		if (vid == 0 || d.VID == vid) && (pid == 0 || d.PID == pid) {
			out = append(out, d)
		}
	}
	return out, b.err
}

func (b fakeBus) Open(info hidscanner.DeviceInfo) (hidscanner.Device, error) {
	return nil, errors.New("fakeBus: not for opening")
}

// withDevices swaps the device sources of `tally devices` for the test.
func withDevices(t *testing.T, bus hidscanner.Enumerator, ports []*enumerator.PortDetails, portErr error, access func(string) error) {
	t.Helper()
	oldBus, oldPorts, oldAccess := hidBus, serialPorts, usbAccess
	t.Cleanup(func() { hidBus, serialPorts, usbAccess = oldBus, oldPorts, oldAccess })
	hidBus = bus
	serialPorts = func() ([]*enumerator.PortDetails, error) { return ports, portErr }
	if access == nil {
		access = func(string) error { return nil }
	}
	usbAccess = access
}

var (
	honeywellLinux = hidscanner.DeviceInfo{Path: "0001:0004:00", VID: 0x0c2e, PID: 0x0b61, Interface: 0,
		Manufacturer: "Honeywell", Product: "Voyager 1250g", Serial: "15123B1234"} // libusb: usage page 0
	honeywellPOS = hidscanner.DeviceInfo{Path: "/dev/hidraw3", VID: 0x0c2e, PID: 0x0b81, UsagePage: 0x8c, Usage: 0x02,
		Manufacturer: "Honeywell", Product: "Xenon 1900"}
	zebraKbd   = hidscanner.DeviceInfo{Path: "0001:0007:00", VID: 0x05e0, PID: 0x1200, Manufacturer: "Symbol", Product: "Bar Code Scanner"}
	zebraSNAPI = hidscanner.DeviceInfo{Path: "0001:0008:00", VID: 0x05e0, PID: 0x1900, Manufacturer: "Zebra", Product: "Symbol Bar Code Scanner"}
	keyboard   = hidscanner.DeviceInfo{Path: "0003:0002:00", VID: 0x046d, PID: 0xc31c, UsagePage: 0x01, Usage: 0x06,
		Manufacturer: "Logitech", Product: "USB Keyboard"}
	ch340 = &enumerator.PortDetails{Name: "/dev/ttyUSB0", IsUSB: true, VID: "1A86", PID: "7523", Product: "USB Serial"}
	uart  = &enumerator.PortDetails{Name: "/dev/ttyS0"}
)

func devicesJSON(t *testing.T, args ...string) devicesReport {
	t.Helper()
	var rep devicesReport
	out := tally(t, "", append([]string{"devices", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("devices --json %q: %v", out, err)
	}
	return rep
}

func scannerNames(t *testing.T, vendor string, mode profile.Mode) []string {
	t.Helper()
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		if p.Kind == profile.KindScanner && p.Vendor == vendor && (mode == "" || p.Mode == mode) {
			out = append(out, p.Name)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no built-in %s %s profiles", vendor, mode)
	}
	return out
}

func TestDevicesMatchesProfiles(t *testing.T) {
	withDevices(t, fakeBus{devs: []hidscanner.DeviceInfo{keyboard, zebraSNAPI, honeywellPOS, zebraKbd, honeywellLinux}},
		[]*enumerator.PortDetails{uart, ch340}, nil, nil)
	rep := devicesJSON(t)
	if len(rep.HID) != 5 || len(rep.Serial) != 2 {
		t.Fatalf("listed %d HID, %d serial; want 5, 2: %+v", len(rep.HID), len(rep.Serial), rep)
	}
	byPath := map[string]hidEntry{}
	for _, e := range rep.HID {
		byPath[e.Path] = e
	}
	same := func(what string, got, want []string) {
		t.Helper()
		g, w := append([]string(nil), got...), append([]string(nil), want...)
		sortSlice(g, func(a, b string) bool { return a < b })
		sortSlice(w, func(a, b string) bool { return a < b })
		if strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("%s: profiles %v, want %v", what, got, want)
		}
	}
	// Linux reports no usage page: every Honeywell profile fits by VID.
	same("honeywell (no usage page)", byPath[honeywellLinux.Path].Profiles, scannerNames(t, "Honeywell", ""))
	if byPath[honeywellLinux.Path].UsagePage != "" || byPath[honeywellLinux.Path].Node != linuxOnly("/dev/bus/usb/001/004") {
		t.Errorf("honeywell entry: %+v", byPath[honeywellLinux.Path])
	}
	// A reported usage page narrows it to the mode.
	same("honeywell HID POS", byPath[honeywellPOS.Path].Profiles, scannerNames(t, "Honeywell", profile.ModeHIDPOS))
	if byPath[honeywellPOS.Path].What != "bar code scanner (HID POS)" || byPath[honeywellPOS.Path].Node != "" {
		t.Errorf("HID POS entry: %+v", byPath[honeywellPOS.Path])
	}
	same("zebra keyboard", byPath[zebraKbd.Path].Profiles, scannerNames(t, "Zebra", profile.ModeKeyboard))
	same("zebra snapi", byPath[zebraSNAPI.Path].Profiles, scannerNames(t, "Zebra", profile.ModeSNAPI))
	same("keyboard", byPath[keyboard.Path].Profiles, nil)
	if rep.HID[0].VID != "046d" || rep.HID[len(rep.HID)-1].VID != "0c2e" {
		t.Errorf("HID devices not sorted by VID: %v … %v", rep.HID[0].VID, rep.HID[len(rep.HID)-1].VID)
	}
	if rep.Serial[1].Name != "/dev/ttyUSB0" || strings.Join(rep.Serial[1].Profiles, ",") != "ascii-hex-line" || rep.Serial[1].VID != "1a86" {
		t.Errorf("USB serial port: %+v", rep.Serial[1])
	}
	if rep.Serial[0].Name != "/dev/ttyS0" || len(rep.Serial[0].Profiles) != 0 {
		t.Errorf("on-board UART: %+v", rep.Serial[0])
	}

	text := tally(t, "", "devices")
	for _, want := range []string{
		"USB-HID devices (5, 4 with a profile):",
		"0c2e:0b61  Honeywell Voyager 1250g  interface 0  serial 15123B1234  at 0001:0004:00",
		"so hidpos and keyboard profiles all match",
		"profiles: honeywell-voyager-1250g-hidpos, honeywell-voyager-1250g-keyboard, honeywell-voyager-1200g-hidpos",
		"profiles: honeywell-xenon-1900-hidpos, honeywell-voyager-1200g-hidpos",
		"profiles: zebra-ds2208-keyboard, zebra-ls2208-keyboard\n      (these models decode alike",
		"… and 1 without a profile",
		"/dev/ttyUSB0  USB 1a86:7523  USB Serial",
		"USB-serial bridge known to: ascii-hex-line",
		"tally sheet PROFILE",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("devices output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Logitech") {
		t.Errorf("a keyboard without a profile is listed without --all:\n%s", text)
	}
	if all := tally(t, "", "devices", "--all"); !strings.Contains(all, "046d:c31c  Logitech USB Keyboard  interface 0  keyboard") || !strings.Contains(all, "no profile") {
		t.Errorf("--all does not list the keyboard:\n%s", all)
	}
}

func linuxOnly(s string) string {
	if goruntime.GOOS == "linux" {
		return s
	}
	return ""
}

func TestDevicesNothingConnected(t *testing.T) {
	withDevices(t, fakeBus{}, []*enumerator.PortDetails{uart}, nil, nil)
	text := tally(t, "", "devices")
	for _, want := range []string{"USB-HID devices: none found", "No USB scanner or reader is connected", "lsusb"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if goruntime.GOOS == "linux" {
		for _, want := range []string{"70-tally.rules", "udevadm trigger", "group tally"} {
			if !strings.Contains(text, want) {
				t.Errorf("output lacks the udev/group advice %q:\n%s", want, text)
			}
		}
	}
	if strings.Contains(text, "tally sheet PROFILE") {
		t.Errorf("suggests a sheet with nothing matched:\n%s", text)
	}
}

// With only unknown devices, all are listed, with the way to use one.
func TestDevicesNoProfileMatches(t *testing.T) {
	withDevices(t, fakeBus{devs: []hidscanner.DeviceInfo{keyboard}}, []*enumerator.PortDetails{uart}, nil, nil)
	text := tally(t, "", "devices")
	for _, want := range []string{"USB-HID devices (1, 0 with a profile):", "046d:c31c  Logitech USB Keyboard", "no profile", "generic-keyboard-wedge", "udev rule"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// A scanner tally may not open is named, with the node and the fix.
func TestDevicesPermissionDenied(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("libusb device nodes are Linux")
	}
	var asked []string
	withDevices(t, fakeBus{devs: []hidscanner.DeviceInfo{zebraKbd}}, nil, nil, func(node string) error {
		asked = append(asked, node)
		return &os.PathError{Op: "open", Path: node, Err: os.ErrPermission}
	})
	text := tally(t, "", "devices")
	if strings.Join(asked, ",") != "/dev/bus/usb/001/007" {
		t.Errorf("checked nodes %v, want /dev/bus/usb/001/007", asked)
	}
	for _, want := range []string{"tally cannot open 05e0:1200 (/dev/bus/usb/001/007): permission denied", "cannot open: open /dev/bus/usb/001/007", "group tally"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	rep := devicesJSON(t)
	if rep.HID[0].AccessError == "" {
		t.Errorf("JSON lacks access_error: %+v", rep.HID[0])
	}
}

// One bus failing does not hide the other.
func TestDevicesEnumerationErrors(t *testing.T) {
	withDevices(t, fakeBus{err: errors.New("hid: not supported on this platform or build (cgo off?)")},
		[]*enumerator.PortDetails{ch340}, nil, nil)
	text := tally(t, "", "devices")
	for _, want := range []string{"USB-HID devices: cannot list them: hid: not supported", "CGO_ENABLED=1", "/dev/ttyUSB0"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	withDevices(t, fakeBus{devs: []hidscanner.DeviceInfo{zebraSNAPI}}, nil, errors.New("serial: no /sys"), nil)
	rep := devicesJSON(t)
	if rep.SerialError != "serial: no /sys" || len(rep.HID) != 1 || len(rep.HID[0].Profiles) != 2 {
		t.Errorf("report: %+v", rep)
	}
	if _, errs := tallyFail(t, "", "devices", "extra"); !strings.Contains(errs, "takes only flags") {
		t.Errorf("extra argument: %q", errs)
	}
}

func TestLibusbNode(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("Linux paths")
	}
	for path, want := range map[string]string{
		"0001:0004:00":  "/dev/bus/usb/001/004",
		"0003:000a:01":  "/dev/bus/usb/003/010",
		"/dev/hidraw0":  "",
		"0000:0004:00":  "",
		"zz:0004:00":    "",
		"1-1.2:1.0":     "",
		"0001:0004":     "",
		"0001:0004:00:": "",
	} {
		got, ok := libusbNode(path)
		if got != want || ok != (want != "") {
			t.Errorf("libusbNode(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

// ---- profiles and sheet ----------------------------------------------------

func TestProfilesCommand(t *testing.T) {
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	text := tally(t, "", "profiles")
	if !strings.HasPrefix(text, "NAME") {
		t.Errorf("no header:\n%s", text)
	}
	for _, p := range ps {
		if !strings.Contains(text, p.Name+" ") {
			t.Errorf("profiles lacks %s", p.Name)
		}
	}
	if !strings.Contains(text, "zebra-ds2208-snapi") || !regexpLine(text, `zebra-ds2208-keyboard\s+scanner\s+keyboard\s+Zebra DS2208\s+05e0:1200 page 0001`) {
		t.Errorf("zebra keyboard row:\n%s", text)
	}
	var rf []profileJSON
	if err := json.Unmarshal([]byte(tally(t, "", "profiles", "--kind", "rfid", "--json")), &rf); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range ps {
		if p.Kind == profile.KindRFID {
			n++
		}
	}
	if len(rf) != n || n == 0 {
		t.Fatalf("--kind rfid listed %d, want %d", len(rf), n)
	}
	for _, p := range rf {
		if p.Kind != "rfid" || p.Mode == "" || p.Baud == 0 || len(p.TagData) == 0 {
			t.Errorf("rfid profile JSON: %+v", p)
		}
	}
	if _, errs := tallyFail(t, "", "profiles", "--kind", "printer"); !strings.Contains(errs, "want scanner or rfid") {
		t.Errorf("bad --kind: %q", errs)
	}
}

func regexpLine(text, re string) bool {
	for _, l := range strings.Split(text, "\n") {
		if ok, _ := regexp.MatchString(re, l); ok {
			return true
		}
	}
	return false
}

func TestSheetCommand(t *testing.T) {
	const name = "honeywell-voyager-1250g-keyboard"
	ps, _ := profile.Builtin()
	p, err := profile.Find(ps, name)
	if err != nil {
		t.Fatal(err)
	}
	html := tally(t, "", "sheet", name)
	if !strings.HasPrefix(html, "<!DOCTYPE html>") || strings.Count(html, "<svg") != len(p.Setup) || len(p.Setup) == 0 {
		t.Errorf("sheet: %d barcodes for %d settings:\n%.300s", strings.Count(html, "<svg"), len(p.Setup), html)
	}
	for _, s := range p.Setup {
		if !strings.Contains(html, s.Code) {
			t.Errorf("sheet lacks setting %s", s.Code)
		}
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "sheet.html")
	msg := tally(t, "", "sheet", name, "--out", out) // flags after the name work
	if !strings.Contains(msg, "wrote "+out) || !strings.Contains(msg, "scan them top to bottom") {
		t.Errorf("--out message: %q", msg)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != html {
		t.Errorf("--out file differs from stdout (err %v)", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}

	_, errs := tallyFail(t, "", "sheet", "voyager-1250g")
	for _, want := range []string{"did you mean", "honeywell-voyager-1250g-keyboard", "known profiles:"} {
		if !strings.Contains(errs, want) {
			t.Errorf("unknown profile error lacks %q: %s", want, errs)
		}
	}
	if _, errs := tallyFail(t, "", "sheet", "laserjet"); !strings.Contains(errs, "known profiles: ascii-hex-line") {
		t.Errorf("unknown profile error does not list the names: %s", errs)
	}
	if _, errs := tallyFail(t, "", "sheet", "chafon-uhfreader288"); !strings.Contains(errs, "RFID reader") || !strings.Contains(errs, "zebra-ds2208-keyboard") {
		t.Errorf("RFID sheet error: %s", errs)
	}
	if _, errs := tallyFail(t, "", "sheet"); !strings.Contains(errs, "name one profile") || !strings.Contains(errs, "e.g. `tally sheet honeywell-") {
		t.Errorf("no-name error: %s", errs)
	}
	if _, errs := tallyFail(t, "", "sheet", name, "--out", filepath.Join(dir, "missing", "x.html")); !strings.Contains(errs, "write the sheet") {
		t.Errorf("unwritable --out: %s", errs)
	}
}

func TestDeviceCommandsHelp(t *testing.T) {
	for _, c := range []string{"decode", "devices", "profiles", "sheet"} {
		var out, errb bytes.Buffer
		if code := runMain(context.Background(), []string{c, "--help"}, &out, &errb); code != 0 {
			t.Errorf("%s --help: exit %d %s", c, code, errb.String())
		}
		if !strings.Contains(out.String(), "Usage: tally "+c) {
			t.Errorf("%s --help: %q", c, out.String())
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := tagdata.ParseHex(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func split(s string) []string { return strings.Fields(s) }

func ptr(v int) *int { return &v }
