package chafon

import (
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
)

func init() {
	// Chafon's inventory reports the EPC alone, so a GS1 EPC decodes by its
	// header and anything else stays the raw EPC; with read_pc the driver
	// reads each tag's PC word, which gets the toggle bit's decision.
	readers.AddSerial(string(profile.ProtoChafon), readers.Serial[Opts, *Dev]{Opts: ProfileOpts, New: New, Open: Open, Normalize: readers.UHF})
}

// ProfileOpts are the driver's options for a chafon profile.
func ProfileOpts(p *profile.Profile) (Opts, error) {
	o := DefaultOpts
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
	return o, nil
}
