package ascii

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/tally-inventory/tally/drivers"
)

// pipePort is a port whose far end the test writes.
type pipePort struct {
	*io.PipeReader
	w *io.PipeWriter
}

func (p pipePort) Write(b []byte) (int, error) { return len(b), nil }

func newPipePort() pipePort {
	r, w := io.Pipe()
	return pipePort{r, w}
}

func TestDriverLines(t *testing.T) {
	port := newPipePort()
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
	go port.w.Write([]byte("ID:04a2b3c4\r\nnoise\r\nID:E28011700000020FAA000001\n"))
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
	port.w.CloseWithError(errors.New("input/output error"))
	if err := <-d.Err(); !errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("Err = %v, want ErrDisconnected", err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if s := d.Stats(); s.Codes != 2 || s.BadLines != 1 {
		t.Fatalf("stats %+v, want 2 codes and 1 bad line", s)
	}
}

func TestDriverRDM6300(t *testing.T) {
	port := newPipePort()
	d, err := New("lf", port, RDM6300Opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 4)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	go port.w.Write([]byte("\x0213005D1DA5F7\x03\xff\x0213005D1DA5F6\x03"))
	r := <-out
	if r.TagUID != "13005D1DA5" || r.Symbology != "EM4100" || !bytes.Equal(r.Raw, []byte{0x13, 0, 0x5D, 0x1D, 0xA5}) {
		t.Fatalf("read = %+v", r)
	}
	// Stop returns even though the pipe's Read is still blocked, and Err
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
	port.w.Close()
}

func TestOpts(t *testing.T) {
	if _, err := New("x", newPipePort(), Opts{Format: 7}); err == nil {
		t.Error("unknown format accepted")
	}
	if _, err := New("x", newPipePort(), Opts{MinDigits: 10, MaxDigits: 4}); err == nil {
		t.Error("min > max accepted")
	}
	if _, err := Open("x", "", 9600, DefaultOpts); err == nil {
		t.Error("empty path accepted")
	}
	if _, err := Open("x", "/dev/null", 0, DefaultOpts); err == nil {
		t.Error("zero baud accepted")
	}
}
