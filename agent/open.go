package agent

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"

	"go.bug.st/serial/enumerator"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	_ "github.com/tally-inventory/tally/drivers/readers/all" // every protocol's registration
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

// DeviceSpecsEnv is DeviceSpecs opening devices through env. Each device
// opens through the driver its profile's protocol (or scanner mode)
// registered (drivers/readers).
func DeviceSpecsEnv(cfg *Config, profiles []*profile.Profile, env OpenEnv) ([]engine.DeviceSpec, error) {
	renv := readers.Env{Serial: env.Serial, SerialPorts: env.SerialPorts}
	if env.HID != nil {
		renv.HID = env.HID
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
		case profile.KindRFID:
			s.Kind = drivers.KindRFID
			s.Normalize = tagDecoder(p.Protocol, p.TagData)
		}
		s.Open, err = readers.Open(readers.Device{Name: d.Name, Profile: p, DeviceConfig: d.DeviceConfig}, renv)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", d.Name, err)
		}
		specs = append(specs, s)
	}
	return specs, nil
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
	want := readers.WantedModels(models)
	if len(want) == 0 || proto == profile.ProtoFEIG { // FEIG: the driver decodes (feig.ProfileOpts)
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
