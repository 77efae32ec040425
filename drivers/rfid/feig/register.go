package feig

import (
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

func init() {
	readers.AddSerial(string(profile.ProtoFEIG), readers.Serial[Opts, *Dev]{Opts: ProfileOpts, New: New, Open: Open})
}

// ProfileOpts are the driver's options for a feig profile.
func ProfileOpts(p *profile.Profile) (Opts, error) {
	o := DefaultOpts
	if p.Address != nil {
		o.Addr = byte(*p.Address)
	}
	if p.BlockOrder == profile.BlockLSBFirst {
		o.BlockOrder = LSBFirst
	}
	if p.Blocks > 0 {
		o.Blocks, o.FallbackBlocks = p.Blocks, min(p.Blocks, DefaultOpts.FallbackBlocks)
	}
	// The driver decodes each tag's blocks once (it caches by UID), with
	// the DSFID; a model the profile's tag_data does not list keeps the
	// UID, as a tag that does not decode does.
	want := readers.WantedModels(p.TagData)
	o.Decode = func(dsfid byte, data []byte) (string, string, error) {
		code, model, err := DefaultDecode(dsfid, data)
		if err != nil || !want[tagdata.Model(model)] {
			return "", "", err
		}
		return code, model, nil
	}
	return o, nil
}
