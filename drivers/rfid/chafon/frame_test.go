package chafon

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
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
		t.Fatalf("CRC(123456789) = 0x%04X, want 0x6F91", got)
	}
}

// Command frames built from the layout (Len Adr Cmd, CRC-16/MCRF4XX LSB
// first); the reader-information command is the one
// github.com/wabson/chafon-rfid sends (see testdata/uhfreader86-session.txt).
func TestCommandVectors(t *testing.T) {
	tests := []struct {
		name string
		cmd  Command
		want string
	}{
		{"inventory adr 00", Command{Addr: 0x00, Cmd: CmdInventory}, "04 00 01 DB 4B"},
		{"inventory adr FF", Command{Addr: 0xFF, Cmd: CmdInventory}, "04 FF 01 1B B4"},
		{"reader info adr FF", Command{Addr: 0xFF, Cmd: CmdReaderInfo}, "04 FF 21 19 95"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cmd.Append(nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("encode = % X, want % X", got, want)
			}
			back, n, err := ParseCommand(got)
			if err != nil || n != len(got) || back.Addr != tt.cmd.Addr || back.Cmd != tt.cmd.Cmd || len(back.Data) != 0 {
				t.Fatalf("decode = %+v, %d, %v", back, n, err)
			}
		})
	}
}

func TestResponseVectors(t *testing.T) {
	tests := []struct {
		name    string
		frame   string
		proto   Protocol
		status  byte
		epcs    []string
		antenna int
		rssi    []byte
	}{
		{"UHFReader18 one tag", "13 00 01 03 01 0C 00 00 00 00 00 00 00 00 00 00 03 13 3F 39",
			Protocol18, StatusMore, []string{"000000000000000000000313"}, 0, []byte{0}},
		{"UHFReader288 one tag", "15 00 01 03 01 01 0C 00 00 00 00 00 00 00 00 00 00 03 13 6B B1 A5",
			Protocol288, StatusMore, []string{"000000000000000000000313"}, 1, []byte{0x6B}},
		{"UHFReader288 no tag", "07 00 01 01 01 00 1E 4B", Protocol288, StatusDone, nil, 1, nil},
		// wabson/chafon-rfid tests/test_uhfreader288.py
		{"288 antenna 3", "1500010304010c49440000000000000a0003346425c0",
			Protocol288, StatusMore, []string{"49440000000000000a000334"}, 3, []byte{0x64}},
		{"288 short EPC", "0d000103010104003230386da3d2", Protocol288, StatusMore, []string{"00323038"}, 1, []byte{0x6D}},
		{"288 two tags", "2300010301020c0000000000000000000003136b0c0000000000000000000003146c70f2",
			Protocol288, StatusMore, []string{"000000000000000000000313", "000000000000000000000314"}, 1, []byte{0x6B, 0x6C}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := unhex(t, tt.frame)
			r, n, err := ParseResponse(b)
			if err != nil {
				t.Fatal(err)
			}
			if n != len(b) || r.Cmd != CmdInventory || r.Status != tt.status || r.Addr != 0 {
				t.Fatalf("got %+v size %d", r, n)
			}
			var got []Tag
			if err := ParseInventory(tt.proto, r.Data, func(tg Tag) { got = append(got, tg) }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.epcs) {
				t.Fatalf("%d tags, want %d", len(got), len(tt.epcs))
			}
			for i, tg := range got {
				if hex.EncodeToString(tg.EPC) != strings.ToLower(tt.epcs[i]) || tg.Antenna != tt.antenna || tg.RSSI != tt.rssi[i] {
					t.Errorf("tag %d = %X ant %d rssi %X, want %s ant %d rssi %X", i, tg.EPC, tg.Antenna, tg.RSSI, tt.epcs[i], tt.antenna, tt.rssi[i])
				}
			}
			// Re-encoding the decoded frame gives the same bytes.
			again, err := Response{Addr: r.Addr, Cmd: r.Cmd, Status: r.Status, Data: AppendInventory(nil, tt.proto, tt.antenna, got)}.Append(nil)
			if err != nil || !bytes.Equal(again, b) {
				t.Fatalf("re-encode = % X, %v; want % X", again, err, b)
			}
		})
	}
}

