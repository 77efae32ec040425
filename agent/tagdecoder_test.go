package agent

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	"github.com/tally-inventory/tally/drivers/rfid/thingmagic"
	"github.com/tally-inventory/tally/drivers/sim"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

const sgtinURN = "urn:epc:id:sgtin:0614141.812345.6789" // GS1 TDS: 3074257BF7194E4000001A85

// sparkfunResponse is the 0x22 response of testdata/thingmagic (SparkFun's
// documented example), checked to be an intact frame.
func sparkfunResponse(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/thingmagic/sparkfun-tag-response.txt")
	if err != nil {
		t.Fatal(err)
	}
	var hexText strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			hexText.WriteString(l + " ")
		}
	}
	f, err := tagdata.ParseHex(hexText.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(f) != int(f[1])+7 || thingmagic.CRC(f[1:len(f)-2]) != uint16(f[len(f)-2])<<8|uint16(f[len(f)-1]) {
		t.Fatalf("the SparkFun example is not an intact frame: % X", f)
	}
	return f
}

// withEPC is the SparkFun record's metadata with another PC and EPC, its
// ID length and tag CRC made to match, as the module would send them.
func withEPC(rec []byte, pc uint16, epc []byte) []byte {
	out := append([]byte(nil), rec[:len(rec)-18]...) // metadata: all but ID length, PC, EPC, CRC
	bits := (2 + len(epc) + 2) * 8
	out = append(out, byte(bits>>8), byte(bits))
	bank := append([]byte{byte(pc >> 8), byte(pc)}, epc...)
	out = append(out, bank...)
	c := tagdata.CRC16Genibus(bank)
	return append(out, byte(c>>8), byte(c))
}

func damaged(rec []byte) []byte {
	rec[len(rec)-1] ^= 0x5A
	return rec
}

// TestTagDecoderThingMagic: ThingMagic hands over the tag record as Raw
// and the PC word in Read.PC when the record's tag CRC agrees (the driver's
// TestReadCarriesPC); the decoder stage decodes by the PC's toggle bit.
// Before, the whole record went to the decoders and nothing decoded.
func TestTagDecoderThingMagic(t *testing.T) {
	rec := sparkfunResponse(t)[11:45]
	iso, err := tagdata.Encode28560_4(tagdata.Tag4{ISIL: "US-CA-0042", ID: "31234000123456", AFI: tagdata.AFILibraryIn})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(withEPC(rec, 0x3000, rec[20:32]), rec) {
		t.Fatal("withEPC does not rebuild the SparkFun record")
	}
	dec := tagDecoder(profile.ProtoThingMagic, []profile.TagModel{profile.TagSGTIN96, profile.TagGIAI96, profile.TagISO28560_4})
	for _, tc := range []struct {
		name        string
		raw, epc    []byte
		pc          uint16
		code, model string
	}{
		{"SparkFun example (no GS1 header)", rec, rec[20:32], 0x3000, "000000000000000000001545", ""},
		{"GS1 TDS SGTIN-96", withEPC(rec, 0x3000, sgtinExample), sgtinExample, 0x3000, sgtinURN, "sgtin-96"},
		{"ISO 28560-4", withEPC(rec, iso.PC, iso.EPC), iso.EPC, iso.PC, "31234000123456", "iso28560-4"},
		// Without a PC word the driver could trust (a damaged tag CRC), the
		// toggle bit is unknown: the ISO EPC stays raw, a GS1 EPC decodes by
		// its header, and the record is never searched for one.
		{"ISO, damaged tag CRC", damaged(withEPC(rec, iso.PC, iso.EPC)), iso.EPC, 0, drivers.HexUpper(iso.EPC), ""},
		{"GS1, damaged tag CRC", damaged(withEPC(rec, 0x3000, sgtinExample)), sgtinExample, 0, sgtinURN, "sgtin-96"},
	} {
		uid := drivers.HexUpper(tc.epc)
		rd := dec(drivers.Read{Raw: tc.raw, PC: tc.pc, Code: uid, TagUID: uid, Kind: drivers.KindRFID})
		if rd.Code != tc.code || rd.TagModel != tc.model {
			t.Errorf("%s: code %q model %q, want %q %q", tc.name, rd.Code, rd.TagModel, tc.code, tc.model)
		}
	}
}

