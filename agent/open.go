package agent

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"go.bug.st/serial/enumerator"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/rfid/ascii"
	"github.com/tally-inventory/tally/drivers/rfid/chafon"
	"github.com/tally-inventory/tally/drivers/rfid/feig"
	"github.com/tally-inventory/tally/drivers/rfid/thingmagic"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

// OpenEnv is what the device factories reach the hardware through. The
// zero value is the real machine; tests put a fake HID bus here and so open
// every profile through the very factory `tally run` uses.
type OpenEnv struct {
	HID hidscanner.Enumerator // nil: the real USB-HID bus
	// Serial, when set, opens RFID readers' serial ports (with the
	// profile's line settings, baud from the config) and the driver is
	// built on the port it returns: `tally capture` records through it,
	// `tally replay` plays a transcript. nil: each driver opens the real
	// port itself.
	Serial func(path string, line profile.Serial) (io.ReadWriteCloser, error)
	// SerialPorts lists the serial ports with their USB ids, to find a
	// reader chosen by vid/pid; nil: go.bug.st/serial's enumerator.
	SerialPorts func() ([]*enumerator.PortDetails, error)
}

// Profiles returns the profiles a config can name: the built-in ones and
// those in its profiles_dir.
func Profiles(cfg *Config) ([]*profile.Profile, error) {
	return profile.WithUser(cfg.ProfilesDir)
}

// DeviceSpecs turns the configured devices into specs the Devices runner
// opens, each through its profile.
func DeviceSpecs(cfg *Config, profiles []*profile.Profile) ([]engine.DeviceSpec, error) {
	return DeviceSpecsEnv(cfg, profiles, OpenEnv{})
}

// DeviceSpecsEnv is DeviceSpecs opening devices through env.
func DeviceSpecsEnv(cfg *Config, profiles []*profile.Profile, env OpenEnv) ([]engine.DeviceSpec, error) {
	if env.HID == nil {
		env.HID = hidscanner.HIDBus{}
	}
	if env.SerialPorts == nil {
		env.SerialPorts = func() ([]*enumerator.PortDetails, error) { return enumerator.GetDetailedPortsList() }
	}
	var specs []engine.DeviceSpec
	for _, d := range cfg.Devices {
		p, err := profile.Find(profiles, d.Profile)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", d.Name, err)
		}
		s := engine.DeviceSpec{Name: d.Name, Profile: p.Name, Session: d.Session}
		switch p.Kind {
		case profile.KindScanner:
			s.Kind = drivers.KindScanner
			s.Open, err = scannerFactory(env, d, p)
			if err != nil {
				return nil, fmt.Errorf("device %s: %w", d.Name, err)
			}
		case profile.KindRFID:
			s.Kind = drivers.KindRFID
			s.Open, err = readerFactory(env, d, p)
			s.Normalize = tagDecoder(p.Protocol, p.TagData)
			if err != nil {
				return nil, fmt.Errorf("device %s: %w", d.Name, err)
			}
		default:
			return nil, fmt.Errorf("device %s: profile %s has kind %q", d.Name, p.Name, p.Kind)
		}
		specs = append(specs, s)
	}
	return specs, nil
}

func scannerFactory(env OpenEnv, d DeviceConfig, p *profile.Profile) (drivers.Factory, error) {
	o := hidscanner.DefaultOpts
	o.Mode = string(p.Mode)
	if p.Decode.Layout != "" {
		o.Layout = string(p.Decode.Layout)
	}
	switch p.Decode.Terminator {
	case profile.TermEnter:
		o.Terminator = hidscanner.TermEnter
	case profile.TermTab:
		o.Terminator = hidscanner.TermTab
	case profile.TermNone:
		o.Terminator = hidscanner.TermNone
	}
	if p.Mode == profile.ModeHIDPOS && strings.Contains(strings.ToLower(p.Vendor), "zebra") {
		o.Vendor = hidscanner.VendorZebra
	}
	var m hidscanner.Match
	if len(p.Match) > 0 {
		// The usage page is not matched: on Linux the hidapi that
		// karalabe/hid bundles does not read report descriptors and reports
		// page 0 for every device. The profile chosen in the config says the
		// scanner's mode; VID/PID (and serial or path) pick the device.
		m.VID, m.PID = p.Match[0].VID, p.Match[0].PID
		if p.Match[0].Interface >= 0 {
			m.Interface, m.MatchInterface = p.Match[0].Interface, true
		}
	}
	if d.VID != "" {
		// The config names the device: its ids, not the profile's, pick it.
		vid, _ := ParseUSBID(d.VID)
		pid, _ := ParseUSBID(d.PID)
		m = hidscanner.Match{VID: vid, PID: pid}
	}
	m.Serial, m.Path = d.Serial, d.Path
	// Refuse options the driver would refuse at every reconnect, now, with
	// the profile's name: a profile and its driver must agree.
	if _, err := hidscanner.NewDecoder(o); err != nil {
		return nil, fmt.Errorf("profile %s (%s): %w", p.Name, p.File, err)
	}
	return func(ctx context.Context) (drivers.Reader, error) {
		return hidscanner.OpenWith(env.HID, d.Name, m, o)
	}, nil
}

