package readers

import (
	"encoding/hex"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

// UHF is the decoding stage of a UHF reader's reads for a profile: the
// tag's EPC bank turned into the item identifier when it carries one of the
// data models the profile's tag_data lists; nil when it lists none (raw
// EPCs, looked up through the catalog's rfid column).
//
// A tag decodes from its EPC bank, PC word first, because the PC's toggle
// bit says whether the EPC is a GS1 EPC or an ISO/TS 28560-4 UII (with its
// AFI). A driver that read the PC word hands it over in Read.PC
// (ThingMagic from its tag record, Chafon with read_pc); without it a GS1
// EPC decodes by its header and anything else stays the raw EPC. A read
// that does not decode, or decodes to a model not listed, keeps the raw
// EPC as its code: it is looked up as such and never turned into an
// identifier the tag does not hold.
func UHF(p *profile.Profile) func(drivers.Read) drivers.Read {
	want := WantedModels(p.TagData)
	if len(want) == 0 {
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
		t, err := tagdata.DecodeUHF(rd.PC, epc, nil)
		if err != nil || t.ID == "" || !want[t.Model] {
			return rd
		}
		rd.Code, rd.TagModel = t.ID, string(t.Model)
		return rd
	}
}
