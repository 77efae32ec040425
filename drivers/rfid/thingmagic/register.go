package thingmagic

import (
	"bytes"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

func init() {
	readers.AddSerial(string(profile.ProtoThingMagic), readers.Serial[Opts, *Dev]{Opts: ProfileOpts, New: New, Open: Open,
		Normalize: func(p *profile.Profile) func(drivers.Read) drivers.Read { return readers.UHF(p.TagData, recordPC) }})
}

// ProfileOpts are the driver's options for a thingmagic profile.
func ProfileOpts(p *profile.Profile) (Opts, error) {
	o := DefaultOpts
	if p.PowerDBm != nil {
		o.ReadPower = int(*p.PowerDBm * 100) // centi-dBm
	}
	o.Antennas = p.Antennas
	return o, nil
}

// recordPC is the PC word in a read's tag record (XPC words, if any, sit
// between it and the EPC), 0 for a record without one (a GS1 EPC then
// decodes by its header).
func recordPC(rd drivers.Read, epc []byte) (uint16, bool) {
	if bank, ok := EPCBank(rd.Raw, epc); ok {
		return uint16(bank[0])<<8 | uint16(bank[1]), true
	}
	return 0, true
}

// EPCBank finds PC ‖ (XPC ‖) EPC in a ThingMagic tag record,
// which the driver hands over as it came: metadata (as many bytes as the
// requested metadata flags ask for), the ID length in bits, PC, EPC and the
// tag's CRC (Mercury API serial protocol; SparkFun's library,
// parseResponse, documents the layout). The record ends in EPC ‖ CRC, the
// length field counts PC, EPC and CRC, and the CRC is the Gen2
// CRC-16/GENIBUS over PC and EPC: all three must agree, so metadata can
// never be mistaken for a PC word. ok is false for a record without a PC
// (the module leaves it out when the protocol metadata was not asked for).
func EPCBank(rec, epc []byte) (bank []byte, ok bool) {
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
