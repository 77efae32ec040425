package agent

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/sim"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

const sgtinURN = "urn:epc:id:sgtin:0614141.812345.6789" // GS1 TDS: 3074257BF7194E4000001A85

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
