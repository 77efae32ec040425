package chafon

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// ReadPC: the PC word of each newly seen tag is read with Read Data (0x02)
// and handed over as PC ‖ EPC; a tag already seen is not asked again; a tag
// whose PC cannot be read goes out as its EPC and is asked again next
// round. The ISO/TS 28560-4 EPC and PC 0x45C2 are dp2's (github.com/
// DigitalPlatform/dp2 TestUHF.cs); the Read Data command data is written
// out by hand from the UHFReader18 layout (ENum, EPC, Mem, WordPtr, Num,
// Pwd ×4, MaskAdr, MaskLen; github.com/PietaTony/uhf iso18000-6C.go
// ReadData at 00708d206c0a9d3ec76a26c2a79858ce0a06fdd2).
func TestTranscriptReadPC(t *testing.T) {
	iso := unhex(t, "141C C04F C70B ADB5 C6E2 DA1D ED4D D319")
	gs1 := unhex(t, "3074257BF7194E4000001A85")
	readISO := unhex(t, "08 141CC04FC70BADB5C6E2DA1DED4DD319 01 01 01 00000000 00 00")
	readGS1 := unhex(t, "06 3074257BF7194E4000001A85 01 01 01 00000000 00 00")
	info := Info{Type: TypeUHFReader18, Region: Region{BandUS, 0, 49}, Power: 30, ScanTime: 100 * time.Millisecond}
	inv := frame(t, Response{Cmd: CmdInventory, Status: StatusDone, Data: AppendInventory(nil, Protocol18, 0, []Tag{{EPC: iso}, {EPC: gs1}})})
	tr := newTranscript(t,
		exchange{unhex(t, "04 00 21 D9 6A"), frame(t, Response{Cmd: CmdReaderInfo, Data: info.Data()})},
		exchange{cmdFrame(t, Command{Addr: 0, Cmd: CmdSetWorkMode18, Data: make([]byte, 6)}), frame(t, Response{Cmd: CmdSetWorkMode18})},
		exchange{cmdFrame(t, Command{Addr: 0, Cmd: CmdInventory}), inv},
		exchange{cmdFrame(t, Command{Addr: 0, Cmd: CmdReadData, Data: readISO}), frame(t, Response{Cmd: CmdReadData, Data: []byte{0x45, 0xC2}})},
		exchange{cmdFrame(t, Command{Addr: 0, Cmd: CmdReadData, Data: readGS1}), frame(t, Response{Cmd: CmdReadData, Status: StatusNoTag})},
		exchange{cmdFrame(t, Command{Addr: 0, Cmd: CmdInventory}), inv},
		exchange{cmdFrame(t, Command{Addr: 0, Cmd: CmdReadData, Data: readGS1}), frame(t, Response{Cmd: CmdReadData, Data: []byte{0x30, 0x00}})},
	)
	opts := DefaultOpts
	opts.Address = 0
	opts.Timeout = 250 * time.Millisecond
	opts.ReadPC = true
	d, err := New("wand", tr, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 10)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	var raws [][]byte
	for range 4 {
		raws = append(raws, (<-out).Raw)
	}
	if err := <-d.Err(); !errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("Err = %v, want ErrDisconnected once the transcript ends", err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{append([]byte{0x45, 0xC2}, iso...), gs1, append([]byte{0x45, 0xC2}, iso...), append([]byte{0x30, 0x00}, gs1...)}
	for i := range want {
		if !bytes.Equal(raws[i], want[i]) {
			t.Errorf("read %d raw % X, want % X", i, raws[i], want[i])
		}
	}
}

// ReadPC is refused on the 288 layout, whose Read Data frame no public
// source in hand confirms.
func TestReadPC288Refused(t *testing.T) {
	o := DefaultOpts
	o.ReadPC, o.Protocol = true, Protocol288
	if _, err := New("wand", bytes.NewBuffer(nil), o); err == nil {
		t.Error("ReadPC with the 288 layout accepted")
	}
}
