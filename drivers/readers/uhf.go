package readers

import (
	"bytes"
	"encoding/hex"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

// UHF is the decoding stage of a UHF reader's reads: the tag's EPC bank
// turned into the item identifier when it carries one of the data models
// models lists; nil when it lists none (raw EPCs, looked up through the
// catalog's rfid column).
//
// A tag decodes from its EPC bank, PC word first, because the PC's toggle
// bit says whether the EPC is a GS1 EPC or an ISO/TS 28560-4 UII (with its
// AFI). pc finds a read's PC word: ok false leaves the read as it is, a PC
// of 0 decodes a GS1 EPC by its header. nil pc is PCFromRaw. A read that
// does not decode, or decodes to a model not listed, keeps the raw EPC as
// its code: it is looked up as such and never turned into an identifier
// the tag does not hold.
func UHF(models []profile.TagModel, pc func(rd drivers.Read, epc []byte) (word uint16, ok bool)) func(drivers.Read) drivers.Read {
	want := WantedModels(models)
	if len(want) == 0 {
		return nil
	}
	if pc == nil {
		pc = PCFromRaw
	}
	return func(rd drivers.Read) drivers.Read {
		if rd.TagModel != "" {
			return rd // the driver decoded it already
		}
		epc, err := hex.DecodeString(rd.TagUID)
		if err != nil || len(epc) == 0 {
			return rd
		}
		word, ok := pc(rd, epc)
		if !ok {
			return rd
		}
		t, err := tagdata.DecodeUHF(word, epc, nil)
		if err != nil || t.ID == "" || !want[t.Model] {
			return rd
		}
		rd.Code, rd.TagModel = t.ID, string(t.Model)
		return rd
	}
}

// PCFromRaw is the PC word of a driver that hands over PC ‖ EPC in Raw
// (Chafon with read_pc: a read of EPC word 1), or 0 for one that hands
// over the EPC alone (Chafon's inventory); ok is false for a Raw that is
// neither, which is not ours to guess at.
func PCFromRaw(rd drivers.Read, epc []byte) (uint16, bool) {
	if n := len(rd.Raw); n == len(epc)+2 && bytes.HasSuffix(rd.Raw, epc) && int(rd.Raw[0]>>3) == len(epc)/2 {
		return uint16(rd.Raw[0])<<8 | uint16(rd.Raw[1]), true
	}
	return 0, bytes.Equal(rd.Raw, epc)
}
