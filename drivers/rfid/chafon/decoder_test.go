package chafon

import (
	"bytes"
	"testing"
)

func invFrame(t testing.TB, status byte, epcs ...[]byte) []byte {
	t.Helper()
	tags := make([]Tag, len(epcs))
	for i, e := range epcs {
		tags[i] = Tag{EPC: e}
	}
	b, err := Response{Cmd: CmdInventory, Status: status, Data: AppendInventory(nil, Protocol18, 0, tags)}.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecoderResync(t *testing.T) {
	e1 := []byte{0xE2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	e2 := []byte{0xE2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
	f1 := invFrame(t, StatusMore, e1)
	f2 := invFrame(t, StatusDone, e2)
	badCRC := append([]byte{}, f1...)
	badCRC[len(badCRC)-1] ^= 0xFF
	other, _ := Response{Cmd: CmdSetPower}.Append(nil) // answer to another command

	tests := []struct {
		name    string
		stream  []byte
		want    [][]byte // EPCs in order
		badCRC  uint64
		skipped uint64
	}{
		{"clean", cat(f1, f2), [][]byte{e1, e2}, 0, 0},
		{"garbage before", cat([]byte{0x00, 0x13, 0xFF, 0x42}, f1, f2), [][]byte{e1, e2}, 0, 4},
		{"garbage between", cat(f1, []byte{0x99, 0x01}, f2), [][]byte{e1, e2}, 0, 2},
		{"bad crc skipped", cat(badCRC, f2), [][]byte{e2}, 1, uint64(len(badCRC))},
		{"other command skipped", cat(other, f2), [][]byte{e2}, 0, uint64(len(other))},
	}
	for _, tt := range tests {
		for _, split := range []int{0, 1, 3, 7} {
			d := &Decoder{Addr: 0}
			var got [][]byte
			feed := func(p []byte) {
				d.Feed(p)
				for {
					r, ok := d.Next(CmdInventory)
					if !ok {
						return
					}
					ParseInventory(Protocol18, r.Data, func(tg Tag) { got = append(got, bytes.Clone(tg.EPC)) })
				}
			}
			if split == 0 {
				feed(tt.stream)
			} else {
				for i := 0; i < len(tt.stream); i += split {
					feed(tt.stream[i:min(i+split, len(tt.stream))])
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%s split %d: %d tags, want %d", tt.name, split, len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Fatalf("%s split %d: tag %d = %X, want %X", tt.name, split, i, got[i], tt.want[i])
				}
			}
			if frames, badCRC, skipped := d.Stats(); badCRC != tt.badCRC || skipped != tt.skipped || frames != uint64(len(tt.want)) {
				t.Fatalf("%s split %d: frames %d badCRC %d skipped %d, want %d %d %d", tt.name, split,
					frames, badCRC, skipped, len(tt.want), tt.badCRC, tt.skipped)
			}
		}
	}
}

// A garbage byte that looks like a long frame header must not hold up
// the complete, valid frame behind it until more bytes come.
func TestDecoderResyncAfterBogusLength(t *testing.T) {
	f := invFrame(t, StatusDone, []byte{1, 2, 3, 4})
	d := &Decoder{Addr: 0}
	d.Feed(cat([]byte{0xF0, 0x00, 0x01}, f)) // "240 bytes follow, addr 0, cmd 1"
	r, ok := d.Next(CmdInventory)
	if !ok || r.Status != StatusDone {
		t.Fatalf("frame behind a false start: %+v %v", r, ok)
	}
	if _, ok := d.Next(CmdInventory); ok {
		t.Fatal("a second frame from one")
	}
	if frames, _, skipped := d.Stats(); frames != 1 || skipped != 3 {
		t.Fatalf("frames %d skipped %d, want 1 and 3", frames, skipped)
	}
}

func TestDecoderAddress(t *testing.T) {
	f, _ := Response{Addr: 5, Cmd: CmdReaderInfo, Data: Info{}.Data()}.Append(nil)
	d := &Decoder{Addr: 4}
	d.Feed(f)
	if _, ok := d.Next(CmdReaderInfo); ok {
		t.Fatal("answer from reader 5 accepted while talking to reader 4")
	}
	d = &Decoder{Addr: BroadcastAddr}
	d.Feed(f)
	if r, ok := d.Next(CmdReaderInfo); !ok || r.Addr != 5 {
		t.Fatalf("broadcast: %+v %v", r, ok)
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
