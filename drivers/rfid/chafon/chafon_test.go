package chafon

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// exchange is one command the driver must send and the bytes the reader
// answers with.
type exchange struct {
	want  []byte
	reply []byte
}

// newTranscript is a port playing the exchanges (drivers/transcript):
// each command must be sent byte for byte, then its answer is read. After
// the last exchange the reader is silent. The driver leaves the port to
// its caller: cleanup closes it, and fails the test unless the transcript
// was played through.
func newTranscript(t *testing.T, steps ...exchange) *transcript.Playback {
	var evs []transcript.Event
	for _, s := range steps {
		evs = append(evs, transcript.Exchange(s.want, s.reply)...)
	}
	p := transcript.Play(t, transcript.Silent, evs...)
	t.Cleanup(func() { p.Close() })
	return p
}

func frame(t *testing.T, r Response) []byte {
	t.Helper()
	b, err := r.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cmdFrame(t *testing.T, c Command) []byte {
	t.Helper()
	b, err := c.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTranscript(t *testing.T) {
	epc1 := unhex(t, "E28011700000020FAA000001")
	epc2 := unhex(t, "3074257BF7194E4000001A85")
	epc3 := unhex(t, "E28011700000020FAA000003")
	info := Info{Firmware: [2]byte{0, 0x16}, Type: Type288M, Protocols: 3, Region: Region{BandEU, 0, 14}, Power: 30, ScanTime: time.Second}
	invData := InventoryData(Protocol288, InventoryParams{Q: 4, Antenna: 1, ScanTime: 300 * time.Millisecond})
	tr := newTranscript(t,
		exchange{unhex(t, "04 FF 21 19 95"), cat(
			[]byte{0x42, 0x00}, // line noise before the answer
			frame(t, Response{Addr: 0, Cmd: CmdReaderInfo, Data: info.Data()}))},
		exchange{cmdFrame(t, Command{Addr: 0xFF, Cmd: CmdSetWorkMode288, Data: []byte{0}}), frame(t, Response{Cmd: CmdSetWorkMode288})},
		exchange{cmdFrame(t, Command{Addr: 0xFF, Cmd: CmdSetRegion, Data: []byte{0x4E, 0x00}}), frame(t, Response{Cmd: CmdSetRegion})},
		exchange{cmdFrame(t, Command{Addr: 0xFF, Cmd: CmdSetPower, Data: []byte{26}}), frame(t, Response{Cmd: CmdSetPower})},
		exchange{cmdFrame(t, Command{Addr: 0xFF, Cmd: CmdInventory, Data: invData}), cat(
			frame(t, Response{Cmd: CmdInventory, Status: StatusMore, Data: AppendInventory(nil, Protocol288, 2, []Tag{{EPC: epc1, RSSI: 0x60}, {EPC: epc2, RSSI: 0x61}})}),
			frame(t, Response{Cmd: CmdInventory, Status: StatusDone, Data: AppendInventory(nil, Protocol288, 2, []Tag{{EPC: epc3, RSSI: 0x62}})}))},
		exchange{cmdFrame(t, Command{Addr: 0xFF, Cmd: CmdInventory, Data: invData}),
			frame(t, Response{Cmd: CmdInventory, Status: StatusDone, Data: AppendInventory(nil, Protocol288, 1, nil)})},
	)
	opts := DefaultOpts
	opts.Power = 26
	opts.Region = &Region{BandEU, 0, 14}
	opts.ScanTime = 300 * time.Millisecond
	opts.Timeout = 250 * time.Millisecond
	d, err := New("wand", tr, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 10)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if d.Protocol() != Protocol288 || d.Info().Power != 26 {
		t.Fatalf("protocol %v info %+v", d.Protocol(), d.Info())
	}
	var reads []drivers.Read
	for range 3 {
		reads = append(reads, <-out)
	}
	// After the transcript the reader is silent: three unanswered
	// inventories and the driver reports it gone.
	err = <-d.Err()
	if !errors.Is(err, drivers.ErrDisconnected) || !errors.Is(err, ErrTimeout) {
		t.Fatalf("Err = %v, want ErrDisconnected and ErrTimeout", err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	want := []drivers.Read{
		{Device: "wand", Kind: drivers.KindRFID, Raw: epc1, Code: "E28011700000020FAA000001", TagUID: "E28011700000020FAA000001", Symbology: "EPC", Antenna: 2},
		{Device: "wand", Kind: drivers.KindRFID, Raw: epc2, Code: "3074257BF7194E4000001A85", TagUID: "3074257BF7194E4000001A85", Symbology: "EPC", Antenna: 2},
		{Device: "wand", Kind: drivers.KindRFID, Raw: epc3, Code: "E28011700000020FAA000003", TagUID: "E28011700000020FAA000003", Symbology: "EPC", Antenna: 2},
	}
	for i, r := range reads {
		if r.Time.IsZero() {
			t.Errorf("read %d has no time", i)
		}
		r.Time = time.Time{}
		w := want[i]
		if r.Device != w.Device || r.Kind != w.Kind || !bytes.Equal(r.Raw, w.Raw) || r.Code != w.Code || r.TagUID != w.TagUID || r.Symbology != w.Symbology || r.Antenna != w.Antenna {
			t.Errorf("read %d = %+v, want %+v", i, r, w)
		}
	}
	s := d.Stats()
	if s.Rounds != 2 || s.Tags != 3 || s.Timeouts != 3 || s.Skipped < 2 {
		t.Errorf("stats %+v: want 2 rounds, 3 tags, 3 timeouts, ≥2 skipped", s)
	}
}

// The 18 layout: no inventory data, 0xFB when no tag is in the field.
func TestTranscript18(t *testing.T) {
	info := Info{Type: TypeUHFReader18, Region: Region{BandUS, 0, 49}, Power: 30, ScanTime: 100 * time.Millisecond}
	tr := newTranscript(t,
		exchange{unhex(t, "04 00 21 D9 6A"), frame(t, Response{Cmd: CmdReaderInfo, Data: info.Data()})},
		exchange{cmdFrame(t, Command{Addr: 0, Cmd: CmdSetWorkMode18, Data: make([]byte, 6)}), frame(t, Response{Cmd: CmdSetWorkMode18})},
		exchange{unhex(t, "04 00 01 DB 4B"), frame(t, Response{Cmd: CmdInventory, Status: StatusNoTag})},
		exchange{unhex(t, "04 00 01 DB 4B"), unhex(t, "13 00 01 03 01 0C 00 00 00 00 00 00 00 00 00 00 03 13 3F 39")[:7]},
	)
	opts := DefaultOpts
	opts.Address = 0
	opts.Timeout = 250 * time.Millisecond
	d, err := New("wand", tr, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 10)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	err = <-d.Err()
	if !errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("Err = %v", err)
	}
	d.Stop()
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	if d.Protocol() != Protocol18 {
		t.Fatalf("protocol %v", d.Protocol())
	}
	if len(out) != 0 {
		t.Fatalf("%d reads from a truncated frame and a no-tag answer", len(out))
	}
}

func TestStartFailsWithoutAnswer(t *testing.T) {
	tr := newTranscript(t) // a reader that never answers
	opts := DefaultOpts
	opts.Timeout = 10 * time.Millisecond
	d, _ := New("wand", tr, opts)
	err := d.Start(context.Background(), make(chan drivers.Read))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Start = %v, want ErrTimeout", err)
	}
	if err, ok := <-d.Err(); ok || err != nil {
		t.Fatalf("Err after failed Start = %v, %v", err, ok)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestStatusErrorEndsReading(t *testing.T) {
	info := Info{Type: TypeUHFReader18, ScanTime: 100 * time.Millisecond}
	tr := newTranscript(t,
		exchange{unhex(t, "04 FF 21 19 95"), frame(t, Response{Addr: 7, Cmd: CmdReaderInfo, Data: info.Data()})},
		exchange{cmdFrame(t, Command{Addr: 0xFF, Cmd: CmdSetWorkMode18, Data: make([]byte, 6)}), frame(t, Response{Addr: 7, Cmd: CmdSetWorkMode18, Status: StatusIllegalCmd})},
		exchange{unhex(t, "04 FF 01 1B B4"), frame(t, Response{Addr: 7, Cmd: CmdInventory, Status: StatusIllegalCmd})},
	)
	opts := DefaultOpts
	opts.Timeout = 250 * time.Millisecond
	d, _ := New("wand", tr, opts)
	if err := d.Start(context.Background(), make(chan drivers.Read)); err != nil {
		t.Fatal(err)
	}
	err := <-d.Err()
	if err == nil || errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("Err = %v, want a non-transient status error", err)
	}
	d.Stop()
}

func TestOptsValidation(t *testing.T) {
	bad := []func(*Opts){
		func(o *Opts) { o.Power = 31 },
		func(o *Opts) { o.Q = 16 },
		func(o *Opts) { o.Antenna = 5 },
		func(o *Opts) { o.Timeout = 0 },
		func(o *Opts) { o.Region = &Region{BandEU, 10, 5} },
		func(o *Opts) { o.ScanTime = time.Minute },
	}
	for i, f := range bad {
		o := DefaultOpts
		f(&o)
		if _, err := New("x", newTranscript(t), o); err == nil {
			t.Errorf("case %d: bad opts accepted", i)
		}
	}
	if _, err := Open("x", "", 57600, DefaultOpts); err == nil {
		t.Error("empty path accepted")
	}
}

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
	var pcs []uint16
	for range 4 {
		r := <-out
		raws = append(raws, r.Raw)
		pcs = append(pcs, r.PC)
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
	wantPC := []uint16{0x45C2, 0, 0x45C2, 0x3000} // 0: not read
	for i := range want {
		if !bytes.Equal(raws[i], want[i]) {
			t.Errorf("read %d raw % X, want % X", i, raws[i], want[i])
		}
		if pcs[i] != wantPC[i] {
			t.Errorf("read %d PC %04X, want %04X", i, pcs[i], wantPC[i])
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
