package thingmagic

import (
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
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

// recordPC is the PC word the driver read from the tag record (Read.PC,
// set when the record's tag CRC agrees), or 0 when it has none it can
// trust: a GS1 EPC then decodes by its header.
func recordPC(rd drivers.Read, _ []byte) (uint16, bool) { return rd.PC, true }
