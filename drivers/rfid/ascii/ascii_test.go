package ascii

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// reader plays chunks the way a text-output reader prints them; it takes
// no commands, so any write fails the test (checked when it ends).
func reader(t *testing.T, evs ...transcript.Event) *transcript.Playback {
	return transcript.Play(t, transcript.Silent, evs...)
}

func TestDriverLines(t *testing.T) {
	port := reader(t,
		transcript.Event{Dir: transcript.Read, Data: []byte("ID:04a2b3c4\r\nnoise\r\nID:E28011700000020FAA000001\n")},
		transcript.Event{Dir: transcript.Fail, Err: "input/output error"})
	o := DefaultOpts
	o.Prefix = "ID:"
	d, err := New("desk", port, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 4)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		uid string
		raw []byte
	}{
		{"04A2B3C4", []byte{4, 0xA2, 0xB3, 0xC4}},
		{"E28011700000020FAA000001", []byte{0xE2, 0x80, 0x11, 0x70, 0, 0, 2, 0x0F, 0xAA, 0, 0, 1}},
	}
	for i, w := range want {
		r := <-out
		if r.Device != "desk" || r.Kind != drivers.KindRFID || r.TagUID != w.uid || r.Code != w.uid || !bytes.Equal(r.Raw, w.raw) || r.Time.IsZero() {
			t.Fatalf("read %d = %+v, want %s", i, r, w.uid)
		}
	}
	// The port vanishing ends reading with ErrDisconnected.
	if err := <-d.Err(); !errors.Is(err, drivers.ErrDisconnected) || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("Err = %v, want ErrDisconnected", err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if s := d.Stats(); s.Codes != 2 || s.BadLines != 1 {
		t.Fatalf("stats %+v, want 2 codes and 1 bad line", s)
	}
	port.Check(t)
}

func TestDriverRDM6300(t *testing.T) {
	// One chunk: the frame with its checksum off by one, a stray byte, the
	// good frame (checksum F6). The driver decodes a chunk to its end
	// before it reads on, so the bad frame is counted once the read is out.
	port := reader(t, transcript.Reads([]byte("\x0213005D1DA5F7\x03\xff\x0213005D1DA5F6\x03"))...)
	d, err := New("lf", port, RDM6300Opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 4)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	r := <-out
	if r.TagUID != "13005D1DA5" || r.Symbology != "EM4100" || !bytes.Equal(r.Raw, []byte{0x13, 0, 0x5D, 0x1D, 0xA5}) {
		t.Fatalf("read = %+v", r)
	}
	// Stop returns even though the port's Read is still blocked, and Err
	// is closed without an error.
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if err, ok := <-d.Err(); ok || err != nil {
		t.Fatalf("Err after Stop = %v, %v", err, ok)
	}
	if s := d.Stats(); s.BadChecksum != 1 || s.Codes != 1 {
		t.Fatalf("stats %+v", s)
	}
	if err := port.Close(); err != nil {
		t.Error(err)
	}
}

func TestOpts(t *testing.T) {
	if _, err := New("x", reader(t), Opts{Format: 7}); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := New("x", reader(t), Opts{MinDigits: 10, MaxDigits: 4}); err == nil {
		t.Error("min > max accepted")
	}
	if _, err := Open("x", "", 9600, DefaultOpts); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := Open("x", "/dev/null", 0, DefaultOpts); err == nil {
		t.Error("zero baud accepted")
	}
}
