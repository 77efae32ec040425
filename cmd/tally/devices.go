package main

// Device-facing commands: decode, devices, profiles, sheet. They need no
// database; they are what a person runs while plugging hardware in.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"go.bug.st/serial/enumerator"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

func init() {
	register("decode", "decode RFID tag data given as hex and print its fields", cmdDecode)
	register("devices", "list connected scanners and serial ports with the profiles that match", cmdDevices)
	register("profiles", "list the built-in scanner and RFID reader profiles", cmdProfiles)
	register("sheet", "print a scanner profile's setup sheet, control barcodes (`sheet control`) or operator badges as HTML", cmdSheet)
}

// ---- tally decode ----------------------------------------------------------

func cmdDecode(ctx context.Context, args []string) error {
	fs := newFlags("decode", "[--format F] [--json] HEX...", `
Decodes the data of a library RFID tag, given as hex, and prints every field
with the byte it starts at. The arguments are joined into one tag, so
"tally decode 11 01 01 31 …" works; with no arguments each line of stdin is
one tag.

Formats: auto (detect), `+modelNames()+`.
For UHF tags give the EPC bank as the reader reports it (PC word, then the
EPC; a leading StoredCRC word is fine; a GS1 EPC alone works too) and, if read, user memory after a '/':
  tally decode 3000 3074257BF7194E4000001A85
  tally decode "45C2 141C C04F C70B ADB5 C6E2 DA1D ED4D D319 / 06 91 00 05 1C BE 99 1A 14"
For HF tags give the memory blocks in order, as read.`)
	format := fs.String("format", "auto", "tag data `model`: auto or one of the formats above")
	asJSON := fs.Bool("json", false, "print JSON (one object per tag)")
	if err := parseArgs(fs, args, -1); err != nil {
		return err
	}
	if _, err := tagdata.ParseModel(*format); err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	if fs.NArg() > 0 {
		tag, err := decodeOne(*format, strings.Join(fs.Args(), " "))
		if err != nil {
			return err
		}
		return printTag(stdout, tag, *asJSON)
	}
	if f, ok := stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fs.Usage()
			return errors.New("give the tag data as hex, e.g. `tally decode 11 01 01 31 31 32 32 …`, or pipe one tag per line")
		}
	}
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 4096), 1<<20)
	var line, tags, bad int
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		tags++
		tag, err := decodeOne(*format, text)
		if err != nil {
			bad++
			if *asJSON {
				if err := json.NewEncoder(stdout).Encode(map[string]any{"line": line, "error": err.Error()}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(stdout, "line %d: %v\n\n", line, err)
			}
			continue
		}
		if !*asJSON && tags > 1 {
			fmt.Fprintln(stdout)
		}
		if err := printTag(stdout, tag, *asJSON); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	switch {
	case tags == 0:
		return errors.New("no tag data on stdin: give hex as arguments or one tag per line")
	case bad > 0:
		return fmt.Errorf("%d of %d tags did not decode (see above)", bad, tags)
	}
	return nil
}

// decodeOne decodes one tag and, when a forced model does not fit, says
// what else to try.
func decodeOne(format, hex string) (*tagdata.Tag, error) {
	tag, err := tagdata.DecodeHex(format, hex)
	if err == nil {
		return tag, nil
	}
	if strings.Contains(err.Error(), "odd number of hex digits") {
		epc, user, _ := strings.Cut(hex, "/")
		part, where := epc, ""
		if strings.HasPrefix(err.Error(), "user memory") {
			part, where = user, " of user memory"
		}
		if g, off := oddGroup(part); g != "" {
			return nil, fmt.Errorf("%w: the group %q at byte %d%s has an odd number of digits", err, g, off, where)
		}
	}
	m, _ := tagdata.ParseModel(format)
	var de *tagdata.DecodeError
	if m != "" && errors.As(err, &de) {
		return nil, fmt.Errorf("%w\n(if this tag is not %s, try --format auto or another of: %s)", err, m, modelNames())
	}
	return nil, err
}

