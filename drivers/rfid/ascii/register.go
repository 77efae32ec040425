package ascii

import (
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
)

func init() {
	readers.AddSerial(string(profile.ProtoASCII), readers.Serial[Opts, *Dev]{Opts: ProfileOpts, New: New, Open: Open})
}

// ProfileOpts are the driver's options for an ascii profile.
func ProfileOpts(p *profile.Profile) (Opts, error) {
	if p.ASCIIFormat == profile.ASCIIRDM6300 {
		return RDM6300Opts, nil
	}
	return DefaultOpts, nil
}
