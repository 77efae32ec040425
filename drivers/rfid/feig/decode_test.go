package feig

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/sim"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

// Library tag memory from public sources (the same vectors drivers/tagdata
// tests against):
const (
	// ISO 28560-3 basic block: github.com/GallusMax/libdanrfid DDMDataTest,
	// item 11223344, owner DE705.
	mem28560_3 = "11 01 01 31 31 32 32 33 33 34 34 00 00 00 00 00 00 00 00 51 3E 44 45 37 30 35 00 00 00 00 00 00"
	// ISO 28560-2 annex example: github.com/DigitalPlatform/dp2
	// UnitTestRFID/TestChip.cs, item 123456789012, owner US-InU-Mu. Such
	// tags carry DSFID 0x06.
	mem28560_2 = "91 00 05 1C BE 99 1A 14 02 01 D0 14 02 04 B3 46 07 44 1C B6 E2 E3 35 D6 83 02 07 AC C0 9E BA A0 6F 6B 00 00"
	// 3M RFID 501: github.com/dpavlin/Biblio-RFID t/05-RFID501.t, barcode
	// 1302003767.
	mem3M = "04 11 00 01 31 33 30 32 30 30 33 37 36 37 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
)

// slix pads tag memory to the 28 blocks of an ICODE SLIX.
func slix(t testing.TB, h string) []byte {
	b := unhex(t, h)
	return append(b, make([]byte, 112-len(b))...)
}

// The default decoder on memory-order data: ISO 28560-3 without the
// "reversed by the reader" fallback, 3M, and ISO 28560-2 chosen by DSFID.
func TestDefaultDecode(t *testing.T) {
	for _, tc := range []struct {
		name        string
		dsfid       byte
		data        []byte
		code, model string
	}{
		{"iso28560-3 basic block", 0, unhex(t, mem28560_3), "11223344", "iso28560-3"},
		{"iso28560-3 SLIX memory", 0, danish("30012345678", "US-InU-Mu", 112), "30012345678", "iso28560-3"},
		{"3M RFID 501", 0, slix(t, mem3M), "1302003767", "3m-rfid501"},
		{"iso28560-2 by DSFID", DSFID28560_2, slix(t, mem28560_2), "123456789012", "iso28560-2"},
		{"iso28560-2 detected", 0, slix(t, mem28560_2), "123456789012", "iso28560-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, model, err := DefaultOpts.Decode(tc.dsfid, tc.data)
			if err != nil || code != tc.code || model != tc.model {
				t.Fatalf("Decode = %q, %q, %v; want %q, %q", code, model, err, tc.code, tc.model)
			}
		})
	}
	if _, _, err := DefaultOpts.Decode(0, make([]byte, 32)); err == nil {
		t.Error("a blank tag decoded")
	}
	// DSFID 0x06 means ISO 28560-2 and nothing else: a Danish block under
	// that DSFID is an error, not a guess.
	if _, _, err := DefaultOpts.Decode(DSFID28560_2, unhex(t, mem28560_3)); err == nil {
		t.Error("DSFID 0x06 decoded as another model")
	}
}

// End to end: the simulated reader sends every block most significant byte
// first, as a FEIG reader does; the driver with its defaults (as the
// runtime opens it) delivers each library tag's identifier, the tag memory
// in order and the DSFID.
func TestLibraryTagsEndToEnd(t *testing.T) {
	tags := []sim.Tag{
		{UID: []byte{0xE0, 0x04, 0x01, 0x00, 0x11, 0x22, 0x33, 0x01}, Blocks: slix(t, mem28560_3), BlockSize: 4},
		{UID: []byte{0xE0, 0x04, 0x01, 0x00, 0x11, 0x22, 0x33, 0x02}, Blocks: slix(t, mem3M), BlockSize: 4},
		{UID: []byte{0xE0, 0x04, 0x01, 0x00, 0x11, 0x22, 0x33, 0x03}, Blocks: slix(t, mem28560_2), BlockSize: 4, DSFID: 0x06},
	}
	want := map[string]struct {
		code, model string
		dsfid       byte
	}{
		"E004010011223301": {"11223344", "iso28560-3", 0},
		"E004010011223302": {"1302003767", "3m-rfid501", 0},
		"E004010011223303": {"123456789012", "iso28560-2", 6},
	}
	r := startSim(t, sim.FEIGOpts{Tags: tags})
	o := DefaultOpts
	o.Timeout = 250 * time.Millisecond
	d, err := Open("pad", r.pty.Path, 38400, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 16)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	got := collect(t, out, 3)
	d.Stop()
	for i, rd := range got {
		w, ok := want[rd.TagUID]
		if !ok || rd.Code != w.code || rd.TagModel != w.model || rd.DSFID != w.dsfid {
			t.Errorf("read %d: uid %s code %q model %q dsfid %#x; want %+v", i, rd.TagUID, rd.Code, rd.TagModel, rd.DSFID, w)
			continue
		}
		if !bytes.Equal(rd.Raw, tags[rd.TagUID[15]-'1'].Blocks) {
			t.Errorf("%s: Raw is not the tag memory: % X", rd.TagUID, rd.Raw[:8])
		}
		if w.model == "iso28560-3" {
			tg, err := tagdata.Decode(tagdata.ModelISO28560_3, rd.Raw)
			if err != nil || tg.Reversed {
				t.Errorf("ISO 28560-3 decoded through the reversed-blocks fallback: %v, %v", tg, err)
			}
		}
	}
	if st := d.Stats(); st.BlockReads != 3 {
		t.Errorf("stats %+v", st)
	}
}