// oddGroup finds the first separator-delimited group of hex digits with an
// odd count, and the byte it starts at, to point at a mistyped byte.
func oddGroup(hex string) (string, int) {
	digits := 0
	for _, g := range strings.FieldsFunc(hex, func(r rune) bool { return strings.ContainsRune(" \t\r\n:-,_", r) }) {
		g = strings.TrimPrefix(strings.TrimPrefix(g, "0x"), "0X")
		if len(g)%2 == 1 {
			return g, digits / 2
		}
		digits += len(g)
	}
	return "", 0
}

func modelNames() string {
	var s []string
	for _, m := range tagdata.Models() {
		s = append(s, string(m))
	}
	return strings.Join(s, ", ")
}

// tagJSON is the stable JSON shape of a decoded tag: snake_case keys,
// unknown values left out.
type tagJSON struct {
	Model       string      `json:"model"`
	ID          string      `json:"id"`
	ISIL        string      `json:"isil,omitempty"`
	Country     string      `json:"country,omitempty"`
	PartsInSet  int         `json:"parts_in_set,omitempty"`
	PartNumber  int         `json:"part_number,omitempty"`
	TypeOfUsage string      `json:"type_of_usage,omitempty"`
	AFI         *int        `json:"afi,omitempty"`
	Reversed    bool        `json:"reversed,omitempty"`
	EPC         string      `json:"epc,omitempty"`
	URI         string      `json:"uri,omitempty"`
	GTIN        string      `json:"gtin,omitempty"`
	Serial      string      `json:"serial,omitempty"`
	Fields      []fieldJSON `json:"fields"`
	Warnings    []string    `json:"warnings,omitempty"`
}

type fieldJSON struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Offset *int   `json:"offset,omitempty"` // absent for derived values
}

func toTagJSON(t *tagdata.Tag) tagJSON {
	j := tagJSON{Model: string(t.Model), ID: t.ID, ISIL: t.ISIL, Country: t.Country, PartsInSet: t.PartsInSet,
		PartNumber: t.PartNumber, TypeOfUsage: t.TypeOfUsage, Reversed: t.Reversed, EPC: t.EPC, URI: t.URI,
		GTIN: t.GTIN, Serial: t.Serial, Warnings: t.Warnings, Fields: make([]fieldJSON, 0, len(t.Fields))}
	if t.AFI >= 0 {
		afi := t.AFI
		j.AFI = &afi
	}
	for _, f := range t.Fields {
		fj := fieldJSON{Name: f.Name, Value: f.Value}
		if f.Offset >= 0 {
			off := f.Offset
			fj.Offset = &off
		}
		j.Fields = append(j.Fields, fj)
	}
	return j
}

func printTag(w io.Writer, t *tagdata.Tag, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(w).Encode(toTagJSON(t))
	}
	return t.Format(w)
}

// ---- tally devices ---------------------------------------------------------

