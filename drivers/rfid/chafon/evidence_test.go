package chafon

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	tscript "github.com/tally-inventory/tally/drivers/transcript"
)

// A UHFReader86 (CF-MU903/904, type 0x10 as shipped or 0x0F as documented)
// is driven as chafon-rfid drives it: the 288 inventory command, answers in
// the 288 layout, no work-mode command; status 0xF8 is named.
func TestUHFReader86(t *testing.T) {
	for _, typ := range []byte{Type86, Type86Doc} {
		t.Run(fmt.Sprintf("type 0x%02X", typ), func(t *testing.T) {
			tr, err := tscript.Load("testdata/uhfreader86-session.txt")
			if err != nil {
				t.Fatal(err)
			}
			// Every frame decodes, whichever way it went.
			for _, ev := range tr.Events {
				var err error
				if ev.Dir == tscript.Write {
					_, _, err = ParseCommand(ev.Data)
				} else {
					_, _, err = ParseResponse(ev.Data)
				}
				if err != nil {
					t.Errorf("line %d: %v", ev.Line, err)
				}
			}
			if typ == Type86Doc {
				info := tr.Events[1].Data
				r, _, _ := ParseResponse(info)
				r.Data[2] = typ
				tr.Events[1].Data, _ = r.Append(nil)
			}
			port := tscript.NewPlayback(tr, tscript.Silent)
			defer port.Close()
			opts := DefaultOpts
			opts.Power, opts.Q, opts.ScanTime = 26, 4, 2*time.Second
			opts.Timeout = 250 * time.Millisecond
			d, err := New("gate", port, opts)
			if err != nil {
				t.Fatal(err)
			}
			out := make(chan drivers.Read, 4)
			if err := d.Start(context.Background(), out); err != nil {
				t.Fatal(err)
			}
			if d.Protocol() != Protocol288 {
				t.Errorf("protocol %v, want the 288 layout", d.Protocol())
			}
			for i, want := range []string{"000000000000000000000313", "000000000000000000000314"} {
				select {
				case r := <-out:
					if r.TagUID != want || r.Antenna != 1 {
						t.Errorf("read %d: %s antenna %d, want %s antenna 1", i, r.TagUID, r.Antenna, want)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("read %d never came", i)
				}
			}
			err = <-d.Err()
			d.Stop()
			if err == nil || !strings.Contains(err.Error(), "antenna error") {
				t.Errorf("Err = %v, want the antenna error named", err)
			}
			if err := port.Err(); err != nil {
				t.Error(err)
			}
		})
	}
}
