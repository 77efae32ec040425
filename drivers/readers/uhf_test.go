package readers

import (
	"testing"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

// The GS1 Tag Data Standard's SGTIN-96 example (TDS 1.13, Appendix E).
var (
	sgtinEPC = []byte{0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0x00, 0x00, 0x1A, 0x85}
	sgtinURN = "urn:epc:id:sgtin:0614141.812345.6789"
)

func uhfProfile(models ...profile.TagModel) *profile.Profile {
	return &profile.Profile{Kind: profile.KindRFID, Protocol: profile.ProtoChafon, TagData: models}
}

// TestUHF: the PC word's toggle bit decides between ISO/TS 28560-4 and
// GS1; without a PC word (the driver did not read it) a GS1 EPC decodes by
// its header and an ISO EPC stays raw, as does a model the profile does
// not list.
func TestUHF(t *testing.T) {
	iso, err := tagdata.Encode28560_4(tagdata.Tag4{ISIL: "US-CA-0042", ID: "31234000123456", AFI: tagdata.AFILibraryIn})
	if err != nil {
		t.Fatal(err)
	}
	all := uhfProfile(profile.TagSGTIN96, profile.TagGIAI96, profile.TagISO28560_4)
	for _, tc := range []struct {
		name        string
		p           *profile.Profile
		pc          uint16
		epc         []byte
		code, model string
	}{
		{"GS1 with its PC", all, 0x3000, sgtinEPC, sgtinURN, "sgtin-96"},
		{"GS1 without a PC", all, 0, sgtinEPC, sgtinURN, "sgtin-96"},
		{"ISO with its PC", all, iso.PC, iso.EPC, "31234000123456", "iso28560-4"},
		{"ISO without a PC", all, 0, iso.EPC, drivers.HexUpper(iso.EPC), ""},
		{"GS1 not listed", uhfProfile(profile.TagISO28560_4), 0x3000, sgtinEPC, drivers.HexUpper(sgtinEPC), ""},
	} {
		dec := UHF(tc.p)
		uid := drivers.HexUpper(tc.epc)
		rd := dec(drivers.Read{Raw: tc.epc, Code: uid, TagUID: uid, PC: tc.pc, Kind: drivers.KindRFID})
		if rd.Code != tc.code || rd.TagModel != tc.model {
			t.Errorf("%s: code %q model %q, want %q %q", tc.name, rd.Code, rd.TagModel, tc.code, tc.model)
		}
	}
	if UHF(uhfProfile(profile.TagUID)) != nil {
		t.Error("a profile keeping raw EPCs got a decoding stage")
	}
	// A read the driver decoded already passes as it is.
	rd := drivers.Read{Code: "X", TagUID: drivers.HexUpper(sgtinEPC), TagModel: "iso28560-3"}
	if got := UHF(all)(rd); got.Code != "X" || got.TagModel != "iso28560-3" {
		t.Errorf("decoded read changed: %+v", got)
	}
}

// FuzzUHF: whatever the UID and PC word, the stage never panics, and a read
// it changes carries the model it decoded.
func FuzzUHF(f *testing.F) {
	dec := UHF(uhfProfile(profile.TagSGTIN96, profile.TagGIAI96, profile.TagISO28560_4))
	f.Fuzz(func(t *testing.T, uid string, pc uint16) {
		rd := dec(drivers.Read{Code: uid, TagUID: uid, PC: pc})
		if rd.TagModel == "" && rd.Code != uid {
			t.Fatalf("code changed to %q without a tag model", rd.Code)
		}
	})
}