// The device sources of `tally devices`; tests replace them with fakes.
var (
	hidBus      hidscanner.Enumerator = hidscanner.HIDBus{}
	serialPorts                       = func() ([]*enumerator.PortDetails, error) { return enumerator.GetDetailedPortsList() }
	// usbAccess reports whether this process may open a USB device node
	// (what karalabe/hid's libusb backend opens on Linux).
	usbAccess = func(node string) error {
		f, err := os.OpenFile(node, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		return f.Close()
	}
)

// hidEntry is one HID interface in the `tally devices` listing.
type hidEntry struct {
	VID          string   `json:"vid"` // 4 lower-case hex digits, as lsusb and the profiles write them
	PID          string   `json:"pid"`
	UsagePage    string   `json:"usage_page,omitempty"` // "" when the platform does not report it (Linux/libusb)
	Usage        string   `json:"usage,omitempty"`
	What         string   `json:"what,omitempty"` // keyboard, HID POS bar code scanner, …
	Interface    int      `json:"interface"`
	Manufacturer string   `json:"manufacturer,omitempty"`
	Product      string   `json:"product,omitempty"`
	Serial       string   `json:"serial,omitempty"`
	Path         string   `json:"path"`
	Node         string   `json:"node,omitempty"`         // the /dev/bus/usb node behind Path (Linux)
	AccessError  string   `json:"access_error,omitempty"` // why this user cannot open Node
	Profiles     []string `json:"profiles"`               // matching profiles, best first
	Modes        []string `json:"modes,omitempty"`        // the distinct modes of Profiles
}

// portEntry is one serial port in the `tally devices` listing.
type portEntry struct {
	Name     string   `json:"name"`
	USB      bool     `json:"usb"`
	VID      string   `json:"vid,omitempty"`
	PID      string   `json:"pid,omitempty"`
	Serial   string   `json:"serial,omitempty"`
	Product  string   `json:"product,omitempty"`
	Profiles []string `json:"profiles"` // RFID profiles naming this USB-serial bridge
}

type devicesReport struct {
	HID         []hidEntry  `json:"hid"`
	HIDError    string      `json:"hid_error,omitempty"`
	Serial      []portEntry `json:"serial"`
	SerialError string      `json:"serial_error,omitempty"`
	Hints       []string    `json:"hints,omitempty"` // what to check next
}

func cmdDevices(ctx context.Context, args []string) error {
	fs := newFlags("devices", "[--all] [--json] [--config FILE]", `
Lists the USB-HID devices (scanners, keyboards…) and serial ports connected
to this machine, and for each the built-in profiles that match it. Use it to
check that a scanner or reader is seen and that tally may open it, and to find
the VID and PID of a scanner that has no profile.`)
	asJSON := fs.Bool("json", false, "print JSON")
	all := fs.Bool("all", false, "also list HID devices that no profile matches when some do (mice, keyboards…)")
	cfgPath := fs.String("config", "", "also match the profiles in this config `file`'s profiles_dir")
	if err := parseArgs(fs, args, -1); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: `tally devices` takes only flags", fs.Arg(0))
	}
	ps, err := knownProfiles(*cfgPath)
	if err != nil {
		return err
	}
	rep := listDevices(hidBus, serialPorts, ps)
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	return writeDevices(stdout, rep, *all)
}

// listDevices enumerates HID interfaces and serial ports and matches each
// against the profiles. Enumeration errors are part of the report, not a
// failure: one bus failing must not hide the other.
func listDevices(bus hidscanner.Enumerator, ports func() ([]*enumerator.PortDetails, error), ps []*profile.Profile) devicesReport {
	rep := devicesReport{HID: []hidEntry{}, Serial: []portEntry{}}
	infos, err := bus.Enumerate(0, 0)
	if err != nil {
		rep.HIDError = err.Error()
	}
	sort.SliceStable(infos, func(i, j int) bool {
		a, b := infos[i], infos[j]
		if a.VID != b.VID {
			return a.VID < b.VID
		}
		if a.PID != b.PID {
			return a.PID < b.PID
		}
		if a.Interface != b.Interface {
			return a.Interface < b.Interface
		}
		return a.Path < b.Path
	})
	denied := map[string]bool{}
	for _, in := range infos {
		e := hidEntry{VID: hex4(in.VID), PID: hex4(in.PID), What: hidWhat(in.UsagePage, in.Usage), Interface: in.Interface,
			Manufacturer: strings.TrimSpace(in.Manufacturer), Product: strings.TrimSpace(in.Product), Serial: strings.TrimSpace(in.Serial),
			Path: in.Path, Profiles: []string{}}
		if in.UsagePage != 0 {
			e.UsagePage, e.Usage = hex4(in.UsagePage), hex4(in.Usage)
		}
		for _, p := range hidProfiles(ps, in) {
			e.Profiles = append(e.Profiles, p.Name)
			if m := string(p.Mode); !containsString(e.Modes, m) {
				e.Modes = append(e.Modes, m)
			}
		}
		if node, ok := libusbNode(in.Path); ok {
			e.Node = node
			if err := usbAccess(node); err != nil {
				e.AccessError = err.Error()
				if len(e.Profiles) > 0 && !denied[node] {
					denied[node] = true
					rep.Hints = append(rep.Hints, fmt.Sprintf("tally cannot open %s:%s (%s): %s. Install the udev rules and add this user to group tally (see below).",
						e.VID, e.PID, node, errText(err)))
				}
			}
		}
		rep.HID = append(rep.HID, e)
	}

	details, err := ports()
	if err != nil {
		rep.SerialError = err.Error()
	}
	sort.SliceStable(details, func(i, j int) bool { return details[i].Name < details[j].Name })
	for _, d := range details {
		if d == nil {
			continue
		}
		e := portEntry{Name: d.Name, USB: d.IsUSB, VID: strings.ToLower(d.VID), PID: strings.ToLower(d.PID),
			Serial: d.SerialNumber, Product: d.Product, Profiles: []string{}}
		if vid, err := strconv.ParseUint(d.VID, 16, 16); err == nil && d.IsUSB {
			pid, _ := strconv.ParseUint(d.PID, 16, 16)
			for _, p := range serialProfiles(ps, uint16(vid), uint16(pid)) {
				e.Profiles = append(e.Profiles, p.Name)
			}
		}
		rep.Serial = append(rep.Serial, e)
	}
	rep.Hints = append(rep.Hints, deviceHints(rep)...)
	return rep
}