// TestTagDecoderChafon: Chafon reports the EPC without its PC word. The GS1
// TDS example must decode as SGTIN-96 (it used to become the made-up
// library identifier "9UPLT1DI."); an ISO EPC, whose meaning hangs on the
// missing toggle bit, stays the raw EPC.
func TestTagDecoderChafon(t *testing.T) {
	iso, _ := tagdata.Encode28560_4(tagdata.Tag4{ID: "31234000123456", AFI: tagdata.AFILibraryIn})
	dec := tagDecoder(profile.ProtoChafon, []profile.TagModel{profile.TagISO28560_4, profile.TagSGTIN96, profile.TagGIAI96})
	withPC := func(pc uint16, epc []byte) []byte { return append([]byte{byte(pc >> 8), byte(pc)}, epc...) }
	for _, tc := range []struct {
		raw, epc    []byte
		code, model string
	}{
		{sgtinExample, sgtinExample, sgtinURN, "sgtin-96"},
		{iso.EPC, iso.EPC, drivers.HexUpper(iso.EPC), ""},
		// With the PC word read too, the toggle bit decides.
		{withPC(iso.PC, iso.EPC), iso.EPC, "31234000123456", "iso28560-4"},
		{withPC(0x3000, sgtinExample), sgtinExample, sgtinURN, "sgtin-96"},
		// Two bytes more that are no PC word for this EPC: left alone.
		{withPC(0x1234, sgtinExample), sgtinExample, drivers.HexUpper(sgtinExample), ""},
	} {
		uid := drivers.HexUpper(tc.epc)
		rd := dec(drivers.Read{Raw: tc.raw, Code: uid, TagUID: uid, Kind: drivers.KindRFID})
		if rd.Code != tc.code || rd.TagModel != tc.model {
			t.Errorf("EPC %s: code %q model %q, want %q %q", uid, rd.Code, rd.TagModel, tc.code, tc.model)
		}
	}
}

// TestUHFTagDataThroughFactory reads GS1, ISO 28560-4 and unformatted tags
// with the real drivers and simulators through the factory `tally run`
// uses, and checks the code each read reaches the engine with.
func TestUHFTagDataThroughFactory(t *testing.T) {
	iso, err := tagdata.Encode28560_4(tagdata.Tag4{ISIL: "US-CA-0042", ID: "31234000123456", AFI: tagdata.AFILibraryIn})
	if err != nil {
		t.Fatal(err)
	}
	other := []byte{0xE2, 0x80, 0x11, 0x60, 0x60, 0x00, 0x02, 0x05, 0x4F, 0x4F, 0x6F, 0x1C}
	tags := []sim.Tag{{EPC: sgtinExample, PC: 0x3000}, {EPC: iso.EPC, PC: iso.PC}, {EPC: other, PC: 0x3000}}
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		profile string
		want    map[string]string // TagUID → code
	}{
		{"thingmagic-m6e-nano", map[string]string{drivers.HexUpper(sgtinExample): sgtinURN, drivers.HexUpper(iso.EPC): "31234000123456", drivers.HexUpper(other): drivers.HexUpper(other)}},
		{"chafon-uhfreader288", map[string]string{drivers.HexUpper(sgtinExample): sgtinURN, drivers.HexUpper(iso.EPC): drivers.HexUpper(iso.EPC), drivers.HexUpper(other): drivers.HexUpper(other)}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			p, err := profile.Find(ps, tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			r, spec := openOnPty(t, ctx, p, func(m *os.File) func(context.Context) error {
				if strings.HasPrefix(tc.profile, "thingmagic") {
					return sim.NewThingMagic(m, sim.ThingMagicOpts{Tags: tags, Hardware: 0x30}).Serve
				}
				field := sim.NewPopulation(tags, 1)
				field.EnterAll()
				return sim.NewChafon(m, sim.ChafonOpts{Field: field, Type: 0x0C}).Serve
			})
			got := normalizedReads(t, ctx, r, spec, len(tc.want))
			for uid, code := range tc.want {
				if got[uid].Code != code {
					t.Errorf("tag %s: code %q, want %q", uid, got[uid].Code, code)
				}
			}
		})
	}
}

