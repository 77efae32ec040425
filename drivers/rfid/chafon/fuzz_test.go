package chafon

import (
	"bytes"
	"testing"
)

// Seeds shared by the frame fuzzers: the reference vectors and some junk.
var fuzzSeeds = []string{
	"04 00 01 DB 4B",
	"04 FF 21 19 95",
	"13 00 01 03 01 0C 00 00 00 00 00 00 00 00 00 00 03 13 3F 39",
	"15 00 01 03 01 01 0C 00 00 00 00 00 00 00 00 00 00 03 13 6B B1 A5",
	"07 00 01 01 01 00 1E 4B",
	"11 00 21 00 00 16 0C 03 4E 00 1E 0A 01 00 00 00 E6 51",
	"FF FF FF",
	"05",
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := ParseResponse(b)
		if err != nil {
			return
		}
		if n > len(b) || n > MaxFrame {
			t.Fatalf("size %d of %d input bytes", n, len(b))
		}
		again, err := r.Append(nil)
		if err != nil || !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encode % X, %v; want % X", again, err, b[:n])
		}
		// The layouts must reject or accept without panicking.
		ParseInventory(Protocol18, r.Data, func(Tag) {})
		ParseInventory(Protocol288, r.Data, func(Tag) {})
		ParseInfo(r.Data)
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, n, err := ParseCommand(b)
		if err != nil {
			return
		}
		again, err := c.Append(nil)
		if err != nil || !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encode % X, %v; want % X", again, err, b[:n])
		}
	})
}

func FuzzParseInventory(f *testing.F) {
	f.Add(byte(0), unhex(f, "01 0C 00 00 00 00 00 00 00 00 00 00 03 13"))
	f.Add(byte(1), unhex(f, "01 01 0C 00 00 00 00 00 00 00 00 00 00 03 13 6B"))
	f.Add(byte(1), unhex(f, "01 00"))
	f.Fuzz(func(t *testing.T, layout byte, data []byte) {
		p := Protocol18
		if layout&1 == 1 {
			p = Protocol288
		}
		var tags []Tag
		if err := ParseInventory(p, data, func(tg Tag) { tags = append(tags, tg) }); err != nil {
			return
		}
		ant := 0
		if p == Protocol288 {
			if ant = antennaNumber(data[0]); ant == 0 {
				return // unknown antenna bits do not survive a round trip
			}
		}
		if again := AppendInventory(nil, p, ant, tags); !bytes.Equal(again, data) {
			t.Fatalf("re-encode % X, want % X", again, data)
		}
	})
}

// FuzzDecoder feeds arbitrary streams, in arbitrary pieces, to the resync
// decoder: it must never panic and never return a frame whose CRC is
// wrong. (seriallink's own tests hold the buffer to its bound.)
func FuzzDecoder(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(unhex(f, s), byte(3))
	}
	f.Add(cat([]byte{0xF0, 0, 1}, unhex(f, "07 00 01 01 01 00 1E 4B")), byte(1))
	f.Fuzz(func(t *testing.T, stream []byte, split byte) {
		d := &Decoder{Addr: 0}
		step := int(split%16) + 1
		for i := 0; i < len(stream); i += step {
			d.Feed(stream[i:min(i+step, len(stream))])
			for {
				r, ok := d.Next(CmdInventory)
				if !ok {
					break
				}
				b, err := r.Append(nil)
				if err != nil || r.Cmd != CmdInventory || r.Addr != 0 {
					t.Fatalf("bad frame %+v: %v", r, err)
				}
				if _, _, err := ParseResponse(b); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func FuzzParseInfo(f *testing.F) {
	f.Add(unhex(f, "00 16 0C 03 4E 00 1E 0A 01 00 00 00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseInfo(data)
		if err != nil {
			return
		}
		if got, _ := ParseInfo(info.Data()); got != info {
			t.Fatalf("round trip %+v → %+v", info, got)
		}
	})
}