// hidProfiles returns the scanner profiles matching a HID interface. On
// Linux karalabe/hid (hidapi over libusb) does not read report descriptors,
// so the usage page is 0 — unknown, not "none": then a profile matches on
// VID/PID whatever usage page it names, and keyboard and HID POS profiles of
// one vendor may both be listed.
func hidProfiles(ps []*profile.Profile, in hidscanner.DeviceInfo) []*profile.Profile {
	if in.UsagePage != 0 {
		return byProductName(profile.MatchAll(ps, in.VID, in.PID, in.UsagePage), in)
	}
	pages := []uint16{0}
	for _, p := range ps {
		for _, m := range p.Match {
			if m.UsagePage != 0 && !containsU16(pages, m.UsagePage) {
				pages = append(pages, m.UsagePage)
			}
		}
	}
	var out []*profile.Profile
	for _, page := range pages {
		for _, p := range profile.MatchAll(ps, in.VID, in.PID, page) {
			if !containsProfile(out, p) {
				out = append(out, p)
			}
		}
	}
	// Rules naming this PID first, then by name.
	sort.SliceStable(out, func(i, j int) bool {
		pi, pj := namesPID(out[i], in.PID), namesPID(out[j], in.PID)
		if pi != pj {
			return pi
		}
		return out[i].Name < out[j].Name
	})
	return byProductName(out, in)
}

// byProductName moves the profiles whose model the device names in its
// USB strings ("Voyager 1250g") to the front, keeping the order otherwise.
func byProductName(ps []*profile.Profile, in hidscanner.DeviceInfo) []*profile.Profile {
	name := strings.ToLower(in.Manufacturer + " " + in.Product)
	named := func(p *profile.Profile) bool {
		return p.Model != "" && strings.Contains(name, strings.ToLower(p.Model))
	}
	sort.SliceStable(ps, func(i, j int) bool { return named(ps[i]) && !named(ps[j]) })
	return ps
}

