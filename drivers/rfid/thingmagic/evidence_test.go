package thingmagic

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/internal/crc16"
	"github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// Start-up as the Mercury API does it, on the published frames: the module
// answers in its bootloader, the driver boots the application firmware,
// then sets region, power, Gen2, the antenna port and the antenna search
// list, and searches that list.
func TestStartupFromBootloader(t *testing.T) {
	tr, err := transcript.Load("testdata/mercury-boot-session.txt")
	if err != nil {
		t.Fatal(err)
	}
	// Every frame decodes, whichever way it went.
	for _, ev := range tr.Events {
		var err error
		if ev.Dir == transcript.Write {
			_, _, err = DecodeCommand(ev.Data)
		} else {
			_, _, err = DecodeResponse(ev.Data)
		}
		if err != nil {
			t.Errorf("line %d: %v", ev.Line, err)
		}
	}
	port := transcript.NewPlayback(tr, transcript.HangUpOnWrite)
	o := testOpts
	o.Region, o.SearchTime = 0x06, 500*time.Millisecond
	d, err := New("wand", port, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 1)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	r := collect(t, out, 1)[0]
	<-d.Err() // the hang-up after the transcript
	d.Stop()
	if r.TagUID != "3074257BF7194E4000001A85" || r.Antenna != 1 || r.RSSI != -55 {
		t.Errorf("read %+v", r)
	}
	if !d.Stats().Booted {
		t.Error("Stats.Booted is false after booting from the bootloader")
	}
	if err := port.Err(); err != nil {
		t.Error(err)
	}
}

// A module already running its application (program 0x12) is not booted.
func TestStartupInApp(t *testing.T) {
	steps := initSteps(t, testOpts)
	inApp := []byte{0xFF, 0x01, 0x0C, 0x00, 0x00, 0x12, 0x63, 0x43}
	if !bytes.Equal(steps[1].resp[0], inApp) {
		t.Fatalf("initSteps' program reply % X", steps[1].resp[0])
	}
	port := newScript(t, steps...)
	d, _ := New("wand", port, testOpts)
	if err := d.Start(context.Background(), make(chan drivers.Read)); err != nil {
		t.Fatal(err)
	}
	d.Stop()
	if d.Stats().Booted {
		t.Error("booted a module that was in its application")
	}
}

// sparkfunRecord is the tag record of SparkFun's documented read tag ID
// multiple response (testdata/sparkfun-tag-response.txt): PC 3000, EPC
// 000000000000000000001545, tag CRC E94A.
func sparkfunRecord(t *testing.T) TagRead {
	t.Helper()
	b, err := os.ReadFile("testdata/sparkfun-tag-response.txt")
	if err != nil {
		t.Fatal(err)
	}
	var hexText strings.Builder
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "#") {
			hexText.WriteString(strings.ReplaceAll(l, " ", ""))
		}
	}
	f, err := hex.DecodeString(hexText.String())
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := DecodeResponse(f)
	if err != nil {
		t.Fatal(err)
	}
	// Search options (1), search flags (2), metadata flags (2), tag count
	// (1), then the record: the get tag buffer layout less its option byte.
	d := r.Data
	tb, err := ParseTagBuffer(append([]byte{d[3], d[4], 0, d[5]}, d[6:]...), nil)
	if err != nil || len(tb.Tags) != 1 {
		t.Fatalf("SparkFun record: %+v, %v", tb, err)
	}
	return tb.Tags[0]
}

// The driver hands over the PC word it parsed when the record's tag CRC
// (CRC-16/GENIBUS over PC, XPC and EPC) agrees, so the pipeline can read
// the toggle bit; a record whose words do not check leaves PC unknown.
func TestReadCarriesPC(t *testing.T) {
	tag := sparkfunRecord(t)
	d := &Dev{Shell: seriallink.NewShell("thingmagic", "wand")}
	if rd := d.read(tag, time.Now()); rd.PC != 0x3000 || rd.TagUID != "000000000000000000001545" {
		t.Fatalf("SparkFun record: PC %04X, EPC %s; want 3000 and the EPC", rd.PC, rd.TagUID)
	}
	bad := tag
	bad.TagCRC ^= 1
	if rd := d.read(bad, time.Now()); rd.PC != 0 {
		t.Errorf("tag CRC damaged: PC %04X, want 0 (unknown)", rd.PC)
	}
	// An XPC word between PC and EPC (PC bit 0x0200) counts in the CRC too.
	xpc := tag
	xpc.PC = []byte{0x32, 0x00, 0x80, 0x01}
	bank := append(append([]byte(nil), xpc.PC...), xpc.EPC...)
	xpc.TagCRC = crc16.Genibus(bank)
	if rd := d.read(xpc, time.Now()); rd.PC != 0x3200 {
		t.Errorf("with an XPC word: PC %04X, want 3200", rd.PC)
	}
	if rd := d.read(TagRead{EPC: tag.EPC, TagCRC: tag.TagCRC}, time.Now()); rd.PC != 0 {
		t.Errorf("no PC in the record: PC %04X, want 0", rd.PC)
	}
}
