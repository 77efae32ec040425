package thingmagic

import (
	"bufio"
	"bytes"
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
				b, err := hexDecode(strings.ReplaceAll(h, " ", ""))
				if err != nil {
					t.Fatalf("%s: %s: %v", file, name, err)
				}
				m[name] = b
			}
		}
	}
	return m
}

// Every published frame decodes with a good CRC.
func TestMercuryFramesDecode(t *testing.T) {
	for name, b := range loadFrames(t, "testdata/mercury-startup.txt") {
		var err error
		if strings.HasSuffix(name, "ok") || strings.HasPrefix(name, "in") || strings.HasSuffix(name, "one") {
			_, _, err = DecodeResponse(b)
		} else {
			_, _, err = DecodeCommand(b)
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Start-up as the Mercury API does it: the module answers in its
// bootloader, the driver boots the application firmware, then sets region,
// power, Gen2, the antenna port and the antenna search list, and searches
// that list. The commands are the published ones byte for byte.
func TestStartupFromBootloader(t *testing.T) {
	fr := loadFrames(t, "testdata/mercury-startup.txt")
	o := testOpts
	o.Region, o.SearchTime = 0x06, 500*time.Millisecond
	ok := func(op byte) [][]byte { return one(resp(t, op, 0, nil)) }
	tag := gen2("3074257BF7194E4000001A85", -55)
	meta := o.withDefaults().Metadata
	steps := []step{
		{cmd(t, OpVersion, nil), one(resp(t, OpVersion, 0, AppendVersion(nil, testVersion)))},
		{fr["getprogram"], one(fr["inbootloader"])},
		{fr["bootfirmware"], one(resp(t, OpBootFirmware, 0, AppendVersion(nil, testVersion)))},
		{fr["region06"], one(fr["region06ok"])},
		{cmd(t, OpSetReadTxPower, []byte{0x07, 0xD0}), ok(OpSetReadTxPower)},
		{fr["protocol"], ok(OpSetTagProtocol)},
		{fr["antennaport1"], ok(OpSetAntennaPort)},
		{fr["searchlist1"], one(fr["searchlist1ok"])},
		{fr["clearbuffer"], one(fr["clearbufferok"])},
		{fr["search500"], one(fr["search500one"])},
		{cmd(t, OpGetTagBuffer, GetTagBufferData(meta)), one(resp(t, OpGetTagBuffer, 0, AppendTagBuffer(nil, meta, []TagRead{tag})))},
	}
	port := newScript(t, steps...)
	d, err := New("wand", port, o)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 1)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	r := collect(t, out, 1)[0]
	d.Stop()
	if r.TagUID != "3074257BF7194E4000001A85" || r.Antenna != 1 {
		t.Errorf("read %+v", r)
	}
	if !d.Stats().Booted {
		t.Error("Stats.Booted is false after booting from the bootloader")
	}
}

// A module already running its application is not booted again.
func TestStartupInApp(t *testing.T) {
	fr := loadFrames(t, "testdata/mercury-startup.txt")
	steps := initSteps(t, testOpts)
	if !bytes.Equal(steps[1].req, fr["getprogram"]) || !bytes.Equal(steps[1].resp[0], fr["inapp"]) {
		t.Fatalf("initSteps does not ask for the program as published: % X", steps[1].req)
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