// serialProfiles returns the RFID profiles whose match rules name the
// USB-serial bridge vid:pid.
func serialProfiles(ps []*profile.Profile, vid, pid uint16) []*profile.Profile {
	var out []*profile.Profile
	for _, p := range ps {
		if p.Kind != profile.KindRFID {
			continue
		}
		for _, m := range p.Match {
			if m.VID == vid && (m.PID == 0 || m.PID == pid) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func namesPID(p *profile.Profile, pid uint16) bool {
	for _, m := range p.Match {
		if m.PID != 0 && m.PID == pid {
			return true
		}
	}
	return false
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsU16(s []uint16, v uint16) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func containsProfile(s []*profile.Profile, p *profile.Profile) bool {
	for _, x := range s {
		if x == p {
			return true
		}
	}
	return false
}

// libusbNode maps a hidapi-libusb path ("0001:0004:00": bus, address,
// interface, in hex) to the device node libusb opens.
func libusbNode(path string) (string, bool) {
	parts := strings.Split(path, ":")
	if len(parts) != 3 || goruntime.GOOS != "linux" {
		return "", false
	}
	bus, err1 := strconv.ParseUint(parts[0], 16, 16)
	addr, err2 := strconv.ParseUint(parts[1], 16, 16)
	if err1 != nil || err2 != nil || bus == 0 || addr == 0 {
		return "", false
	}
	return fmt.Sprintf("/dev/bus/usb/%03d/%03d", bus, addr), true
}

func hidWhat(page, usage uint16) string {
	switch {
	case page == 0x01 && usage == 0x06:
		return "keyboard"
	case page == 0x01 && usage == 0x02:
		return "mouse"
	case page == 0x8c:
		return "bar code scanner (HID POS)"
	case page == 0x0c:
		return "consumer control"
	case page >= 0xff00:
		return "vendor-defined"
	}
	return ""
}

func hex4(v uint16) string { return fmt.Sprintf("%04x", v) }

func errText(err error) string {
	if errors.Is(err, os.ErrPermission) {
		return "permission denied"
	}
	return err.Error()
}

// deviceHints says what to check when nothing (or nothing useful) was found.
func deviceHints(rep devicesReport) []string {
	var h []string
	matched := false
	for _, e := range rep.HID {
		if len(e.Profiles) > 0 {
			matched = true
		}
	}
	for _, e := range rep.Serial {
		if len(e.Profiles) > 0 {
			matched = true
		}
	}
	if rep.HIDError != "" && strings.Contains(rep.HIDError, "not supported") {
		h = append(h, "This tally was built without USB-HID support (cgo off): rebuild with CGO_ENABLED=1 (make build).")
	}
	usbSerial := 0
	for _, e := range rep.Serial {
		if e.USB {
			usbSerial++
		}
	}
	switch {
	case len(rep.HID) == 0 && usbSerial == 0:
		h = append(h, "No USB scanner or reader is connected that tally can see. Check that it is plugged in and powered (`lsusb` should list it), then run `tally devices` again.")
	case !matched && len(rep.HID) > 0:
		h = append(h, "No connected device matches a built-in profile (`tally profiles` lists them). A keyboard-wedge scanner without a profile works with generic-keyboard-wedge: name that profile with the scanner's serial (or path) from `tally devices --all` in the config, and add a udev rule for its VID and PID.")
	case !matched:
		h = append(h, "No connected device matches a built-in profile (`tally profiles` lists them). RFID readers are usually known by their model, not their USB-serial bridge: name the reader's profile and its port in the config.")
	}
	if goruntime.GOOS == "linux" && (len(rep.HID) == 0 || !matched || len(rep.Hints) > 0) {
		h = append(h, "On Linux tally runs unprivileged: install the udev rules (sudo cp firmware-configs/udev/70-tally.rules /etc/udev/rules.d/ && sudo udevadm control --reload && sudo udevadm trigger), re-plug the device, and make sure the user running tally is in group tally (`id` shows it; log in again after usermod -aG tally USER).")
	}
	if goruntime.GOOS == "windows" {
		h = append(h, "On Windows the system keeps keyboards to itself: a keyboard-wedge scanner cannot be read by tally; switch it to HID POS (its setup sheet: tally sheet PROFILE).")
	}
	return h
}

func writeDevices(w io.Writer, rep devicesReport, all bool) error {
	var b bytes.Buffer
	matched := 0
	for _, e := range rep.HID {
		if len(e.Profiles) > 0 {
			matched++
		}
	}
	switch {
	case rep.HIDError != "":
		fmt.Fprintf(&b, "USB-HID devices: cannot list them: %s\n", rep.HIDError)
	case len(rep.HID) == 0:
		fmt.Fprintf(&b, "USB-HID devices: none found\n")
	default:
		fmt.Fprintf(&b, "USB-HID devices (%d, %d with a profile):\n", len(rep.HID), matched)
	}
	hidden := 0
	for _, e := range rep.HID {
		if len(e.Profiles) == 0 && matched > 0 && !all {
			hidden++
			continue
		}
		fmt.Fprintf(&b, "  %s:%s", e.VID, e.PID)
		if name := strings.TrimSpace(e.Manufacturer + " " + e.Product); name != "" {
			fmt.Fprintf(&b, "  %s", name)
		} else {
			fmt.Fprintf(&b, "  (no name: tally could not open it)")
		}
		fmt.Fprintf(&b, "  interface %d", e.Interface)
		if e.What != "" {
			fmt.Fprintf(&b, "  %s", e.What)
		}
		if e.Serial != "" {
			fmt.Fprintf(&b, "  serial %s", e.Serial)
		}
		fmt.Fprintf(&b, "  at %s", e.Path)
		if e.Node != "" && e.Node != e.Path {
			fmt.Fprintf(&b, " (%s)", e.Node)
		}
		b.WriteByte('\n')
		switch {
		case len(e.Profiles) == 1:
			fmt.Fprintf(&b, "      profile: %s\n", e.Profiles[0])
		case len(e.Profiles) > 1:
			fmt.Fprintf(&b, "      profiles: %s\n", strings.Join(e.Profiles, ", "))
			if len(e.Modes) > 1 {
				fmt.Fprintf(&b, "      (this system does not say which interface mode the scanner is in, so %s profiles all match: pick the one for the mode it is set to)\n",
					strings.Join(e.Modes, " and "))
			} else {
				fmt.Fprintf(&b, "      (these models decode alike: any of them works; the first is the best guess)\n")
			}
		default:
			fmt.Fprintf(&b, "      no profile\n")
		}
		if e.AccessError != "" && len(e.Profiles) > 0 {
			fmt.Fprintf(&b, "      cannot open: %s\n", e.AccessError)
		}
	}
	if hidden > 0 {
		fmt.Fprintf(&b, "  … and %d without a profile (keyboards, mice…): --all lists them\n", hidden)
	}

	switch {
	case rep.SerialError != "":
		fmt.Fprintf(&b, "Serial ports: cannot list them: %s\n", rep.SerialError)
	case len(rep.Serial) == 0:
		fmt.Fprintf(&b, "Serial ports: none found\n")
	default:
		fmt.Fprintf(&b, "Serial ports (%d):\n", len(rep.Serial))
	}
	for _, e := range rep.Serial {
		fmt.Fprintf(&b, "  %s", e.Name)
		if e.USB {
			fmt.Fprintf(&b, "  USB %s:%s", e.VID, e.PID)
			if e.Product != "" {
				fmt.Fprintf(&b, "  %s", e.Product)
			}
			if e.Serial != "" {
				fmt.Fprintf(&b, "  serial %s", e.Serial)
			}
		}
		b.WriteByte('\n')
		if len(e.Profiles) > 0 {
			fmt.Fprintf(&b, "      USB-serial bridge known to: %s (many readers share a bridge chip: choose the profile of the reader's model)\n", strings.Join(e.Profiles, ", "))
		}
	}
	if len(rep.Hints) > 0 {
		b.WriteString("\n")
		for _, h := range rep.Hints {
			fmt.Fprintf(&b, "- %s\n", h)
		}
	}
	if matched > 0 {
		b.WriteString("\nnext: print the setup sheet of a scanner's profile with `tally sheet PROFILE --out sheet.html` and scan it top to bottom\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// ---- tally profiles --------------------------------------------------------

type profileJSON struct {
	Name        string      `json:"name"`
	Kind        string      `json:"kind"`
	Mode        string      `json:"mode"` // scanner: keyboard|hidpos|snapi; RFID: the protocol
	Vendor      string      `json:"vendor"`
	Model       string      `json:"model"`
	Description string      `json:"description,omitempty"`
	Match       []matchJSON `json:"match,omitempty"`
	Port        string      `json:"port,omitempty"`
	Baud        int         `json:"baud,omitempty"`
	TagData     []string    `json:"tag_data,omitempty"`
	Setup       int         `json:"setup_barcodes"`
}

type matchJSON struct {
	VID       string `json:"vid,omitempty"`
	PID       string `json:"pid,omitempty"`
	UsagePage string `json:"usage_page,omitempty"`
}

func profileMode(p *profile.Profile) string {
	if p.Kind == profile.KindRFID {
		return string(p.Protocol)
	}
	return string(p.Mode)
}

func profileMatch(p *profile.Profile) string {
	var s []string
	for _, m := range p.Match {
		r := "any"
		if m.VID != 0 {
			r = hex4(m.VID)
			if m.PID != 0 {
				r += ":" + hex4(m.PID)
			}
		}
		if m.UsagePage != 0 {
			r += " page " + hex4(m.UsagePage)
		}
		s = append(s, r)
	}
	if len(s) == 0 {
		return "— (name it in the config)"
	}
	return strings.Join(s, ", ")
}

func cmdProfiles(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "check" {
		return cmdProfilesCheck(args[1:])
	}
	fs := newFlags("profiles", "[--kind scanner|rfid] [--json] [--config FILE] | check FILE...", `
Lists the device profiles built into tally: one per scanner model and
interface mode, one per RFID reader model. MODE is the scanner's USB mode
(keyboard, hidpos, snapi) or the reader's protocol. MATCH is the USB
VID:PID (and HID usage page) the profile recognises.
Print a scanner's setup sheet with `+"`tally sheet PROFILE`"+`.
`+"`tally profiles check FILE...`"+` checks your own profile files (for the
config's profiles_dir) as strictly as tally checks its own.`)
	kind := fs.String("kind", "", "only scanner or rfid profiles")
	cfgPath := fs.String("config", "", "also list the profiles in this config `file`'s profiles_dir")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	switch profile.Kind(*kind) {
	case "", profile.KindScanner, profile.KindRFID:
	default:
		return fmt.Errorf("--kind %q: want scanner or rfid", *kind)
	}
	ps, err := knownProfiles(*cfgPath)
	if err != nil {
		return err
	}
	var sel []*profile.Profile
	for _, p := range ps {
		if *kind == "" || p.Kind == profile.Kind(*kind) {
			sel = append(sel, p)
		}
	}
	if *asJSON {
		out := make([]profileJSON, 0, len(sel))
		for _, p := range sel {
			j := profileJSON{Name: p.Name, Kind: string(p.Kind), Mode: profileMode(p), Vendor: p.Vendor, Model: p.Model,
				Description: p.Description, Setup: len(p.Setup)}
			for _, m := range p.Match {
				mj := matchJSON{}
				if m.VID != 0 {
					mj.VID = hex4(m.VID)
				}
				if m.PID != 0 {
					mj.PID = hex4(m.PID)
				}
				if m.UsagePage != 0 {
					mj.UsagePage = hex4(m.UsagePage)
				}
				j.Match = append(j.Match, mj)
			}
			if p.Kind == profile.KindRFID {
				j.Port, j.Baud = p.Serial.Port, p.Serial.Baud
				for _, t := range p.TagData {
					j.TagData = append(j.TagData, string(t))
				}
			}
			out = append(out, j)
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tMODE\tMODEL\tMATCH")
	for _, p := range sel {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\n", p.Name, p.Kind, profileMode(p), p.Vendor, p.Model, profileMatch(p))
	}
	return tw.Flush()
}

// ---- tally sheet -----------------------------------------------------------

// cmdProfilesCheck checks profile files: the strict loader (an unknown key
// or a bad value is FILE:LINE: field: what), then what the runtime's
// factory would refuse.
func cmdProfilesCheck(args []string) error {
	fs := newFlags("profiles check", "FILE...", `
Checks profile files written for the config's profiles_dir: every key known,
every value one the hardware can take, the name equal to the file name, and
the profile one the runtime accepts. Each problem is printed as
FILE:LINE: field: what is wrong.`)
	if err := parseArgs(fs, args, -1); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("name the profile files to check, e.g. `tally profiles check /etc/tally/profiles/acme-scanner.yaml`")
	}
	builtin, err := profile.Builtin()
	if err != nil {
		return fmt.Errorf("built-in profiles: %w", err)
	}
	bad := 0
	for _, path := range fs.Args() {
		p, err := checkProfileFile(builtin, path)
		if err != nil {
			bad++
			fmt.Fprintln(stdout, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok: %s, %s %s\n", path, p.Name, p, p.Kind)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d profile files have problems (see above)", bad, fs.NArg())
	}
	return nil
}

// checkProfileFile loads a profile file and builds the runtime's factory
// for a device using it, without opening anything.
func checkProfileFile(builtin []*profile.Profile, path string) (*profile.Profile, error) {
	p, err := profile.LoadFile(path)
	if err != nil {
		return nil, err
	}
	if b, err := profile.Find(builtin, p.Name); err == nil {
		return nil, &profile.FieldError{File: path, Line: profile.KeyLine(path, "name"), Field: "name",
			Msg: fmt.Sprintf("%q is a built-in profile (%s); give yours another name", p.Name, b)}
	}
	dc := agent.DeviceConfig{Name: "check", Profile: p.Name}
	if p.Kind == profile.KindRFID && (p.Serial.Port == "" || strings.ContainsAny(p.Serial.Port, "*?[")) {
		dc.Port = "/dev/ttyUSB0" // the config names the port; the profile need not
	}
	if _, err := agent.DeviceSpecs(&agent.Config{Devices: []agent.DeviceConfig{dc}}, []*profile.Profile{p}); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// knownProfiles is the built-in profiles, and with a config file those in
// its profiles_dir too.
func knownProfiles(configPath string) ([]*profile.Profile, error) {
	if configPath == "" {
		ps, err := profile.Builtin()
		if err != nil {
			return nil, fmt.Errorf("built-in profiles: %w", err)
		}
		return ps, nil
	}
	cfg, err := agent.LoadConfig(configPath)
	if err != nil {
		return nil, err
	}
	return agent.Profiles(cfg)
}

// sheetProfile is the profile `tally sheet` prints: a profile file when arg
// names one, else the built-in profile called arg.
func sheetProfile(ps []*profile.Profile, arg string) (*profile.Profile, error) {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.ContainsRune(arg, os.PathSeparator) {
		if _, err := os.Stat(arg); err == nil {
			return profile.LoadFile(arg)
		}
	}
	return profile.Find(ps, arg)
}

func cmdSheet(ctx context.Context, args []string) error {
	if isControlSheet(args) {
		return cmdSheetControl(ctx, args) // sheet_control.go
	}
	fs := newFlags("sheet", "PROFILE|FILE [--out FILE] [--config FILE]", `
Writes the setup sheet of a profile as a printable HTML page: the settings to
scan, in order, each as a Code 128 barcode, with what it does and why. Open
it in a browser and print it at 100% scale, then scan the barcodes top to
bottom. `+"`tally profiles`"+` lists the profile names; `+"`tally devices`"+` shows
which ones match the scanner plugged in. A profile file of your own
(FILE.yaml) works too.`)
	out := fs.String("out", "", "write to this `file` (atomically) instead of stdout")
	cfgPath := fs.String("config", "", "also find PROFILE in this config `file`'s profiles_dir")
	if err := parseArgs(fs, args, -1); err != nil {
		return err
	}
	names := fs.Args()
	ps, err := knownProfiles(*cfgPath)
	if err != nil {
		return err
	}
	if len(names) != 1 {
		fs.Usage()
		var known []string
		example := ""
		for _, p := range ps {
			if p.Kind == profile.KindScanner {
				known = append(known, p.Name)
				if example == "" && len(p.Setup) > 0 {
					example = p.Name
				}
			}
		}
		return fmt.Errorf("name one profile, e.g. `tally sheet %s`; scanner profiles: %s", example, strings.Join(known, ", "))
	}
	p, err := sheetProfile(ps, names[0])
	if err != nil {
		return err
	}
	if p.Kind != profile.KindScanner {
		var sc []string
		for _, q := range ps {
			if q.Kind == profile.KindScanner {
				sc = append(sc, q.Name)
			}
		}
		return fmt.Errorf("%s is an RFID reader profile: setup sheets are for barcode scanners (tally sends a reader its settings itself when it connects); scanner profiles: %s",
			p.Name, strings.Join(sc, ", "))
	}
	var b bytes.Buffer
	if err := p.Sheet(&b); err != nil {
		return fmt.Errorf("sheet for %s: %w", p.Name, err)
	}
	if *out == "" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	if err := writeAtomic(*out, b.Bytes()); err != nil {
		return fmt.Errorf("write the sheet: %w", err)
	}
	n := len(p.Setup)
	switch {
	case n == 0:
		fmt.Fprintf(stdout, "wrote %s: no barcodes for %s yet; the page says how to set it up with the vendor's guide\n", *out, p.Name)
	default:
		fmt.Fprintf(stdout, "wrote %s: %d barcodes for %s; print it at 100%% scale and scan them top to bottom\n", *out, n, p)
	}
	return nil
}
