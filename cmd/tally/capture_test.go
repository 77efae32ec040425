package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/sim"
	"github.com/tally-inventory/tally/drivers/tagdata"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// readLines keeps the lines that report a read, without their time.
func readLines(out string) []string {
	re := regexp.MustCompile(`^\+\d+\.\d{3}  (.*)$`)
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			lines = append(lines, m[1])
		}
	}
	return lines
}

// Replaying a transcript through the CLI prints each read the driver,
// dedupe and tag decoder make of it.
func TestReplayPrintsReads(t *testing.T) {
	for _, tc := range []struct {
		file string
		args []string
		want []string
	}{
		{"keyboard-wedge.txt", []string{"--speed", "0"}, []string{"read      30234000517861"}},
		// Paced at five times the recorded speed, dedupe sees the
		// transcript's gaps: a repeat 0.1 s later is dropped, the same tag
		// 5 s later passes again, a frame with a bad checksum is no read.
		{"rdm6300.txt", []string{"--speed", "5"}, []string{
			"read      13005D1DA5  symbology EM4100  tag 13005D1DA5",
			"repeat    13005D1DA5  symbology EM4100  tag 13005D1DA5",
			"read      0102030405  symbology EM4100  tag 0102030405",
			"read      13005D1DA5  symbology EM4100  tag 13005D1DA5",
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out := tally(t, "", append([]string{"replay", filepath.Join("testdata", "replay", tc.file)}, tc.args...)...)
			if got := readLines(out); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("reads:\n%s\nwant:\n%s\n\nfull output:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), out)
			}
			if !strings.Contains(out, "transcript played to the end") {
				t.Errorf("no verdict:\n%s", out)
			}
		})
	}
}

// Paced, a scanner idle for longer than --stall is not taken for a stuck
// driver: the next report is simply not due yet.
func TestReplayPacedIdleIsNoStall(t *testing.T) {
	f := filepath.Join(t.TempDir(), "idle.txt")
	os.WriteFile(f, []byte("tally-transcript 1\nprofile generic-keyboard-wedge\n"+
		"< +0.000 00 00 1E 00 00 00 00 00\n< +0.010 00 00 28 00 00 00 00 00\n"+
		"< +8.000 00 00 1F 00 00 00 00 00\n< +8.010 00 00 28 00 00 00 00 00\n"), 0o644)
	out := tally(t, "", "replay", f, "--speed", "2", "--stall", "2s")
	if got := readLines(out); len(got) != 2 || got[0] != "read      1" || got[1] != "read      2" {
		t.Errorf("reads %q\n%s", got, out)
	}
}

// The FEIG manual's Annex F reply, played through the FEIG driver, comes
// out as tag memory in block order. The annex's tag has three blocks, so
// the reader's profile (a school's own, as a file or in the config's
// profiles_dir) reads three.
func TestReplayFEIGAnnexF(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "firmware-configs", "rfid", "feig-id-isc-mr101.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prof := strings.Replace(string(data), "name: feig-id-isc-mr101", "name: feig-annex-f\nblocks: 3", 1)
	file := filepath.Join(t.TempDir(), "feig-annex-f.yaml")
	os.WriteFile(file, []byte(prof), 0o644)
	want := "read      E00700000147677E  symbology ISO15693  tag E00700000147677E  data 01 02 03 04 11 12 13 14 21 22 23 24"
	out := tally(t, "", "replay", "--speed", "0", "--profile", file, filepath.Join("testdata", "replay", "feig-annex-f.txt"))
	if got := readLines(out); len(got) != 1 || got[0] != want {
		t.Errorf("reads %q, want %q\n%s", got, want, out)
	}
	// The same profile by name, from the profiles_dir of a config.
	cfg := filepath.Join(t.TempDir(), "tally.yaml")
	os.WriteFile(cfg, []byte("profiles_dir: "+filepath.Dir(file)+"\n"), 0o644)
	out = tally(t, "", "replay", "--speed", "0", "--config", cfg, "--profile", "feig-annex-f", filepath.Join("testdata", "replay", "feig-annex-f.txt"))
	if got := readLines(out); len(got) != 1 || got[0] != want {
		t.Errorf("with --config: reads %q, want %q\n%s", got, want, out)
	}
}

