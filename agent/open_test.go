package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/sim"
	"github.com/tally-inventory/tally/drivers/tagdata"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// hidBus is a fake USB-HID bus for the factory: the devices plugged in
// before the factory runs, each playing its transcript (input reports,
// and the feature reports and ACKs the driver must send).
type hidBus struct {
	mu   sync.Mutex
	devs map[string]*transcript.Playback
	info []hidscanner.DeviceInfo
}

func (b *hidBus) plug(info hidscanner.DeviceInfo, evs []transcript.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.devs == nil {
		b.devs = map[string]*transcript.Playback{}
	}
	b.info = append(b.info, info)
	b.devs[info.Path] = transcript.Events(info.Path, transcript.Silent, evs...)
}

func (b *hidBus) Enumerate(vid, pid uint16) ([]hidscanner.DeviceInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []hidscanner.DeviceInfo
	for _, i := range b.info {
		if (vid == 0 || i.VID == vid) && (pid == 0 || i.PID == pid) {
			out = append(out, i)
		}
	}
	return out, nil
}

func (b *hidBus) Open(info hidscanner.DeviceInfo) (hidscanner.Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.devs[info.Path]
	if !ok {
		return nil, fmt.Errorf("no device at %s", info.Path)
	}
	return d, nil
}

// libraryCode is a 14-digit Codabar library barcode, what the scanners read.
const libraryCode = "31234000123456"

// scannerEvents is what a scanner set up as p says exchanges with tally
// for one scan of libraryCode: keyboard reports ending in its terminator;
// for HID POS, the feature report that turns a Honeywell's reports on,
// then reports in its vendor's layout; SNAPI reports, each answered by the
// driver's ACK.
func scannerEvents(t *testing.T, p *profile.Profile) []transcript.Event {
	t.Helper()
	var out []transcript.Event
	switch p.Mode {
	case profile.ModeKeyboard:
		suffix := "\r"
		if p.Decode.Terminator == profile.TermTab {
			suffix = "\t"
		}
		layout := string(p.Decode.Layout)
		reps, err := hidscanner.KeyboardReports(libraryCode+suffix, layout)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			out = append(out, transcript.Reads(append([]byte(nil), r[:]...))...)
		}
	case profile.ModeHIDPOS:
		vendor := hidscanner.VendorHoneywell
		if strings.Contains(strings.ToLower(p.Vendor), "zebra") {
			vendor = hidscanner.VendorZebra
		} else {
			out = append(out, transcript.Event{Dir: transcript.Feature, Data: []byte{0xFE, 0x01}})
		}
		reps, err := hidscanner.POSReports("]F0", []byte(libraryCode), vendor)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, transcript.Reads(reps...)...)
	case profile.ModeSNAPI:
		for _, r := range hidscanner.SNAPIReports(0x02, []byte(libraryCode)) { // 0x02: Codabar
			out = append(out, transcript.Event{Dir: transcript.Read, Data: r}, transcript.Event{Dir: transcript.Write, Data: []byte{0x00, 0x01, r[0], 0x01, 0x00}})
		}
	default:
		t.Fatalf("%s: mode %q", p.Name, p.Mode)
	}
	return out
}

// hidInfo is how a scanner the profile matches shows up on the bus.
func hidInfo(p *profile.Profile, path string) hidscanner.DeviceInfo {
	info := hidscanner.DeviceInfo{Path: path, VID: 0x1234, PID: 0x0001, Product: p.Model}
	if len(p.Match) > 0 {
		m := p.Match[0]
		if m.VID != 0 {
			info.VID = m.VID
		}
		if m.PID != 0 {
			info.PID = m.PID
		} else {
			info.PID = 0x0b61
		}
		if m.Interface >= 0 {
			info.Interface = m.Interface
		}
	}
	return info
}

// firstRead starts r and returns its first Read, stopping r after.
func firstRead(t *testing.T, ctx context.Context, r drivers.Reader) drivers.Read {
	t.Helper()
	out := make(chan drivers.Read, 64)
	if err := r.Start(ctx, out); err != nil {
		t.Fatalf("start: %v", err)
	}
	defer r.Stop()
	select {
	case rd := <-out:
		return rd
	case err := <-r.Err():
		t.Fatalf("reader ended before a read: %v", err)
	case <-ctx.Done():
		t.Fatalf("no read: %v", ctx.Err())
	}
	return drivers.Read{}
}

// sgtinExample is the GS1 EPC Tag Data Standard's SGTIN-96 example
// (TDS 2.1, §14.5.1 and Appendix E: urn:epc:tag:sgtin-96:3.0614141.812345.6789).
var sgtinExample = []byte{0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85}

