package chafon

import (
	"bufio"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// loadFrames reads "name > hex" and "name < hex" lines from a testdata file.
func loadFrames(t *testing.T, file string) map[string][]byte {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, sep := range []string{" > ", " < "} {
			if name, h, ok := strings.Cut(line, sep); ok {
				m[name] = unhex(t, h)
			}
		}
	}
	return m
}

// A UHFReader86 (CF-MU903/904, type 0x10 or 0x0F) is driven as chafon-rfid
// drives it: the 288 inventory command, answers in the 288 layout, no
// work-mode command.
func TestUHFReader86(t *testing.T) {
	fr := loadFrames(t, "testdata/chafon-rfid.txt")
	for _, info := range []string{"info86", "info86doc"} {
		t.Run(info, func(t *testing.T) {
			tr := newTranscript(t,
				exchange{unhex(t, "04 FF 21 19 95"), fr[info]},
				exchange{fr["power26"], frame(t, Response{Cmd: CmdSetPower})},
				// status 0x03 "more frames", then the round's last frame
				exchange{fr["inventory86"], cat(fr["tags2"], fr["notags"])},
				exchange{fr["inventory86"], fr["antennaerror"]},
			)
			opts := DefaultOpts
			opts.Power, opts.Q, opts.ScanTime = 26, 4, 2*time.Second
			opts.Timeout = 20 * time.Millisecond
			d, err := New("gate", tr, opts)
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
				case err := <-d.Err():
					t.Fatalf("reading failed: %v", err)
				}
			}
			err = <-d.Err()
			d.Stop()
			if err == nil || !strings.Contains(err.Error(), "antenna error") {
				t.Errorf("Err = %v, want the antenna error named", err)
			}
		})
	}
}
