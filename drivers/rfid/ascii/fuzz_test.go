package ascii

import (
	"bytes"
	"testing"

	"github.com/tally-inventory/tally/drivers"
)

func FuzzParseRDM6300(f *testing.F) {
	f.Add([]byte("\x0213005D1DA5F6\x03"))
	f.Add([]byte("\x0213005D1DA5F7\x03"))
	f.Add([]byte("\x02"))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseRDM6300(nil, b)
		if err != nil {
			return
		}
		var a [5]byte
		copy(a[:], id)
		again := AppendRDM6300(nil, a)
		if !bytes.EqualFold(again, b[:RDM6300Size]) {
			t.Fatalf("re-encode %q, want %q", again, b[:RDM6300Size])
		}
	})
}

func FuzzRDM6300Decoder(f *testing.F) {
	f.Add([]byte("\xff\x02\x0212\x0213005D1DA5F6\x03\r\n"), byte(3))
	f.Fuzz(func(t *testing.T, stream []byte, split byte) {
		d := &RDM6300Decoder{}
		step := int(split%16) + 1
		for i := 0; i < len(stream); i += step {
			d.Feed(stream[i:min(i+step, len(stream))])
			for {
				id, ok := d.Next()
				if !ok {
					break
				}
				if len(id) != 5 {
					t.Fatalf("id % X", id)
				}
			}
			if len(d.buf)-d.off > RDM6300Size+step {
				t.Fatalf("holding %d bytes", len(d.buf)-d.off)
			}
		}
	})
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte("E28011700000020F"), "", "")
	f.Add([]byte("ID:04A2B3C4;"), "ID:", ";")
	f.Add([]byte("~!junk?"), "", "")
	f.Fuzz(func(t *testing.T, line []byte, prefix, suffix string) {
		o := LineOpts{Prefix: prefix, Suffix: suffix, MaxDigits: 64}
		code, err := ParseLine(nil, line, o)
		if err != nil {
			return
		}
		if len(code) == 0 || len(code) > 32 {
			t.Fatalf("code of %d bytes from %q", len(code), line)
		}
		again, err := ParseLine(nil, []byte(drivers.HexUpper(code)), LineOpts{})
		if err != nil || !bytes.Equal(again, code) {
			t.Fatalf("round trip %X → %X, %v", code, again, err)
		}
	})
}

func FuzzLineDecoder(f *testing.F) {
	f.Add([]byte("04A2B3C4\r\n04A2B3C5\n~!junk\r"), byte(2))
	f.Fuzz(func(t *testing.T, stream []byte, split byte) {
		d := &LineDecoder{Opts: LineOpts{MinDigits: 2, MaxDigits: 64}, MaxLine: 64}
		step := int(split%16) + 1
		for i := 0; i < len(stream); i += step {
			d.Feed(stream[i:min(i+step, len(stream))])
			for {
				c, ok := d.Next()
				if !ok {
					break
				}
				if len(c) == 0 || len(c) > 32 {
					t.Fatalf("code % X", c)
				}
			}
			if len(d.buf) > 64 || len(d.pending) != 0 {
				t.Fatalf("holding %d + %d bytes", len(d.buf), len(d.pending))
			}
		}
	})
}