// A driver that writes something else than the transcript fails the
// replay, naming the transcript line: here the annex transcript's
// 3-block read, where the driver asks for 28.
func TestReplayMismatchNamesTheLine(t *testing.T) {
	_, errs := tallyFail(t, "", "replay", "--speed", "0", filepath.Join("testdata", "replay", "feig-annex-f.txt"))
	if !strings.Contains(errs, "feig-annex-f.txt:22: driver wrote 11 FF B0 23 01 E0 07 00 00 01 47 67 7E 00 1C 78 17, transcript has 11 FF B0 23 01 E0 07 00 00 01 47 67 7E 00 03 0E FF") {
		t.Errorf("error output:\n%s", errs)
	}
	// Bytes the driver never asked for are an error too.
	dir := t.TempDir()
	f := filepath.Join(dir, "extra.txt")
	data, _ := os.ReadFile(filepath.Join("testdata", "replay", "keyboard-wedge.txt"))
	os.WriteFile(f, append(data, "> 01 02\n"...), 0o644)
	_, errs = tallyFail(t, "", "replay", "--speed", "0", "--stall", "1s", f)
	if !strings.Contains(errs, "extra.txt:40: 1 of 31 events not played; next the transcript has a write: 01 02") {
		t.Errorf("error output:\n%s", errs)
	}
	_, errs = tallyFail(t, "", "replay", filepath.Join("testdata", "replay", "nosuch.txt"))
	if !strings.Contains(errs, "no such file") {
		t.Errorf("missing file: %s", errs)
	}
}

// With a database and a session, replayed reads are decided by the engine.
func TestReplayIntoSession(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "tally.db")
	csv := filepath.Join(dir, "collection.csv")
	os.WriteFile(csv, []byte(tally(t, "", "sample", "collection", "--books", "50")), 0o644)
	tally(t, "", "import", "--db", db, csv)
	tally(t, "", "inventory", "create", "--db", db, "--name", "all")
	tally(t, "", "session", "start", "--db", db, "--inventory", "1", "--operator", "replay")
	// The first item of the collection, typed by a keyboard-wedge scanner.
	first := strings.SplitN(strings.Split(tally(t, "", "sample", "collection", "--books", "50"), "\n")[1], ",", 2)[0]
	reports, err := hidscanner.KeyboardReports(first+"\r", "us")
	if err != nil {
		t.Fatal(err)
	}
	tr := &transcript.Transcript{Header: transcript.Header{Profile: "generic-keyboard-wedge"}}
	for _, r := range reports {
		tr.Events = append(tr.Events, transcript.Event{Dir: transcript.Read, Data: append([]byte(nil), r[:]...)})
	}
	var b bytes.Buffer
	tr.WriteTo(&b)
	f := filepath.Join(dir, "scan.txt")
	os.WriteFile(f, b.Bytes(), 0o644)
	out := tally(t, "", "replay", f, "--speed", "0", "--db", db, "--session", "1")
	got := readLines(out)
	if len(got) != 1 || !strings.HasPrefix(got[0], "OK ") || !strings.Contains(got[0], first) || !regexp.MustCompile(`\[1/\d+\]$`).MatchString(got[0]) {
		t.Fatalf("reads %q\n%s", got, out)
	}
	// It is in the journal: scanning it again is a duplicate.
	if again := tally(t, first+"\n", "scan", "--db", db, "--session", "1"); !strings.HasPrefix(again, "DUPLICATE") {
		t.Errorf("scan after replay: %s", again)
	}
}

