package thingmagic

import (
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
)

func init() {
	readers.AddSerial(string(profile.ProtoThingMagic), readers.Serial[Opts, *Dev]{Opts: ProfileOpts, New: New, Open: Open, Normalize: readers.UHF})
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
