package agent

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/sim"
)

// A FEIG profile's block_order and blocks reach the driver through the
// factory: the tag of the ID CPR manual's Annex F (3 blocks, memory
// 01 02 03 04 | 11 12 13 14 | 21 22 23 24) comes out in memory order
// whether the reader sends blocks MSB first, as FEIG readers do, or (with
// block_order: lsb-first) in memory order.
func TestFEIGProfileSettings(t *testing.T) {
	mem := []byte{0x01, 0x02, 0x03, 0x04, 0x11, 0x12, 0x13, 0x14, 0x21, 0x22, 0x23, 0x24}
	uid := []byte{0xE0, 0x07, 0x00, 0x00, 0x01, 0x47, 0x67, 0x7E}
	for _, order := range []string{"msb-first", "lsb-first"} {
		t.Run(order, func(t *testing.T) {
			yaml := strings.Join([]string{
				"name: feig-annex-f", "vendor: FEIG", "model: ID CPR", "kind: rfid",
				"serial:", "  port: /dev/ttyUSB0", "  baud: 38400", "  parity: even",
				"protocol: feig", "block_order: " + order, "blocks: 3", "tag_data: [uid]", "",
			}, "\n")
			p, err := profile.Load("feig-annex-f.yaml", []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, _ := openOnPty(t, ctx, p, func(m *os.File) func(context.Context) error {
				return sim.NewFEIG(m, sim.FEIGOpts{Tags: []sim.Tag{{UID: uid, Blocks: mem, BlockSize: 4}}, LSBFirst: order == "lsb-first"}).Serve
			})
			rd := firstRead(t, ctx, r)
			if rd.TagUID != "E00700000147677E" || !bytes.Equal(rd.Raw, mem) {
				t.Errorf("read %s % X, want tag memory % X", rd.TagUID, rd.Raw, mem)
			}
		})
	}
}

// The tag decoder stage decodes a FEIG read's blocks with its DSFID and the
// profile's tag_data: DSFID 0x06 means ISO 28560-2 and nothing else, and a
// model the profile does not list keeps the UID. Tag memory from public
// sources: ISO 28560-2 from github.com/DigitalPlatform/dp2
// UnitTestRFID/TestChip.cs (item 123456789012), ISO 28560-3 from
// github.com/GallusMax/libdanrfid DDMDataTest (item 11223344).
func TestFEIGTagDataByDSFID(t *testing.T) {
	const (
		mem28560_2 = "91 00 05 1C BE 99 1A 14 02 01 D0 14 02 04 B3 46 07 44 1C B6 E2 E3 35 D6 83 02 07 AC C0 9E BA A0 6F 6B 00 00"
		mem28560_3 = "11 01 01 31 31 32 32 33 33 34 34 00 00 00 00 00 00 00 00 51 3E 44 45 37 30 35 00 00 00 00 00 00"
	)
	uid := []byte{0xE0, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0x78}
	const uidHex = "E004010012345678"
	for _, tc := range []struct {
		name, tagData string
		dsfid         byte
		mem           string
		code, model   string
	}{
		{"28560-2 by DSFID", "[iso28560-3, iso28560-2]", 0x06, mem28560_2, "123456789012", "iso28560-2"},
		{"28560-3 without DSFID", "[iso28560-3, iso28560-2]", 0, mem28560_3, "11223344", "iso28560-3"},
		{"DSFID 0x06 on 28560-3 data: no guess", "[iso28560-3, iso28560-2]", 0x06, mem28560_3, uidHex, ""},
		{"28560-2 not in the profile", "[iso28560-3]", 0x06, mem28560_2, uidHex, ""},
		{"profile keeps UIDs", "[uid]", 0x06, mem28560_2, uidHex, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem, err := hex.DecodeString(strings.ReplaceAll(tc.mem, " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			mem = append(mem, make([]byte, 112-len(mem))...) // an ICODE SLIX: 28 blocks of 4
			yaml := strings.Join([]string{
				"name: feig-dsfid", "vendor: FEIG", "model: ID CPR", "kind: rfid",
				"serial:", "  port: /dev/ttyUSB0", "  baud: 38400", "  parity: even",
				"protocol: feig", "tag_data: " + tc.tagData, "",
			}, "\n")
			p, err := profile.Load("feig-dsfid.yaml", []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			r, spec := openOnPty(t, ctx, p, func(m *os.File) func(context.Context) error {
				return sim.NewFEIG(m, sim.FEIGOpts{Tags: []sim.Tag{{UID: uid, DSFID: tc.dsfid, Blocks: mem, BlockSize: 4}}}).Serve
			})
			rd := normalizedReads(t, ctx, r, spec, 1)[uidHex]
			if rd.Code != tc.code || rd.TagModel != tc.model || rd.TagUID != uidHex {
				t.Errorf("read %s: code %q model %q, want %q %q", rd.TagUID, rd.Code, rd.TagModel, tc.code, tc.model)
			}
		})
	}
}