// tally capture records a reader over a real pty (the simulator on the
// far side); replaying the recording gives the same reads.
func TestCaptureThenReplay(t *testing.T) {
	blocks, err := tagdata.Encode28560_3(tagdata.Tag3{TypeOfUsage: 1, ID: "30234000517861", Owner: "US-CA-0042"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		profile string
		serve   func(rw *os.File) func(context.Context) error
	}{
		{"feig-id-isc-mr101", func(rw *os.File) func(context.Context) error {
			tags := []sim.Tag{
				{UID: []byte{0xE0, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0x78}, Blocks: blocks, BlockSize: 4},
				{UID: []byte{0xE0, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0x79}, Blocks: make([]byte, 32), BlockSize: 4},
			}
			return sim.NewFEIG(rw, sim.FEIGOpts{Tags: tags}).Serve
		}},
		{"chafon-uhfreader288", func(rw *os.File) func(context.Context) error {
			field := sim.NewPopulation(sim.CartTags(3, 4), 1)
			field.EnterAll()
			return sim.NewChafon(rw, sim.ChafonOpts{Field: field, Type: 0x0C}).Serve
		}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			pty, err := sim.OpenPty()
			if err != nil {
				t.Fatal(err)
			}
			defer pty.Close()
			done := make(chan struct{})
			go func() { defer close(done); tc.serve(pty.Master)(ctx) }()
			defer func() { cancel(); pty.Close(); <-done }()

			file := filepath.Join(t.TempDir(), "capture.txt")
			var out, errb bytes.Buffer
			if code := runMain(ctx, []string{"capture", "--profile", tc.profile, "--port", pty.Path, "--out", file, "--reads", "6"}, &out, &errb); code != 0 {
				t.Fatalf("capture: exit %d\n%s\n%s", code, out.String(), errb.String())
			}
			captured := readLines(out.String())
			if len(captured) < 6 || !strings.Contains(out.String(), "recorded ") {
				t.Fatalf("capture printed:\n%s", out.String())
			}
			tr, err := transcript.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Profile != tc.profile || !strings.HasPrefix(tr.Device, "serial "+pty.Path) || len(tr.Events) < 4 {
				t.Fatalf("transcript header %+v, %d events", tr.Header, len(tr.Events))
			}
			replayed := readLines(tally(t, "", "replay", "--speed", "0", file))
			// First sights must match in order and decoding. Which re-reads
			// dedupe lets through as "repeat" depends on times kept to the
			// millisecond in the transcript, so those lines are not compared.
			firstCap, firstRep := firstSights(captured), firstSights(replayed)
			if len(firstCap) == 0 || len(firstRep) < len(firstCap) || strings.Join(firstRep[:len(firstCap)], "\n") != strings.Join(firstCap, "\n") {
				t.Fatalf("replayed reads:\n%s\ncaptured:\n%s", strings.Join(replayed, "\n"), strings.Join(captured, "\n"))
			}
			t.Logf("captured %d reads, replayed %d:\n%s", len(captured), len(replayed), strings.Join(replayed, "\n"))
			if tc.profile == "feig-id-isc-mr101" && !strings.Contains(strings.Join(captured, "\n"), "read      30234000517861  symbology ISO15693  tag E004010012345678  model iso28560-3") {
				t.Errorf("the library tag did not decode:\n%s", strings.Join(captured, "\n"))
			}
		})
	}
}

// firstSights keeps the "read" lines of capture or replay output: the
// first sight of each tag, as opposed to dedupe's "repeat" lines.
func firstSights(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, "read ") {
			out = append(out, l)
		}
	}
	return out
}

// oneHIDBus is a HID bus with one plugged-in device.
type oneHIDBus struct {
	info hidscanner.DeviceInfo
	dev  hidscanner.Device
}

func (b oneHIDBus) Enumerate(vid, pid uint16) ([]hidscanner.DeviceInfo, error) {
	return []hidscanner.DeviceInfo{b.info}, nil
}

func (b oneHIDBus) Open(hidscanner.DeviceInfo) (hidscanner.Device, error) { return b.dev, nil }

