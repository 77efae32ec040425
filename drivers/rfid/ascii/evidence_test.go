package ascii

import (
	"bytes"
	"context"
	"testing"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// The RDM630 data sheet's own example frame, as Seeed's wiki prints it,
// decodes to its card number.
func TestSeeedRDM630Example(t *testing.T) {
	tr, err := transcript.Load("testdata/seeed-rdm630.txt")
	if err != nil {
		t.Fatal(err)
	}
	port := transcript.NewPlayback(tr, transcript.Silent)
	d, err := New("lf", port, RDM6300Opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 1)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	r := <-out
	d.Stop()
	if r.TagUID != "62E3086CED" || !bytes.Equal(r.Raw, []byte{0x62, 0xE3, 0x08, 0x6C, 0xED}) {
		t.Errorf("read %+v", r)
	}
	if err := port.Err(); err != nil {
		t.Error(err)
	}
}
