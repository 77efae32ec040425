package thingmagic

import (
	"bytes"
	"errors"
	"testing"

	"github.com/tally-inventory/tally/drivers/rfid/internal/seriallink"
)

func fuzzSeeds(f *testing.F) {
	f.Add([]byte{0xFF, 0x00, 0x03, 0x1D, 0x0C})
	f.Add([]byte{0xFF, 0x03, 0x9A, 0x01, 0x0C, 0x00, 0xA3, 0x5D})
	r, _ := AppendResponse(nil, OpReadTagMultiple, StatusNoTagsFound, nil)
	f.Add(r)
	tb := AppendTagBuffer(nil, DefaultOpts.Metadata, []TagRead{{ReadCount: 1, RSSI: -50, Antenna: 1, Protocol: 5, PC: []byte{0x30, 0}, EPC: make([]byte, 12)}})
	r, _ = AppendResponse(nil, OpGetTagBuffer, 0, tb)
	f.Add(r)
	f.Add([]byte{0xFF, 0xFF})
	f.Add([]byte{})
}

// FuzzDecodeResponse: any input decodes or fails cleanly, and whatever
// decodes re-encodes to the same bytes.
func FuzzDecodeResponse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := DecodeResponse(b)
		if err != nil {
			var fe *FrameError
			if !errors.Is(err, ErrShort) && !errors.As(err, &fe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		again, err := AppendResponse(nil, r.Opcode, r.Status, r.Data)
		if err != nil || !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encode = % X, %v; want % X", again, err, b[:n])
		}
	})
}

func FuzzDecodeCommand(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, n, err := DecodeCommand(b)
		if err != nil {
			return
		}
		again, err := AppendCommand(nil, c.Opcode, c.Data)
		if err != nil || !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encode = % X, %v; want % X", again, err, b[:n])
		}
	})
}

// FuzzParseTagBuffer: any tag buffer reply parses or fails with a
// FrameError; parsed records cover the input exactly.
func FuzzParseTagBuffer(f *testing.F) {
	f.Add(AppendTagBuffer(nil, DefaultOpts.Metadata, []TagRead{{ReadCount: 2, RSSI: -61, Antenna: 1, Protocol: 5, PC: []byte{0x30, 0}, EPC: make([]byte, 12), TagCRC: 7}}))
	f.Add(AppendTagBuffer(nil, 0x01FF, []TagRead{{Protocol: 5, Data: []byte{1, 2}, PC: []byte{0x32, 0, 0x80, 0, 0, 0}, EPC: []byte{1, 2}}}))
	f.Add([]byte{0, 0x40, 0, 1, 5, 0, 0x20, 0x02, 0, 0})
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := ParseTagBuffer(b, nil)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Offset < 0 || fe.Offset > len(b) {
				t.Fatalf("error %v", err)
			}
			return
		}
		n := 4
		for _, tg := range tb.Tags {
			n += len(tg.Raw)
		}
		if n != len(b) {
			t.Fatalf("records cover %d of %d bytes", n, len(b))
		}
	})
}

func FuzzParseTagCount(f *testing.F) {
	f.Add([]byte{0, 0, 0x10, 0, 0, 1, 0x2C})
	f.Add([]byte{0, 0, 0, 7})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseTagCount(b)
		if err == nil && n < 0 && len(b) < 7 {
			t.Fatalf("negative count %d", n)
		}
		ParseVersion(b)
	})
}

func BenchmarkCRC(b *testing.B) {
	frame := make([]byte, 250)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		CRC(frame)
	}
}

func benchFrame() []byte {
	var tags []TagRead
	for i := range 11 {
		tags = append(tags, TagRead{ReadCount: 1, RSSI: -50, Antenna: 1, Protocol: 5, PC: []byte{0x30, 0}, EPC: []byte{0x34, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, byte(i)}})
	}
	f, _ := AppendResponse(nil, OpGetTagBuffer, 0, AppendTagBuffer(nil, DefaultOpts.Metadata, tags))
	return f
}

// BenchmarkDecodeResponse is frame decoding alone (CRC plus header), the
// baseline for BenchmarkDecodeTagBuffer.
func BenchmarkDecodeResponse(b *testing.B) {
	f := benchFrame()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeResponse(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeTagBuffer decodes a full tag buffer frame (11 tags) and
// reports the cost per tag.
func BenchmarkDecodeTagBuffer(b *testing.B) {
	f := benchFrame()
	var tags []TagRead
	b.ReportAllocs()
	for b.Loop() {
		r, _, err := DecodeResponse(f)
		if err != nil {
			b.Fatal(err)
		}
		tb, err := ParseTagBuffer(r.Data, tags)
		if err != nil || len(tb.Tags) != 11 {
			b.Fatal(err)
		}
		tags = tb.Tags
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*11), "ns/tag")
}

// BenchmarkScanNoisy finds frames in a stream with garbage and false starts.
func BenchmarkScanNoisy(b *testing.B) {
	f := benchFrame()
	stream := append([]byte{0x13, 0xFF, 0xC8, 0x29, 0x00}, f...)
	probe := func(p []byte) int {
		if p[0] != SOH {
			return -1
		}
		if len(p) < 3 {
			return 0
		}
		if p[2] != OpGetTagBuffer {
			return -1
		}
		return 7 + int(p[1])
	}
	verify := crcOK
	var s seriallink.Scanner
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		s.Reset()
		s.Feed(stream)
		if _, ok := s.Next(probe, verify); !ok {
			b.Fatal("no frame")
		}
	}
}