// FuzzTagDecoderUHF: whatever the record, EPC and PC word a UHF driver
// hands over, the decoder stage never panics and changes a code only to a
// tag model's identifier.
func FuzzTagDecoderUHF(f *testing.F) {
	tm := tagDecoder(profile.ProtoThingMagic, []profile.TagModel{profile.TagSGTIN96, profile.TagGIAI96, profile.TagISO28560_4})
	chafon := tagDecoder(profile.ProtoChafon, []profile.TagModel{profile.TagSGTIN96, profile.TagGIAI96, profile.TagISO28560_4})
	f.Fuzz(func(t *testing.T, raw, epc []byte, pc uint16) {
		uid := drivers.HexUpper(epc)
		for _, dec := range []func(drivers.Read) drivers.Read{tm, chafon} {
			rd := dec(drivers.Read{Raw: raw, PC: pc, Code: uid, TagUID: uid})
			if rd.TagModel == "" && rd.Code != uid {
				t.Fatalf("code changed to %q without a tag model", rd.Code)
			}
		}
	})
}

// A Chafon profile with read_pc: the driver reads each new tag's PC word
// over the pty from the simulator and the decoder stage gets PC ‖ EPC, so
// an ISO/TS 28560-4 tag decodes by the PC's toggle bit; without read_pc
// the same tag stays its raw EPC. The 28560-4 tag is dp2's
// (github.com/DigitalPlatform/dp2 TestUHF.cs: PC 45C2, item 12345678.31),
// the GS1 one the Tag Data Standard's SGTIN-96 example.
func TestChafonReadPCThroughFactory(t *testing.T) {
	dp2 := []byte{0x14, 0x1C, 0xC0, 0x4F, 0xC7, 0x0B, 0xAD, 0xB5, 0xC6, 0xE2, 0xDA, 0x1D, 0xED, 0x4D, 0xD3, 0x19}
	tags := []sim.Tag{{EPC: sgtinExample, PC: 0x3000}, {EPC: dp2, PC: 0x45C2}}
	yaml, err := os.ReadFile("../firmware-configs/rfid/chafon-uhfreader18.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, readPC := range []bool{true, false} {
		t.Run(fmt.Sprintf("read_pc=%v", readPC), func(t *testing.T) {
			y := string(yaml)
			if readPC {
				y += "read_pc: true\n"
			}
			p, err := profile.Load("chafon-uhfreader18.yaml", []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{drivers.HexUpper(sgtinExample): sgtinURN, drivers.HexUpper(dp2): drivers.HexUpper(dp2)}
			if readPC {
				want[drivers.HexUpper(dp2)] = "12345678.31"
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, spec := openOnPty(t, ctx, p, func(m *os.File) func(context.Context) error {
				field := sim.NewPopulation(tags, 1)
				field.EnterAll()
				return sim.NewChafon(m, sim.ChafonOpts{Field: field, Type: 0x09}).Serve
			})
			got := normalizedReads(t, ctx, r, spec, len(want))
			for uid, code := range want {
				if got[uid].Code != code {
					t.Errorf("tag %s: code %q (model %q), want %q", uid, got[uid].Code, got[uid].TagModel, code)
				}
			}
			if m := got[drivers.HexUpper(dp2)].TagModel; readPC && m != "iso28560-4" {
				t.Errorf("dp2 tag model %q, want iso28560-4", m)
			}
		})
	}
}

// tagDecoder is the decoding stage the factory gives reads of a proto
// reader whose profile lists models.
func tagDecoder(proto profile.Protocol, models []profile.TagModel) func(drivers.Read) drivers.Read {
	p := &profile.Profile{Kind: profile.KindRFID, Protocol: proto, TagData: models}
	pl, err := readers.For(p)
	if err != nil || pl.Normalize == nil {
		return nil
	}
	return pl.Normalize(p)
}