// A HID POS scanner captured through the HID bus: the feature report the
// driver sends at open and every input report land in the transcript, and
// the replay reads the same codes.
func TestCaptureHID(t *testing.T) {
	var evs []transcript.Event
	evs = append(evs, transcript.Event{Dir: transcript.Feature, Data: []byte{0xFE, 0x01}})
	for _, code := range []string{"30234000517861", "9780306406157"} {
		rs, err := hidscanner.POSReports("]F0", []byte(code), hidscanner.VendorHoneywell)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, transcript.Reads(rs...)...)
	}
	scanner := transcript.Events(t.Name(), transcript.Silent, evs...)
	captureBus = oneHIDBus{info: hidscanner.DeviceInfo{Path: "1-1.2:1.1", VID: 0x0c2e, PID: 0x0b61, UsagePage: 0x8c, Interface: 1}, dev: scanner}
	defer func() { captureBus = hidscanner.HIDBus{} }()

	file := filepath.Join(t.TempDir(), "hid.txt")
	out := tally(t, "", "capture", "--profile", "honeywell-voyager-1250g-hidpos", "--hid", "1-1.2:1.1", "--out", file, "--reads", "2")
	want := []string{"read      30234000517861  symbology ]F0", "read      9780306406157  symbology ]F0"}
	if got := readLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("capture printed:\n%s", out)
	}
	if err := scanner.Err(); err != nil {
		t.Errorf("the scanner's reports were not all read: %v", err)
	}
	tr, err := transcript.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Device != "hid 1-1.2:1.1 0c2e:0b61 interface 1" || len(tr.Events) != len(evs) || tr.Events[0].Dir != transcript.Feature {
		t.Fatalf("transcript %+v with %d events, want %d", tr.Header, len(tr.Events), len(evs))
	}
	if got := readLines(tally(t, "", "replay", "--speed", "0", file)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("replayed:\n%s", strings.Join(got, "\n"))
	}
}

// A scanner unplugged during a capture: the error is recorded, the capture
// ends with what it read, and the replay says the device failed there.
func TestCaptureDeviceGone(t *testing.T) {
	rs, err := hidscanner.KeyboardReports("12345\r", "us")
	if err != nil {
		t.Fatal(err)
	}
	var evs []transcript.Event
	for _, r := range rs {
		evs = append(evs, transcript.Event{Dir: transcript.Read, Data: append([]byte(nil), r[:]...)})
	}
	evs = append(evs, transcript.Event{Dir: transcript.Fail, Err: "hidapi: LIBUSB_ERROR_NO_DEVICE"})
	captureBus = oneHIDBus{info: hidscanner.DeviceInfo{Path: "1-1.4:1.0"}, dev: transcript.Play(t, transcript.Silent, evs...)}
	defer func() { captureBus = hidscanner.HIDBus{} }()

	file := filepath.Join(t.TempDir(), "gone.txt")
	out := tally(t, "", "capture", "--profile", "generic-keyboard-wedge", "--hid", "1-1.4:1.0", "--out", file)
	if got := readLines(out); len(got) != 1 || got[0] != "read      12345" || !strings.Contains(out, "LIBUSB_ERROR_NO_DEVICE") {
		t.Fatalf("capture printed:\n%s", out)
	}
	tr, err := transcript.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	last := tr.Events[len(tr.Events)-1]
	if last.Dir != transcript.Fail || last.Err != "hidapi: LIBUSB_ERROR_NO_DEVICE" {
		t.Fatalf("last event %+v", last)
	}
	out = tally(t, "", "replay", "--speed", "0", file)
	if got := readLines(out); len(got) != 1 || got[0] != "read      12345" ||
		!strings.Contains(out, fmt.Sprintf("device failed at %s:%d, as recorded: hidapi: LIBUSB_ERROR_NO_DEVICE", file, last.Line)) {
		t.Errorf("replay printed:\n%s", out)
	}
}
