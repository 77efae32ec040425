package feig

import (
	"bytes"
	"errors"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	f.Add([]byte{0x07, 0xFF, 0xB0, 0x01, 0x00, 0x1C, 0x56})
	f.Add([]byte{0x05, 0xFF, 0x65, 0xE5, 0xCB})
	r, _ := AppendReply(nil, Frame{Cmd: CmdISO, Status: StatusMoreData, Data: AppendInventory(nil, []InventoryItem{{TRType: 3, UID: [8]byte{0xE0, 4}}})})
	f.Add(r)
	r, _ = AppendReply(nil, Frame{Advanced: true, Cmd: CmdISO, Data: AppendBlocks(nil, 4, make([]byte, 32))})
	f.Add(r)
	f.Add([]byte{0x02, 0xFF, 0xFF})
	f.Add([]byte{})
}

// FuzzDecodeReply: any input decodes or fails cleanly, and whatever decodes
// re-encodes to the same bytes.
func FuzzDecodeReply(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := DecodeReply(b)
		if err != nil {
			var fe *FrameError
			if !errors.Is(err, ErrShort) && !errors.As(err, &fe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		again, err := AppendReply(nil, fr)
		if err != nil || !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encode = % X, %v; want % X", again, err, b[:n])
		}
	})
}

func FuzzDecodeRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := DecodeRequest(b)
		if err != nil {
			return
		}
		again, err := AppendRequest(nil, fr)
		if err != nil || !bytes.Equal(again, b[:n]) {
			t.Fatalf("re-encode = % X, %v; want % X", again, err, b[:n])
		}
	})
}

func FuzzParseInventory(f *testing.F) {
	f.Add(AppendInventory(nil, []InventoryItem{{TRType: 3, UID: [8]byte{0xE0, 4, 1}}, {TRType: 3, DSFID: 6}}))
	f.Add([]byte{0})
	f.Add([]byte{3, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := ParseInventory(b, nil)
		if err != nil {
			return
		}
		if again := AppendInventory(nil, items); !bytes.Equal(again, b) {
			t.Fatalf("re-encode = % X", again)
		}
	})
}

func FuzzParseBlocks(f *testing.F) {
	f.Add(AppendBlocks(nil, 4, make([]byte, 112)))
	f.Add([]byte{1, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{0, 0})
	f.Add([]byte{255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		bl, err := ParseBlocks(b)
		if err != nil {
			return
		}
		if len(bl.Data) != bl.Count*bl.Size || len(bl.Security) != bl.Count {
			t.Fatalf("blocks %+v from % X", bl, b)
		}
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

func benchInventory() []byte {
	var items []InventoryItem
	for i := range 24 {
		items = append(items, InventoryItem{TRType: 3, UID: uidN(i)})
	}
	f, _ := AppendReply(nil, Frame{Cmd: CmdISO, Data: AppendInventory(nil, items)})
	return f
}

// BenchmarkDecodeReply is frame decoding alone, the baseline for
// BenchmarkDecodeInventory.
func BenchmarkDecodeReply(b *testing.B) {
	f := benchInventory()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeReply(f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeInventory decodes a full standard inventory frame (24
// tags) and reports the cost per tag.
func BenchmarkDecodeInventory(b *testing.B) {
	f := benchInventory()
	var items []InventoryItem
	b.ReportAllocs()
	for b.Loop() {
		r, _, err := DecodeReply(f)
		if err != nil {
			b.Fatal(err)
		}
		items, err = ParseInventory(r.Data, items)
		if err != nil || len(items) != 24 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*24), "ns/tag")
}
