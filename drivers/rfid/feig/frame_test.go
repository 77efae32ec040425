package feig

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCRCCheckValue(t *testing.T) {
	if got := CRC([]byte("123456789")); got != 0x6F91 {
		t.Fatalf("CRC(123456789) = 0x%04X, want 0x6F91 (CRC-16/MCRF4XX)", got)
	}
}

// Request frames built from the ISO-host layout in FEIG's ID CPR manual
// (H20800-16e-ID-B; CRC-16/MCRF4XX LSB first); testdata/annex-f-session.txt
// carries them with the manual's own frames.
func TestRequestVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Frame
		want string
	}{
		{"ISO 15693 inventory", Frame{Addr: 0xFF, Cmd: CmdISO, Data: InventoryRequest(0)}, "07 FF B0 01 00 1C 56"},
		{"get software version", Frame{Addr: 0xFF, Cmd: CmdSoftwareVersion}, "05 FF 65 E5 CB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendRequest(nil, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, tc.want)
			if !bytes.Equal(got, want) {
				t.Fatalf("encode = % X, want % X", got, want)
			}
			f, n, err := DecodeRequest(want)
			if err != nil || n != len(want) || f.Cmd != tc.f.Cmd || f.Addr != tc.f.Addr || !bytes.Equal(f.Data, tc.f.Data) {
				t.Fatalf("decode = %+v, %d, %v", f, n, err)
			}
		})
	}
}

func TestFrameRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0x5A}, 3000)
	for _, tc := range []struct {
		name  string
		f     Frame
		reply bool
	}{
		{"standard request", Frame{Addr: 0, Cmd: CmdISO, Data: ReadBlocksRequest([8]byte{0xE0, 4, 1, 2, 3, 4, 5, 6}, 0, 28)}, false},
		{"standard reply", Frame{Addr: 3, Cmd: CmdISO, Status: StatusMoreData, Data: []byte{1, 2, 3}}, true},
		{"standard reply, empty", Frame{Addr: 0, Cmd: CmdISO, Status: StatusNoTransponder}, true},
		{"standard reply, full", Frame{Addr: 0, Cmd: CmdISO, Data: make([]byte, MaxStandard-7)}, true},
		{"advanced request", Frame{Advanced: true, Addr: 0xFF, Cmd: CmdISO, Data: InventoryRequest(ModeMore)}, false},
		{"advanced reply, 3000 bytes", Frame{Advanced: true, Addr: 0, Cmd: CmdISO, Status: StatusOK, Data: big}, true},
		{"advanced reply starting 0x02", Frame{Advanced: true, Addr: 2, Cmd: 2, Status: 2, Data: []byte{2}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, dec := AppendRequest, DecodeRequest
			if tc.reply {
				enc, dec = AppendReply, DecodeReply
			}
			b, err := enc([]byte{0x99}, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			b = b[1:]
			got, n, err := dec(b)
			if err != nil || n != len(b) {
				t.Fatalf("decode: %v (used %d of %d)", err, n, len(b))
			}
			if got.Data == nil {
				got.Data = []byte{}
			}
			want := tc.f
			if want.Data == nil {
				want.Data = []byte{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round trip = %+v\nwant %+v", got, want)
			}
		})
	}
	if _, err := AppendReply(nil, Frame{Data: make([]byte, MaxStandard)}); err == nil {
		t.Error("oversized standard frame encoded")
	}
	if _, err := AppendReply(nil, Frame{Advanced: true, Data: make([]byte, MaxAdvanced)}); err == nil {
		t.Error("oversized advanced frame encoded")
	}
}

func TestDecodeErrors(t *testing.T) {
	good, _ := AppendReply(nil, Frame{Cmd: CmdISO, Data: []byte{1, 2}})
	bad := append([]byte(nil), good...)
	bad[len(bad)-2] ^= 1
	adv, _ := AppendReply(nil, Frame{Advanced: true, Cmd: CmdISO})
	for _, tc := range []struct {
		name   string
		in     []byte
		short  bool
		offset int
	}{
		{"empty", nil, true, 0},
		{"partial", good[:4], true, 0},
		{"advanced header only", adv[:2], true, 0},
		{"advanced partial", adv[:5], true, 0},
		{"length too small", []byte{5, 0, 0xB0, 0, 0, 0, 0}, false, 0},
		{"advanced length too small", []byte{2, 0, 7, 0, 0, 0, 0, 0}, false, 1},
		{"length byte 0", []byte{0, 0, 0, 0, 0, 0}, false, 0},
		{"bad CRC", bad, false, len(bad) - 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeReply(tc.in)
			if tc.short {
				if !errors.Is(err, ErrShort) {
					t.Fatalf("err = %v, want ErrShort", err)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Offset != tc.offset {
				t.Fatalf("err = %v, want FrameError at %d", err, tc.offset)
			}
		})
	}
}

func TestInventoryRoundTrip(t *testing.T) {
	items := []InventoryItem{
		{TRType: 3, DSFID: 0, UID: [8]byte{0xE0, 0x04, 0x01, 0x00, 0x12, 0x34, 0x56, 0x78}},
		{TRType: 3, DSFID: 6, UID: [8]byte{0xE0, 0x07, 0x00, 0x00, 0xAB, 0xCD, 0xEF, 0x01}},
	}
	got, err := ParseInventory(AppendInventory(nil, items), nil)
	if err != nil || !reflect.DeepEqual(got, items) {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	if got, err := ParseInventory([]byte{0}, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty inventory = %v, %v", got, err)
	}
	for _, in := range [][]byte{nil, {1}, {1, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 8}} {
		var fe *FrameError
		if _, err := ParseInventory(in, nil); !errors.As(err, &fe) {
			t.Errorf("ParseInventory(% X) = %v, want FrameError", in, err)
		}
	}
}

func TestBlocksRoundTrip(t *testing.T) {
	data := unhex(t, "11010131313232333334340000000000000000513E444537303500000000000000")
	b, err := ParseBlocks(AppendBlocks(nil, 4, data[:32]))
	if err != nil || b.Count != 8 || b.Size != 4 || !bytes.Equal(b.Data, data[:32]) || len(b.Security) != 8 {
		t.Fatalf("round trip = %+v, %v", b, err)
	}
	for _, in := range [][]byte{nil, {1}, {1, 0}, {2, 4, 0, 1, 2, 3, 4}, {1, 4, 0, 1, 2, 3, 4, 5}} {
		var fe *FrameError
		if _, err := ParseBlocks(in); !errors.As(err, &fe) {
			t.Errorf("ParseBlocks(% X) = %v, want FrameError", in, err)
		}
	}
	p := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}
	ReverseBlocks(p, 4)
	if !bytes.Equal(p, []byte{4, 3, 2, 1, 8, 7, 6, 5, 9}) {
		t.Errorf("ReverseBlocks = % X", p)
	}
}

func TestStatusString(t *testing.T) {
	if s := StatusRFWarning.String(); s != "0x84 RF warning (check the antenna)" {
		t.Errorf("got %q", s)
	}
	e := &StatusError{Cmd: CmdISO, Sub: ISOReadMultipleBlocks, Status: StatusISOError, ISOError: 0x10}
	if !strings.Contains(e.Error(), "tag error 0x10") {
		t.Errorf("got %q", e.Error())
	}
}