// readerSim serves a simulated reader of p's protocol on a fresh pty and
// returns the pty path and the tag identifier (TagUID) it will report.
func readerSim(t *testing.T, ctx context.Context, p *profile.Profile) (port, uid string) {
	t.Helper()
	pty, err := sim.OpenPty()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pty.Close() })
	var serve func(context.Context) error
	switch p.Protocol {
	case profile.ProtoChafon:
		field := sim.NewPopulation([]sim.Tag{{EPC: sgtinExample}}, 1)
		field.EnterAll()
		typ := byte(0x09)
		if strings.Contains(p.Name, "288") {
			typ = 0x0C
		}
		serve = sim.NewChafon(pty.Master, sim.ChafonOpts{Field: field, Type: typ}).Serve
		uid = drivers.HexUpper(sgtinExample)
	case profile.ProtoThingMagic:
		serve = sim.NewThingMagic(pty.Master, sim.ThingMagicOpts{Tags: []sim.Tag{{EPC: sgtinExample}}, Hardware: 0x30}).Serve
		uid = drivers.HexUpper(sgtinExample)
	case profile.ProtoFEIG:
		blocks, err := tagdata.Encode28560_3(tagdata.Tag3{TypeOfUsage: 1, ID: libraryCode, Owner: "US-CA-0042"})
		if err != nil {
			t.Fatal(err)
		}
		u := []byte{0xE0, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0x78}
		serve = sim.NewFEIG(pty.Master, sim.FEIGOpts{Tags: []sim.Tag{{UID: u, Blocks: blocks, BlockSize: 4, AFI: 0xC2}}}).Serve
		uid = ""
	case profile.ProtoASCII:
		var tags []sim.Tag
		so := sim.ASCIIOpts{Interval: 20 * time.Millisecond}
		if p.ASCIIFormat == profile.ASCIIRDM6300 {
			tags, so.Format = sim.EM4100Tags(1, 7), sim.ASCIIRDM6300
			uid = drivers.HexUpper(tags[0].UID)
		} else {
			tags, so.Format = sim.CartTags(1, 7), sim.ASCIILines
			uid = drivers.HexUpper(tags[0].EPC)
		}
		so.Field = sim.NewPopulation(tags, 1)
		so.Field.EnterAll()
		serve = sim.NewASCII(pty.Master, so).Serve
	default:
		t.Fatalf("%s: no simulator for protocol %q", p.Name, p.Protocol)
	}
	done := make(chan struct{})
	go func() { defer close(done); serve(ctx) }()
	t.Cleanup(func() { <-done })
	return pty.Path, uid
}

// TestEveryProfileOpens opens every embedded profile through the factory
// `tally run` uses (DeviceSpecs), a scanner on a fake HID bus replaying
// what such a scanner sends, a reader over a real pty with its protocol's
// simulator, and gets a read through. A profile its driver refuses (the
// HID POS profiles' terminator: none, once) fails here.
func TestEveryProfileOpens(t *testing.T) {
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) < 20 {
		t.Fatalf("only %d built-in profiles", len(ps))
	}
	for _, p := range ps {
		t.Run(p.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cfg := &Config{Devices: []DeviceConfig{{Name: "dev", Profile: p.Name}}}
			bus := &hidBus{}
			var wantUID string
			switch p.Kind {
			case profile.KindScanner:
				bus.plug(hidInfo(p, "1-1:1.0"), scannerEvents(t, p))
			case profile.KindRFID:
				cfg.Devices[0].Port, wantUID = readerSim(t, ctx, p)
			}
			specs, err := DeviceSpecsEnv(cfg, ps, OpenEnv{HID: bus})
			if err != nil {
				t.Fatalf("factory refused the profile: %v", err)
			}
			r, err := specs[0].Open(ctx)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			rd := firstRead(t, ctx, r)
			if specs[0].Normalize != nil {
				rd = specs[0].Normalize(rd)
			}
			switch p.Kind {
			case profile.KindScanner:
				if rd.Code != libraryCode || rd.Kind != drivers.KindScanner {
					t.Errorf("read %+v, want code %s", rd, libraryCode)
				}
			case profile.KindRFID:
				if rd.Kind != drivers.KindRFID || rd.Code == "" || wantUID != "" && rd.TagUID != wantUID {
					t.Errorf("read %+v, want tag %s", rd, wantUID)
				}
				// The GS1 TDS example EPC reaches the engine as its SGTIN.
				if (p.Protocol == profile.ProtoChafon || p.Protocol == profile.ProtoThingMagic) && (rd.Code != sgtinURN || rd.TagModel != "sgtin-96") {
					t.Errorf("GS1 example EPC read as %q (%s), want %s", rd.Code, rd.TagModel, sgtinURN)
				}
				if p.Protocol == profile.ProtoFEIG && rd.Code != libraryCode {
					t.Errorf("FEIG read code %q, want the ISO 28560-3 item %s", rd.Code, libraryCode)
				}
			}
		})
	}
}

// TestExampleConfigRuns loads the shipped tally.example.yaml through the
// config loader and the factory, as `cp tally.example.yaml tally.yaml &&
// tally run` does, with its scanner on a fake HID bus and its reader's
// port on a pty, and gets a read from each device.
func TestExampleConfigRuns(t *testing.T) {
	cfg, err := LoadConfig(filepath.Join("..", "tally.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bus := &hidBus{}
	for i, d := range cfg.Devices {
		p, err := profile.Find(ps, d.Profile)
		if err != nil {
			t.Fatal(err)
		}
		switch p.Kind {
		case profile.KindScanner:
			bus.plug(hidInfo(p, fmt.Sprintf("1-%d:1.0", i)), scannerEvents(t, p))
		case profile.KindRFID:
			cfg.Devices[i].Port, _ = readerSim(t, ctx, p) // the one edit a user makes: the port
		}
	}
	specs, err := DeviceSpecsEnv(cfg, ps, OpenEnv{HID: bus})
	if err != nil {
		t.Fatalf("tally.example.yaml: %v", err)
	}
	if len(specs) != len(cfg.Devices) || len(specs) < 2 {
		t.Fatalf("%d specs for %d devices", len(specs), len(cfg.Devices))
	}
	for _, s := range specs {
		r, err := s.Open(ctx)
		if err != nil {
			t.Fatalf("%s (%s): open: %v", s.Name, s.Profile, err)
		}
		rd := firstRead(t, ctx, r)
		if rd.Code == "" || rd.Device != s.Name {
			t.Errorf("%s: read %+v", s.Name, rd)
		}
	}
}