func readerFactory(env OpenEnv, d DeviceConfig, p *profile.Profile) (drivers.Factory, error) {
	port := d.Port
	if port == "" && d.VID == "" {
		port = p.Serial.Port
	}
	if d.VID == "" && (port == "" || strings.ContainsAny(port, "*?[")) {
		return nil, fmt.Errorf("name the serial port (port: /dev/ttyUSB0), or its USB vid and pid; the profile only says %q", p.Serial.Port)
	}
	baud := d.Baud
	if baud == 0 {
		baud = p.Serial.Baud
	}
	line := p.Serial
	line.Baud = baud
	build, err := readerBuilder(env, d, p, baud, line)
	if err != nil {
		return nil, err
	}
	if port != "" {
		return build(port), nil
	}
	// Chosen by USB ids: the port is looked up at every open, so a reader
	// that comes back as another ttyUSB after re-plugging is found again.
	vid, _ := ParseUSBID(d.VID)
	pid, _ := ParseUSBID(d.PID)
	return func(ctx context.Context) (drivers.Reader, error) {
		port, err := usbSerialPort(env, vid, pid, d.Serial)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Name, err)
		}
		return build(port)(ctx)
	}, nil
}

// usbSerialPort finds the one serial port on USB device vid:pid (pid 0:
// any), with USB serial number serial when given.
func usbSerialPort(env OpenEnv, vid, pid uint16, serial string) (string, error) {
	ports, err := env.SerialPorts()
	if err != nil {
		return "", fmt.Errorf("list serial ports: %w", err)
	}
	var found []string
	for _, pd := range ports {
		if pd == nil || !pd.IsUSB {
			continue
		}
		v, err1 := strconv.ParseUint(pd.VID, 16, 16)
		q, err2 := strconv.ParseUint(pd.PID, 16, 16)
		if err1 != nil || err2 != nil || uint16(v) != vid || pid != 0 && uint16(q) != pid || serial != "" && pd.SerialNumber != serial {
			continue
		}
		found = append(found, pd.Name)
	}
	sort.Strings(found)
	switch len(found) {
	case 0:
		with := ""
		if serial != "" {
			with = " with serial " + serial
		}
		return "", fmt.Errorf("no serial port on USB device %04x:%04x%s (plugged in? `tally devices` lists the ports)", vid, pid, with)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%d serial ports on USB device %04x:%04x (%s): add serial: with its USB serial number, or name the port", len(found), vid, pid, strings.Join(found, ", "))
}

// readerBuilder returns what makes the factory of the profile's driver on
// a given port.
func readerBuilder(env OpenEnv, d DeviceConfig, p *profile.Profile, baud int, line profile.Serial) (func(port string) drivers.Factory, error) {
	wrap := func(r drivers.Reader, err error) (drivers.Reader, error) { return r, err }
	switch p.Protocol {
	case profile.ProtoChafon:
		o := chafon.DefaultOpts
		if p.Address != nil {
			o.Address = byte(*p.Address)
		}
		if p.PowerDBm != nil {
			o.Power = int(*p.PowerDBm)
		}
		if len(p.Antennas) > 0 {
			o.Antenna = p.Antennas[0] // the 288 layout's inventory names one antenna
		}
		o.ReadPC = p.ReadPC
		return func(port string) drivers.Factory {
			return viaPort(env, port, line, func(rw io.ReadWriter) (drivers.Reader, error) { return chafon.New(d.Name, rw, o) },
				func(ctx context.Context) (drivers.Reader, error) { return wrap(chafon.Open(d.Name, port, baud, o)) })
		}, nil
	case profile.ProtoThingMagic:
		o := thingmagic.DefaultOpts
		if p.PowerDBm != nil {
			o.ReadPower = int(*p.PowerDBm * 100) // centi-dBm
		}
		o.Antennas = p.Antennas
		return func(port string) drivers.Factory {
			return viaPort(env, port, line, func(rw io.ReadWriter) (drivers.Reader, error) { return thingmagic.New(d.Name, rw, o) },
				func(ctx context.Context) (drivers.Reader, error) { return wrap(thingmagic.Open(d.Name, port, baud, o)) })
		}, nil
	case profile.ProtoFEIG:
		o := feig.DefaultOpts
		if p.Address != nil {
			o.Addr = byte(*p.Address)
		}
		if p.BlockOrder == profile.BlockLSBFirst {
			o.BlockOrder = feig.LSBFirst
		}
		if p.Blocks > 0 {
			o.Blocks, o.FallbackBlocks = p.Blocks, min(p.Blocks, feig.DefaultOpts.FallbackBlocks)
		}
		// The driver decodes each tag's blocks once (it caches by UID), with
		// the DSFID; a model the profile's tag_data does not list keeps the
		// UID, as a tag that does not decode does.
		want := wantedModels(p.TagData)
		o.Decode = func(dsfid byte, data []byte) (string, string, error) {
			code, model, err := feig.DefaultDecode(dsfid, data)
			if err != nil || !want[tagdata.Model(model)] {
				return "", "", err
			}
			return code, model, nil
		}
		return func(port string) drivers.Factory {
			return viaPort(env, port, line, func(rw io.ReadWriter) (drivers.Reader, error) { return feig.New(d.Name, rw, o) },
				func(ctx context.Context) (drivers.Reader, error) { return wrap(feig.Open(d.Name, port, baud, o)) })
		}, nil
	case profile.ProtoASCII:
		o := ascii.DefaultOpts
		if p.ASCIIFormat == profile.ASCIIRDM6300 {
			o = ascii.RDM6300Opts
		}
		return func(port string) drivers.Factory {
			return viaPort(env, port, line, func(rw io.ReadWriter) (drivers.Reader, error) { return ascii.New(d.Name, rw, o) },
				func(ctx context.Context) (drivers.Reader, error) { return wrap(ascii.Open(d.Name, port, baud, o)) })
		}, nil
	}
	return nil, fmt.Errorf("profile %s: protocol %q is not supported", p.Name, p.Protocol)
}

// viaPort is the factory for a serial reader: open (the driver opens the
// port) unless env.Serial is set, in which case the port comes from there
// and the driver is built on it by on.
func viaPort(env OpenEnv, path string, line profile.Serial, on func(io.ReadWriter) (drivers.Reader, error), open drivers.Factory) drivers.Factory {
	if env.Serial == nil {
		return open
	}
	return func(ctx context.Context) (drivers.Reader, error) {
		port, err := env.Serial(path, line)
		if err != nil {
			return nil, err
		}
		r, err := on(port)
		if err != nil {
			port.Close()
			return nil, err
		}
		return &closeAfterStop{Reader: r, port: port}, nil
	}
}

// closeAfterStop closes the port once the driver has stopped: some drivers
// built on a port leave it to their caller.
type closeAfterStop struct {
	drivers.Reader
	port io.Closer
}

func (c *closeAfterStop) Stop() error {
	err := c.Reader.Stop()
	if cerr := c.port.Close(); err == nil {
		err = cerr
	}
	return err
}

// tagDecoder returns the normalize stage for RFID reads of a reader
// speaking proto: the tag's data turned into the item identifier, when it
// carries one of the data models the profile expects. nil when the profile
// keeps raw UIDs/EPCs (looked up through the catalog's rfid column).
//
// UHF tags decode from the EPC bank, PC word first, because the PC's
// toggle bit says whether the EPC is a GS1 EPC or an ISO/TS 28560-4 UII
// (with its AFI): ThingMagic reports PC ‖ EPC inside its tag record
// (thingMagicEPCBank); Chafon's inventory reports the EPC alone, so a GS1
// EPC decodes by its header and anything else stays the raw EPC, unless
// the profile says read_pc: then the driver reads each tag's PC word and
// hands over PC ‖ EPC, which gets the toggle bit's decision. A read
// that does not decode, or decodes to a model the profile does not list,
// keeps the raw EPC as its code: it is looked up as such and never turned
// into an identifier the tag does not hold.
func tagDecoder(proto profile.Protocol, models []profile.TagModel) func(drivers.Read) drivers.Read {
	want := wantedModels(models)
	if len(want) == 0 || proto == profile.ProtoFEIG { // FEIG: the driver decodes (readerBuilder)
		return nil
	}
	return func(rd drivers.Read) drivers.Read {
		if rd.TagModel != "" {
			return rd // the driver decoded it already
		}
		epc, err := hex.DecodeString(rd.TagUID)
		if err != nil || len(epc) == 0 {
			return rd
		}
		var pc uint16
		switch proto {
		case profile.ProtoThingMagic:
			if bank, ok := thingMagicEPCBank(rd.Raw, epc); ok {
				pc = uint16(bank[0])<<8 | uint16(bank[1]) // XPC words, if any, sit between it and the EPC
			}
		default:
			// A driver that reads the PC word too (Chafon's inventory does
			// not; a read of EPC word 1 does) hands over PC ‖ EPC.
			if n := len(rd.Raw); n == len(epc)+2 && bytes.HasSuffix(rd.Raw, epc) && int(rd.Raw[0]>>3) == len(epc)/2 {
				pc = uint16(rd.Raw[0])<<8 | uint16(rd.Raw[1])
			} else if !bytes.Equal(rd.Raw, epc) {
				return rd // neither the EPC alone nor PC ‖ EPC: not ours to guess at
			}
		}
		t, err := tagdata.DecodeUHF(pc, epc, nil)
		if err != nil || t.ID == "" || !want[t.Model] {
			return rd
		}
		rd.Code, rd.TagModel = t.ID, string(t.Model)
		return rd
	}
}

// wantedModels is the set of tag data models a profile's tag_data lists
// (uid aside).
func wantedModels(models []profile.TagModel) map[tagdata.Model]bool {
	want := map[tagdata.Model]bool{}
	for _, m := range models {
		if m == profile.TagUID {
			continue
		}
		if tm, err := tagdata.ParseModel(string(m)); err == nil && tm != "" {
			want[tm] = true
		}
	}
	return want
}

// thingMagicEPCBank finds PC ‖ (XPC ‖) EPC in a ThingMagic tag record,
// which the driver hands over as it came: metadata (as many bytes as the
// requested metadata flags ask for), the ID length in bits, PC, EPC and the
// tag's CRC (Mercury API serial protocol; SparkFun's library,
// parseResponse, documents the layout). The record ends in EPC ‖ CRC, the
// length field counts PC, EPC and CRC, and the CRC is the Gen2
// CRC-16/GENIBUS over PC and EPC: all three must agree, so metadata can
// never be mistaken for a PC word. ok is false for a record without a PC
// (the module leaves it out when the protocol metadata was not asked for).
func thingMagicEPCBank(rec, epc []byte) (bank []byte, ok bool) {
	n := len(rec)
	if n < len(epc)+2 || !bytes.Equal(rec[n-2-len(epc):n-2], epc) {
		return nil, false
	}
	crc := uint16(rec[n-2])<<8 | uint16(rec[n-1])
	for _, pcn := range []int{2, 4, 6} {
		start := n - 2 - len(epc) - pcn
		if start < 2 {
			break
		}
		bits := int(rec[start-2])<<8 | int(rec[start-1])
		if bits != (pcn+len(epc)+2)*8 {
			continue
		}
		bank = rec[start : n-2]
		if tagdata.CRC16Genibus(bank) != crc {
			return nil, false
		}
		return bank, true
	}
	return nil, false
}