func TestReaderInfoVector(t *testing.T) {
	b := unhex(t, "11 00 21 00 00 16 0C 03 4E 00 1E 0A 01 00 00 00 E6 51")
	r, _, err := ParseResponse(b)
	if err != nil {
		t.Fatal(err)
	}
	info, err := ParseInfo(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Firmware: [2]byte{0, 0x16}, Type: Type288M, Protocols: 3, Region: Region{Band: BandEU, Max: 14, Min: 0}, Power: 30, ScanTime: time.Second}
	if info != want {
		t.Fatalf("info = %+v, want %+v", info, want)
	}
	if protocolFor(info.Type) != Protocol288 {
		t.Fatal("type 0x0C should select the 288 layout")
	}
	again, _ := Response{Cmd: CmdReaderInfo, Data: info.Data()}.Append(nil)
	if !bytes.Equal(again, b) {
		t.Fatalf("re-encode = % X, want % X", again, b)
	}
}

func TestInventoryCommandData(t *testing.T) {
	// wabson/chafon-rfid: defaults 0f 00 01 00 00 00 00 80 14; Q2 S1 target… antenna 1 scan 0.3 s.
	got := InventoryData(Protocol288, InventoryParams{Q: 15, Session: 0, Antenna: 1, ScanTime: 2 * time.Second})
	if want := unhex(t, "0f0001000000008014"); !bytes.Equal(got, want) {
		t.Fatalf("288 inventory data = % X, want % X", got, want)
	}
	if got := InventoryData(Protocol18, InventoryParams{Q: 4}); len(got) != 0 {
		t.Fatalf("18 inventory data = % X, want none", got)
	}
}

func TestRegionRoundTrip(t *testing.T) {
	for _, r := range []Region{{BandEU, 0, 14}, {BandUS, 0, 49}, {BandUS3, 3, 63}, {BandChina2, 0, 19}, {BandEU3, 1, 2}} {
		d := r.Data()
		if got := ParseRegion(d[0], d[1]); got != r {
			t.Errorf("region %+v → % X → %+v", r, d, got)
		}
	}
}

