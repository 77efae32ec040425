package thingmagic

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
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
