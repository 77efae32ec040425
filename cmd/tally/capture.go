package main

// Field captures: `tally capture` records the bytes between tally and a
// real scanner or reader into a transcript; `tally replay` plays one back
// through the same driver, dedupe and tag-data stages. A capture attached
// to a bug report becomes a regression test.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.bug.st/serial"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/dedupe"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	"github.com/tally-inventory/tally/drivers/transcript"
)

func init() {
	register("capture", "record every byte to and from a scanner or reader into a transcript file", cmdCapture)
	register("replay", "play a transcript through the driver, dedupe and tag decoding, and print each read", cmdReplay)
}

// ---- tally capture ----------------------------------------------------------

func cmdCapture(ctx context.Context, args []string) error {
	fs := newFlags("capture", "--profile NAME (--port DEV | --hid PATH) [flags]", `
Drives a scanner or RFID reader with its profile, exactly as `+"`tally run`"+` would,
prints each read, and records every byte both ways (serial frames, HID
reports, HID feature reports), with times, into a transcript file. Stop with
Ctrl-C, --for or --reads. Attach the file to a bug report: it is readable
text, holds no catalog or patron data beyond what the device sent, and
`+"`tally replay FILE`"+` plays it back.

  tally capture --profile feig-id-isc-mr101 --port /dev/ttyUSB0 --for 30s
  tally capture --profile honeywell-voyager-1250g-hidpos --hid 1-1.2:1.1`)
	prof := fs.String("profile", "", "profile `name` (see `tally profiles`), or a profile file")
	port := fs.String("port", "", "serial `device` of an RFID reader, e.g. /dev/ttyUSB0")
	hid := fs.String("hid", "", "HID `path` of a scanner, as `tally devices` lists it")
	baud := fs.Int("baud", 0, "serial speed; 0 takes the profile's")
	out := fs.String("out", "", "transcript `file` to write (default capture-PROFILE-TIME.txt)")
	dur := fs.Duration("for", 0, "stop after this long (0: until Ctrl-C)")
	maxReads := fs.Int("reads", 0, "stop after this many reads (0: no limit)")
	config := fs.String("config", "", "config `file` whose profiles_dir holds your own profiles")
	note := fs.String("note", "", "a note for the transcript header, e.g. the tag or firmware")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	if *prof == "" {
		return errors.New("--profile is required (`tally profiles` lists them)")
	}
	p, err := findProfile(*prof, *config)
	if err != nil {
		return err
	}
	dc := agent.DeviceConfig{Name: "capture", Profile: p.Name, DeviceConfig: readers.DeviceConfig{Baud: *baud}}
	switch {
	case p.Kind == profile.KindScanner && *hid == "":
		return fmt.Errorf("profile %s is a scanner: give --hid PATH (`tally devices` lists the paths)", p.Name)
	case p.Kind == profile.KindRFID && *port == "":
		return fmt.Errorf("profile %s is a serial reader: give --port DEV, e.g. /dev/ttyUSB0", p.Name)
	case *hid != "" && *port != "":
		return errors.New("give --port or --hid, not both")
	}
	dc.Port, dc.Path = *port, *hid

	name := *out
	if name == "" {
		name = fmt.Sprintf("capture-%s-%s.txt", p.Name, time.Now().UTC().Format("20060102-150405"))
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("transcript: %w (choose another --out)", err)
	}
	defer f.Close()
	head := transcript.Header{
		Profile:  p.Name,
		Source:   []string{fmt.Sprintf("tally capture %s %s", version, revision)},
		Recorded: time.Now().UTC().Format(time.RFC3339),
	}
	if *note != "" {
		head.Notes = []string{*note}
	}
	var rec *transcript.Record
	record := func(dev io.ReadWriteCloser, what string) (*transcript.Record, error) {
		h := head
		h.Device = what
		r, err := transcript.NewRecord(dev, f, h)
		if err != nil {
			dev.Close()
			return nil, fmt.Errorf("transcript %s: %w", name, err)
		}
		rec = r
		return r, nil
	}
	env := agent.OpenEnv{
		Serial: func(path string, line profile.Serial) (io.ReadWriteCloser, error) {
			sp, err := openSerial(path, line)
			if err != nil {
				return nil, err
			}
			return record(sp, fmt.Sprintf("serial %s %d %d%s%d", path, line.Baud, line.DataBits, strings.ToUpper(string(line.Parity[:1])), line.StopBits))
		},
		HID: recordingBus{bus: captureBus, record: func(d hidscanner.Device, info hidscanner.DeviceInfo) (hidscanner.Device, error) {
			return record(d, fmt.Sprintf("hid %s %04x:%04x interface %d", info.Path, info.VID, info.PID, info.Interface))
		}},
	}
	spec, err := oneSpec(dc, p, env)
	if err != nil {
		os.Remove(name)
		return err
	}
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	r, err := spec.Open(ctx)
	if err != nil {
		os.Remove(name)
		return err
	}
	reads := make(chan drivers.Read, 64)
	if err := r.Start(ctx, reads); err != nil {
		r.Stop()
		return fmt.Errorf("%w (what was sent is in %s)", err, name)
	}
	fmt.Fprintf(stdout, "recording %s with profile %s into %s; Ctrl-C stops\n", *port+*hid, p.Name, name)
	pr := newReadPrinter(stdout, spec, nil, 0, time.Now)
	start := time.Now()
	pr.at = func() time.Duration { return time.Since(start) }
	var devErr error
	n := 0
loop:
	for {
		select {
		case rd := <-reads:
			n++
			if err := pr.read(ctx, rd); err != nil {
				return err
			}
			if *maxReads > 0 && n >= *maxReads {
				break loop
			}
		case err, ok := <-r.Err():
			if ok {
				devErr = err
			}
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	drainStop(r, reads, pr)
	if devErr != nil {
		fmt.Fprintf(stdout, "device: %v\n", devErr)
	}
	if rec != nil {
		if err := rec.Err(); err != nil {
			return fmt.Errorf("transcript %s: %w", name, err)
		}
		fmt.Fprintf(stdout, "recorded %d writes, %d reads, %d feature reports, %d reads decoded, to %s\n",
			rec.Count(transcript.Write), rec.Count(transcript.Read), rec.Count(transcript.Feature), pr.reads, name)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "check it with `tally replay %s`, then attach the file to your report\n", name)
	return nil
}

// findProfile is the profile capture and replay drive a device with: a
// profile file when arg names one, else a built-in profile or, with a
// config, one in its profiles_dir.
func findProfile(arg, configPath string) (*profile.Profile, error) {
	ps, err := knownProfiles(configPath)
	if err != nil {
		return nil, err
	}
	return sheetProfile(ps, arg)
}

// captureBus is the HID bus capture records from; tests plug a fake one.
var captureBus hidscanner.Enumerator = hidscanner.HIDBus{}

// openSerial opens a real serial port with the profile's line settings.
func openSerial(path string, line profile.Serial) (io.ReadWriteCloser, error) {
	mode := &serial.Mode{BaudRate: line.Baud, DataBits: line.DataBits, Parity: serial.NoParity, StopBits: serial.OneStopBit}
	switch line.Parity {
	case profile.ParityEven:
		mode.Parity = serial.EvenParity
	case profile.ParityOdd:
		mode.Parity = serial.OddParity
	}
	if line.StopBits == 2 {
		mode.StopBits = serial.TwoStopBits
	}
	if mode.DataBits == 0 {
		mode.DataBits = 8
	}
	p, err := serial.Open(path, mode)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	_ = p.ResetInputBuffer()
	return p, nil
}

// recordingBus is the real HID bus with every opened device recorded.
type recordingBus struct {
	bus    hidscanner.Enumerator
	record func(hidscanner.Device, hidscanner.DeviceInfo) (hidscanner.Device, error)
}

func (b recordingBus) Enumerate(vid, pid uint16) ([]hidscanner.DeviceInfo, error) {
	return b.bus.Enumerate(vid, pid)
}

func (b recordingBus) Open(info hidscanner.DeviceInfo) (hidscanner.Device, error) {
	d, err := b.bus.Open(info)
	if err != nil {
		return nil, err
	}
	return b.record(d, info)
}

// oneSpec builds the runtime's spec for one device through env.
func oneSpec(dc agent.DeviceConfig, p *profile.Profile, env agent.OpenEnv) (engine.DeviceSpec, error) {
	specs, err := agent.DeviceSpecsEnv(&agent.Config{Devices: []agent.DeviceConfig{dc}}, []*profile.Profile{p}, env)
	if err != nil {
		return engine.DeviceSpec{}, err
	}
	return specs[0], nil
}

// readPrinter takes reads through the runtime's stages after the driver
// (dedupe for RFID, the tag decoder, and with an engine the session) and
// prints each with its outcome.
type readPrinter struct {
	w      io.Writer
	spec   engine.DeviceSpec
	filter *dedupe.Filter
	e      *engine.Engine
	sid    int64
	at     func() time.Duration
	reads  int // from the driver
	passed int // through dedupe
}

func newReadPrinter(w io.Writer, spec engine.DeviceSpec, e *engine.Engine, sid int64, now func() time.Time) *readPrinter {
	pr := &readPrinter{w: w, spec: spec, e: e, sid: sid}
	if spec.Kind == drivers.KindRFID {
		pr.filter = dedupe.New(time.Duration(agent.DefaultConfig().DedupeWindow))
		pr.filter.Now = now
	}
	return pr
}

func (pr *readPrinter) read(ctx context.Context, rd drivers.Read) error {
	pr.reads++
	at := fmtOffset(pr.at())
	if pr.filter != nil && !pr.filter.Pass(rd) {
		fmt.Fprintf(pr.w, "%s  %-9s %s\n", at, "repeat", describeRead(rd))
		return nil
	}
	pr.passed++
	if pr.spec.Normalize != nil {
		rd = pr.spec.Normalize(rd)
	}
	if pr.e == nil {
		fmt.Fprintf(pr.w, "%s  %-9s %s\n", at, "read", describeRead(rd))
		return nil
	}
	res, err := pr.e.Submit(ctx, pr.sid, rd)
	if err != nil {
		fmt.Fprintf(pr.w, "%s  %-9s %s: %v\n", at, "refused", describeRead(rd), err)
		return nil
	}
	fmt.Fprintf(pr.w, "%s  %s\n", at, scanText(res))
	return nil
}

// describeRead says what the driver and tag decoder made of a read: the
// code, the tag and its data model, and the tag data as read.
func describeRead(rd drivers.Read) string {
	var b strings.Builder
	b.WriteString(rd.Code)
	if rd.Symbology != "" {
		fmt.Fprintf(&b, "  symbology %s", rd.Symbology)
	}
	if rd.TagUID != "" {
		fmt.Fprintf(&b, "  tag %s", rd.TagUID)
	}
	if rd.TagModel != "" {
		fmt.Fprintf(&b, "  model %s", rd.TagModel)
	}
	if rd.Antenna != 0 {
		fmt.Fprintf(&b, "  antenna %d", rd.Antenna)
	}
	if rd.Kind == drivers.KindRFID && len(rd.Raw) > 0 && drivers.HexUpper(rd.Raw) != rd.TagUID {
		fmt.Fprintf(&b, "  data % X", rd.Raw)
	}
	return b.String()
}

func fmtOffset(d time.Duration) string {
	return fmt.Sprintf("+%d.%03d", d/time.Second, d%time.Second/time.Millisecond)
}