// Every frame type encodes and decodes to itself.
func TestRoundTrip(t *testing.T) {
	cmds := []Command{
		{Addr: 0, Cmd: CmdInventory},
		{Addr: 0xFF, Cmd: CmdInventory, Data: InventoryData(Protocol288, InventoryParams{Q: 4, Antenna: 2, ScanTime: time.Second})},
		{Addr: 3, Cmd: CmdReaderInfo},
		{Addr: 0, Cmd: CmdSetRegion, Data: Region{BandEU, 0, 14}.Data()},
		{Addr: 0, Cmd: CmdSetPower, Data: []byte{26}},
		{Addr: 0, Cmd: CmdSetScanTime, Data: []byte{10}},
		{Addr: 0, Cmd: CmdReadData, Data: bytes.Repeat([]byte{0xAB}, MaxCommandData)},
	}
	for _, c := range cmds {
		b, err := c.Append([]byte{0xEE}) // appends after existing bytes
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParseCommand(b[1:])
		if err != nil || n != len(b)-1 || got.Addr != c.Addr || got.Cmd != c.Cmd || !bytes.Equal(got.Data, c.Data) {
			t.Errorf("command %+v: decoded %+v, %d, %v", c, got, n, err)
		}
	}
	epc := func(i byte) []byte { return []byte{0xE2, 0x80, 0x11, 0x70, 0, 0, 0x02, 0x0F, 0, 0, 0, i} }
	tags := []Tag{{EPC: epc(1), RSSI: 0x50}, {EPC: epc(2), RSSI: 0x51}, {EPC: []byte{1, 2, 3, 4}, RSSI: 0x52}}
	resps := []Response{
		{Addr: 0, Cmd: CmdInventory, Status: StatusDone, Data: AppendInventory(nil, Protocol18, 0, tags)},
		{Addr: 0, Cmd: CmdInventory, Status: StatusMore, Data: AppendInventory(nil, Protocol288, 4, tags)},
		{Addr: 0, Cmd: CmdInventory, Status: StatusNoTag},
		{Addr: 0, Cmd: CmdReaderInfo, Status: StatusOK, Data: Info{Type: TypeUHFReader18, Region: Region{BandUS, 0, 49}, Power: 20, ScanTime: 300 * time.Millisecond}.Data()},
		{Addr: 1, Cmd: CmdSetPower, Status: StatusOK},
		{Addr: 1, Cmd: CmdSetRegion, Status: StatusParamError},
		{Addr: 0, Cmd: CmdReadData, Status: StatusOK, Data: bytes.Repeat([]byte{0xCD}, MaxResponseData)},
	}
	for _, r := range resps {
		b, err := r.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		got, n, err := ParseResponse(b)
		if err != nil || n != len(b) || got.Addr != r.Addr || got.Cmd != r.Cmd || got.Status != r.Status || !bytes.Equal(got.Data, r.Data) {
			t.Errorf("response %+v: decoded %+v, %d, %v", r, got, n, err)
		}
	}
	for _, p := range []Protocol{Protocol18, Protocol288} {
		var got []Tag
		if err := ParseInventory(p, AppendInventory(nil, p, 2, tags), func(tg Tag) { got = append(got, tg) }); err != nil {
			t.Fatal(err)
		}
		for i := range tags {
			if !bytes.Equal(got[i].EPC, tags[i].EPC) || (p == Protocol288 && (got[i].RSSI != tags[i].RSSI || got[i].Antenna != 2)) {
				t.Errorf("%v tag %d: %+v, want %+v", p, i, got[i], tags[i])
			}
		}
	}
}

func TestFrameErrors(t *testing.T) {
	good := unhex(t, "04 FF 21 19 95")
	tests := []struct {
		name   string
		in     []byte
		err    error
		offset int
	}{
		{"empty", nil, ErrTruncated, 0},
		{"short length", []byte{0x02, 0, 0}, ErrLength, 0},
		{"truncated", good[:4], ErrTruncated, 4},
		{"bad crc", append(append([]byte{}, good[:4]...), 0x96), ErrCRC, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseCommand(tt.in)
			var fe *FrameError
			if !errors.As(err, &fe) || !errors.Is(err, tt.err) || fe.Offset != tt.offset {
				t.Fatalf("err = %v, want %v at byte %d", err, tt.err, tt.offset)
			}
		})
	}
	if _, err := (Command{Data: make([]byte, MaxCommandData+1)}).Append(nil); !errors.Is(err, ErrTooLong) {
		t.Fatalf("oversized command: err = %v", err)
	}
	if _, err := (Response{Data: make([]byte, MaxResponseData+1)}).Append(nil); !errors.Is(err, ErrTooLong) {
		t.Fatalf("oversized response: err = %v", err)
	}
}

func TestParseInventoryErrors(t *testing.T) {
	tests := []struct {
		name  string
		proto Protocol
		data  string
		want  string
	}{
		{"no count", Protocol18, "", "data byte 0: missing tag count"},
		{"no antenna", Protocol288, "", "missing antenna"},
		{"count too high", Protocol18, "02 02 AA BB", "data byte 4: tag 2 of 2 missing"},
		{"epc overruns", Protocol18, "01 0C AA BB", "EPC length 12"},
		{"zero length epc", Protocol18, "01 00", "EPC length 0"},
		{"missing rssi", Protocol288, "01 01 02 AA BB", "RSSI byte missing"},
		{"trailing bytes", Protocol18, "01 02 AA BB CC", "1 bytes left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ParseInventory(tt.proto, unhex(t, tt.data), func(Tag) {})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	if _, err := ParseInfo([]byte{1, 2, 3}); err == nil {
		t.Fatal("short reader info accepted")
	}
}
