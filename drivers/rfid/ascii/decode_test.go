package ascii

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/drivers"
)

// RDM6300 frame: STX, 10 hex digits, the XOR of the five bytes as 2 hex
// digits, ETX; data 13005D1DA5 XORs to F6 (13^00^5D^1D^A5 = F6), and
// testdata/seeed-rdm630.txt holds Seeed Studio's worked example.
func TestRDM6300Vector(t *testing.T) {
	f := []byte("\x0213005D1DA5F6\x03")
	got := AppendRDM6300(nil, [5]byte{0x13, 0x00, 0x5D, 0x1D, 0xA5})
	if !bytes.Equal(got, f) {
		t.Fatalf("encode = %q, want %q", got, f)
	}
	id, err := ParseRDM6300(nil, f)
	if err != nil || !bytes.Equal(id, []byte{0x13, 0x00, 0x5D, 0x1D, 0xA5}) {
		t.Fatalf("decode = % X, %v", id, err)
	}
	// Lower-case digits are accepted too.
	if _, err := ParseRDM6300(nil, []byte("\x0213005d1da5f6\x03")); err != nil {
		t.Fatal(err)
	}
}

func TestRDM6300Errors(t *testing.T) {
	tests := []struct {
		in  string
		err error
		at  string
	}{
		{"\x0213005D1DA5F7\x03", ErrChecksum, "byte 11"},
		{"\x0213005D1DA5F6\x04", ErrFraming, "byte 13"},
		{"X13005D1DA5F6\x03", ErrFraming, "byte 0"},
		{"\x0213005G1DA5F6\x03", ErrNotHex, "byte 6"},
		{"\x0213005D", ErrTruncated, "byte 7"},
	}
	for _, tt := range tests {
		_, err := ParseRDM6300(nil, []byte(tt.in))
		if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.at) {
			t.Errorf("%q: err = %v, want %v at %s", tt.in, err, tt.err, tt.at)
		}
	}
}

func TestRDM6300Stream(t *testing.T) {
	a := AppendRDM6300(nil, [5]byte{1, 2, 3, 4, 5})
	b := AppendRDM6300(nil, [5]byte{0xAA, 0xBB, 0xCC, 0xDD, 0xEE})
	bad := append([]byte{}, a...)
	bad[12] = 'F' // checksum 01 → 0F
	stream := bytes.Join([][]byte{
		[]byte("\xff\x02\x0212"), // garbage with stray STXs
		a,
		[]byte("\r\n"), // some clones add CRLF
		bad,
		a[:5], // a frame cut short by a real one
		b,
	}, nil)
	for _, split := range []int{0, 1, 5} {
		d := &RDM6300Decoder{}
		var got []string
		feed := func(p []byte) {
			d.Feed(p)
			for {
				id, ok := d.Next()
				if !ok {
					return
				}
				got = append(got, drivers.HexUpper(id))
			}
		}
		if split == 0 {
			feed(stream)
		} else {
			for i := 0; i < len(stream); i += split {
				feed(stream[i:min(i+split, len(stream))])
			}
		}
		if strings.Join(got, ",") != "0102030405,AABBCCDDEE" {
			t.Fatalf("split %d: got %v", split, got)
		}
		if d.Stats.BadChecksum.Load() != 1 || d.Stats.Codes.Load() != 2 {
			t.Fatalf("split %d: bad checksum %d codes %d", split, d.Stats.BadChecksum.Load(), d.Stats.Codes.Load())
		}
	}
}

func TestParseLine(t *testing.T) {
	o := LineOpts{Prefix: "ID:", Suffix: ";", MinDigits: 8, MaxDigits: 24}
	tests := []struct {
		line string
		want string
		err  error
	}{
		{"E28011700000020F", "E28011700000020F", nil},
		{"e28011700000020f", "E28011700000020F", nil},
		{"ID:04A2B3C4", "04A2B3C4", nil},
		{"ID: 04A2B3C4;", "04A2B3C4", nil},
		{"  04A2B3C4  ", "04A2B3C4", nil},
		{"04A2B3", "", ErrLength},                     // too short
		{"04A2B3C", "", ErrLength},                    // odd
		{"04A2B3CX", "", ErrNotHex},                   // junk
		{"3074257BF7194E4000001A85FF", "", ErrLength}, // too long
		{"ID:", "", ErrLength},
	}
	for _, tt := range tests {
		got, err := ParseLine(nil, []byte(tt.line), o)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%q: err = %v, want %v", tt.line, err, tt.err)
			}
			continue
		}
		if err != nil || drivers.HexUpper(got) != tt.want {
			t.Errorf("%q = %X, %v; want %s", tt.line, got, err, tt.want)
		}
	}
	_, err := ParseLine(nil, []byte("ID:04A2ZZC4"), o)
	if err == nil || !strings.Contains(err.Error(), "byte 7") {
		t.Errorf("error %v should point at byte 7", err)
	}
}

func TestLineStream(t *testing.T) {
	stream := "04A2B3C4\r\n" + // CRLF
		"04A2B3C5\n" + // LF
		"04A2B3C6\r" + // CR
		"\r\n\n" + // blank lines
		"~!junk?\r\n" + // garbage line
		strings.Repeat("A", 300) + "\n" + // overlong line
		"E28011700000020FAA000001\r\n"
	want := "04A2B3C4,04A2B3C5,04A2B3C6,E28011700000020FAA000001"
	for _, split := range []int{0, 1, 7} {
		d := &LineDecoder{Opts: LineOpts{MinDigits: 8, MaxDigits: 64}}
		var got []string
		feed := func(p []byte) {
			d.Feed(p)
			for {
				c, ok := d.Next()
				if !ok {
					return
				}
				got = append(got, drivers.HexUpper(c))
			}
		}
		if split == 0 {
			feed([]byte(stream))
		} else {
			for i := 0; i < len(stream); i += split {
				feed([]byte(stream[i:min(i+split, len(stream))]))
			}
		}
		if strings.Join(got, ",") != want {
			t.Fatalf("split %d: got %v", split, got)
		}
		if n := d.Stats.BadLines.Load(); n != 2 {
			t.Fatalf("split %d: %d bad lines, want 2", split, n)
		}
		if len(d.buf) > 256 {
			t.Fatalf("line buffer grew to %d", len(d.buf))
		}
	}
}

// Every frame type round-trips.
func TestRoundTrip(t *testing.T) {
	for _, id := range [][5]byte{{}, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, {0x13, 0x00, 0x5D, 0x1D, 0xA5}} {
		got, err := ParseRDM6300(nil, AppendRDM6300(nil, id))
		if err != nil || !bytes.Equal(got, id[:]) {
			t.Errorf("%X: %X %v", id, got, err)
		}
	}
	for _, code := range []string{"04A2B3C4", "E28011700000020FAA000001"} {
		got, err := ParseLine(nil, []byte(code), LineOpts{})
		if err != nil || drivers.HexUpper(got) != code {
			t.Errorf("%s: %X %v", code, got, err)
		}
	}
}
