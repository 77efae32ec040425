package sim_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers/rfid/thingmagic"
	"github.com/tally-inventory/tally/drivers/sim"
)

// script feeds in to a simulator and collects everything it writes.
type script struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (s *script) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s *script) Write(p []byte) (int, error) { return s.out.Write(p) }

func tmCmd(t testing.TB, op byte, data ...byte) []byte {
	f, err := thingmagic.AppendCommand(nil, op, data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tmReplies decodes every reply the simulator wrote, with the driver's
// decoder (framing written apart from the simulator's; both take the CRC
// from drivers/internal/crc16, which is held to the public catalogue).
func tmReplies(t *testing.T, b []byte) []thingmagic.Response {
	var rs []thingmagic.Response
	for len(b) > 0 {
		r, n, err := thingmagic.DecodeResponse(b)
		if err != nil {
			t.Fatalf("reply stream: %v at % X", err, b)
		}
		rs = append(rs, r)
		b = b[n:]
	}
	return rs
}

func tmCart(n int) []sim.Tag {
	tags := make([]sim.Tag, n)
	for i := range tags {
		tags[i] = sim.Tag{EPC: []byte{0x30, 0x74, 0x25, 0x7B, 0xF7, 0x19, 0x4E, 0x40, 0, 0, byte(i >> 8), byte(i)}}
	}
	return tags
}

func TestThingMagicSession(t *testing.T) {
	var in []byte
	in = append(in, tmCmd(t, 0x03)...)
	in = append(in, tmCmd(t, 0x97, 0x0D)...)
	in = append(in, tmCmd(t, 0x92, 0x0A, 0x8C)...) // 27 dBm: the Nano's limit
	in = append(in, tmCmd(t, 0x92, 0x0B, 0xB8)...) // 30 dBm: too high for a Nano
	in = append(in, tmCmd(t, 0x22, 0x00, 0x00, 0x10, 0x00, 0x32)...)
	in = append(in, tmCmd(t, 0x93, 0x00, 0x05)...)
	in = append(in, 0x42, 0xFF, 0x00)             // line noise from the host: a false start
	in = append(in, 0xFF, 0x00, 0x2A, 0x00, 0x00) // clear buffer with a bad CRC: ignored
	in = append(in, tmCmd(t, 0x2A)...)
	in = append(in, tmCmd(t, 0x22, 0x00, 0x00, 0x10, 0x00, 0x32)...)
	for range 30 {
		in = append(in, tmCmd(t, 0x29, 0x00, 0x47, 0x00)...)
	}
	in = append(in, tmCmd(t, 0x97, 0x42)...)
	in = append(in, tmCmd(t, 0x55)...)
	port := &script{in: bytes.NewReader(in)}
	s := sim.NewThingMagic(port, sim.ThingMagicOpts{Tags: tmCart(300), Hardware: 0x30, InApp: true})
	if err := s.Serve(context.Background()); !errors.Is(err, io.EOF) {
		t.Fatalf("Serve = %v", err)
	}
	rs := tmReplies(t, port.out.Bytes())
	if len(rs) != 8+30+2 {
		t.Fatalf("%d replies", len(rs))
	}
	v, err := thingmagic.ParseVersion(rs[0].Data)
	if err != nil || v.Hardware[0] != 0x30 || v.Protocols != 0x10 {
		t.Fatalf("version %+v, %v", v, err)
	}
	wantStatus := []thingmagic.Status{0, 0, 0, thingmagic.StatusPowerTooHigh, thingmagic.StatusNoProtocol, 0, 0, 0}
	for i, w := range wantStatus {
		if rs[i].Status != w {
			t.Errorf("reply %d (op 0x%02X): status %v, want %v", i, rs[i].Opcode, rs[i].Status, w)
		}
	}
	count, err := thingmagic.ParseTagCount(rs[7].Data)
	if err != nil || count != 300 {
		t.Fatalf("tag count %d, %v", count, err)
	}
	seen := map[string]bool{}
	i := 8
	for ; i < len(rs) && rs[i].Opcode == 0x29 && rs[i].Status == 0; i++ {
		tb, err := thingmagic.ParseTagBuffer(rs[i].Data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range tb.Tags {
			if tg.Protocol != 5 || len(tg.PC) != 2 || tg.PC[0] != 0x30 || tg.RSSI >= -39 || tg.Antenna != 1 {
				t.Fatalf("record %+v", tg)
			}
			seen[string(tg.EPC)] = true
		}
	}
	if len(seen) != 300 {
		t.Fatalf("%d tags drained", len(seen))
	}
	if rs[i].Status != thingmagic.StatusBufferEmpty {
		t.Errorf("drained buffer: status %v", rs[i].Status)
	}
	last := rs[len(rs)-2:]
	if last[0].Status != thingmagic.StatusInvalidRegion || last[1].Status != thingmagic.StatusInvalidOpcode {
		t.Errorf("tail statuses %v %v", last[0].Status, last[1].Status)
	}
	if st := s.Stats(); st.BadCommands != 2 || st.Searches != 1 || st.TagRecords != 300 {
		t.Errorf("stats %+v", st)
	}
}

// The StoredCRC in each record is the Gen2 CRC-16 over PC+EPC.
func TestThingMagicTagCRC(t *testing.T) {
	in := append(tmCmd(t, 0x93, 0, 5), tmCmd(t, 0x22, 0, 0, 0, 0, 0)...)
	in = append(in, tmCmd(t, 0x29, 0x00, 0x40, 0x00)...)
	port := &script{in: bytes.NewReader(in)}
	// EPC chosen so PC+EPC is "123456789" after the PC word 0x3100.
	s := sim.NewThingMagic(port, sim.ThingMagicOpts{Tags: []sim.Tag{{EPC: []byte("123456789"), PC: 0x3100}}, InApp: true})
	s.Serve(context.Background())
	rs := tmReplies(t, port.out.Bytes())
	tb, err := thingmagic.ParseTagBuffer(rs[2].Data, nil)
	if err != nil || len(tb.Tags) != 1 {
		t.Fatal(err)
	}
	// CRC-16/GENIBUS of 31 00 "123456789", computed independently.
	crc := uint16(0xFFFF)
	for _, c := range append([]byte{0x31, 0x00}, "123456789"...) {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	if got := tb.Tags[0].TagCRC; got != ^crc {
		t.Errorf("tag CRC 0x%04X, want 0x%04X", got, ^crc)
	}
}

func TestThingMagicNoise(t *testing.T) {
	var in []byte
	for range 50 {
		in = append(in, tmCmd(t, 0x03)...)
	}
	port := &script{in: bytes.NewReader(in)}
	s := sim.NewThingMagic(port, sim.ThingMagicOpts{Noise: sim.Noise{BadCRCRate: 1, Seed: 3}})
	s.Serve(context.Background())
	b := port.out.Bytes()
	if len(b) != 50*27 {
		t.Fatalf("%d bytes", len(b))
	}
	for i := 0; i < len(b); i += 27 {
		if _, _, err := thingmagic.DecodeResponse(b[i : i+27]); err == nil {
			t.Fatalf("reply %d has a good CRC under BadCRCRate 1", i/27)
		}
	}
	port = &script{in: bytes.NewReader(in)}
	s = sim.NewThingMagic(port, sim.ThingMagicOpts{Noise: sim.Noise{GarbageRate: 1, SplitRate: 1, Seed: 3}})
	s.Serve(context.Background())
	if n := port.out.Len(); n <= 50*27 {
		t.Fatalf("garbage rate 1 added no bytes: %d", n)
	}
	if c := bytes.Count(port.out.Bytes(), tmReply(t)); c != 50 {
		t.Fatalf("%d intact replies behind the garbage, want 50", c)
	}
}

func tmReply(t *testing.T) []byte {
	port := &script{in: bytes.NewReader(tmCmd(t, 0x03))}
	sim.NewThingMagic(port, sim.ThingMagicOpts{}).Serve(context.Background())
	return port.out.Bytes()
}

func TestThingMagicUnplug(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	s := sim.NewThingMagic(a, sim.ThingMagicOpts{})
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background()) }()
	b.Write(tmCmd(t, 0x03))
	buf := make([]byte, 64)
	if n, err := b.Read(buf); err != nil || n != 27 {
		t.Fatalf("version reply: %d, %v", n, err)
	}
	s.Unplug()
	select {
	case err := <-done:
		if !errors.Is(err, sim.ErrUnplugged) {
			t.Fatalf("Serve = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := b.Write(tmCmd(t, 0x03)); err == nil {
		t.Fatal("an unplugged reader still takes bytes")
	}
}

// FuzzThingMagicSim: whatever the host sends, the simulator never panics
// and every byte it answers with is a well-formed reply.
func FuzzThingMagicSim(f *testing.F) {
	f.Add(tmCmd(f, 0x03))
	f.Add(append(tmCmd(f, 0x93, 0, 5), tmCmd(f, 0x22, 0, 0, 0x10, 0, 5)...))
	f.Add(append(append(tmCmd(f, 0x93, 0, 5), tmCmd(f, 0x22, 0, 0, 0, 0, 5)...), tmCmd(f, 0x29, 0x01, 0xFF, 0)...))
	f.Add([]byte{0xFF, 0xFF, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		port := &script{in: bytes.NewReader(in)}
		sim.NewThingMagic(port, sim.ThingMagicOpts{Tags: tmCart(3)}).Serve(context.Background())
		tmReplies(t, port.out.Bytes())
	})
}

// The simulated module starts in its bootloader and answers the published
// start-up frames (github.com/Barfell/work app_rfid.c, commit 3155ee17, the
// same frames as drivers/rfid/thingmagic/testdata/mercury-boot-session.txt) with
// the replies captured there, byte for byte.
func TestThingMagicBootloaderAsPublished(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	talk := []struct{ cmd, reply string }{
		{"FF 00 0C 1D 03", "FF 01 0C 00 00 11 63 40"},       // get current program: bootloader
		{"FF 01 97 06 4B BB", ""},                           // set region: refused by the bootloader
		{"FF 00 04 1D 0B", ""},                              // boot firmware: the version, checked below
		{"FF 00 0C 1D 03", "FF 01 0C 00 00 12 63 43"},       // now the application
		{"FF 01 97 06 4B BB", "FF 00 97 00 00 77 9E"},       // captured reply
		{"FF 03 91 02 01 01 42 C5", "FF 00 91 00 00 17 58"}, // captured reply
		{"FF 00 2A 1D 25", "FF 00 2A 00 00 01 E8"},          // captured reply
	}
	var in []byte
	for _, x := range talk {
		in = append(in, h(x.cmd)...)
	}
	port := &script{in: bytes.NewReader(in)}
	s := sim.NewThingMagic(port, sim.ThingMagicOpts{})
	s.Serve(context.Background())
	out := port.out.Bytes()
	for i, x := range talk {
		r, n, err := thingmagic.DecodeResponse(out)
		if err != nil {
			t.Fatalf("reply %d: %v in % X", i, err, out)
		}
		switch {
		case i == 1:
			if r.Status != thingmagic.StatusInvalidOpcode {
				t.Errorf("bootloader answered set region with %v", r.Status)
			}
		case i == 2:
			if r.Status != 0 || len(r.Data) != 20 {
				t.Errorf("boot firmware reply %+v", r)
			}
		case !bytes.Equal(out[:n], h(x.reply)):
			t.Errorf("reply to %s = % X, want %s", x.cmd, out[:n], x.reply)
		}
		out = out[n:]
	}
	if s.Stats().Boots != 1 {
		t.Errorf("boots %d", s.Stats().Boots)
	}
}
