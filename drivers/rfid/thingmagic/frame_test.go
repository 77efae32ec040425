package thingmagic

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
	if got := CRC([]byte("123456789")); got != 0xA69D {
		t.Fatalf("CRC(123456789) = 0x%04X, want 0xA69D (the vendor's nibble loop; drivers/internal/crc16 ties it to CRC-16/SPI-FUJITSU)", got)
	}
}

// Frames as published: get version is the first command in
// github.com/Barfell/work RD15001M-boot user/app_rfid.c (see
// testdata/mercury-boot-session.txt); the read filter off frame is in the
// same file and in github.com/paulvha/ThingMagic SparkFun_UHF_RFID_Reader.cpp
// ("ff 03 9a 01 0c 00 a3 5d disable TMR_SR_CONFIGURATION_ENABLE_READ_FILTER").
func TestCommandVectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   byte
		data []byte
		want string
	}{
		{"get version", OpVersion, nil, "FF 00 03 1D 0C"},
		{"set reader optional param read filter off", OpSetReaderOptions, []byte{0x01, 0x0C, 0x00}, "FF 03 9A 01 0C 00 A3 5D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppendCommand(nil, tc.op, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			want := unhex(t, tc.want)
			if !bytes.Equal(got, want) {
				t.Fatalf("encode = % X, want % X", got, want)
			}
			c, n, err := DecodeCommand(want)
			if err != nil || n != len(want) || c.Opcode != tc.op || !bytes.Equal(c.Data, tc.data) {
				t.Fatalf("decode = %+v, %d, %v", c, n, err)
			}
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		op     byte
		status Status
		data   []byte
	}{
		{"empty ok", OpSetRegion, StatusOK, nil},
		{"no tags", OpReadTagMultiple, StatusNoTagsFound, nil},
		{"tag count", OpReadTagMultiple, StatusOK, []byte{0, 0, 0x10, 0, 0, 1, 0x2C}},
		{"full frame", OpGetTagBuffer, StatusOK, bytes.Repeat([]byte{0xFF}, MaxData)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := AppendResponse([]byte{0xAA}, tc.op, tc.status, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			f = f[1:]
			r, n, err := DecodeResponse(f)
			if err != nil || n != len(f) {
				t.Fatalf("decode: %v (used %d of %d)", err, n, len(f))
			}
			if r.Opcode != tc.op || r.Status != tc.status || !bytes.Equal(r.Data, tc.data) {
				t.Fatalf("round trip = %+v", r)
			}
		})
	}
	if _, err := AppendResponse(nil, 1, 0, make([]byte, MaxData+1)); err == nil {
		t.Fatal("256 data bytes encoded without error")
	}
	if _, err := AppendCommand(nil, 1, make([]byte, MaxData+1)); err == nil {
		t.Fatal("256 data bytes encoded without error")
	}
}

func TestDecodeErrors(t *testing.T) {
	good, _ := AppendResponse(nil, OpVersion, 0, []byte{1, 2, 3})
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	for _, tc := range []struct {
		name   string
		in     []byte
		short  bool
		offset int
	}{
		{"empty", nil, true, 0},
		{"only SOH", good[:1], true, 0},
		{"header only", good[:5], true, 0},
		{"all but CRC byte", good[:len(good)-1], true, 0},
		{"bad start", append([]byte{0x00}, good...), false, 0},
		{"bad CRC", bad, false, len(bad) - 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := DecodeResponse(tc.in)
			if tc.short {
				if !errors.Is(err, ErrShort) {
					t.Fatalf("err = %v, want ErrShort", err)
				}
				return
			}
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want *FrameError", err)
			}
			if fe.Offset != tc.offset {
				t.Fatalf("offset = %d, want %d (%v)", fe.Offset, tc.offset, err)
			}
		})
	}
}

func TestVersionRoundTrip(t *testing.T) {
	v := Version{Bootloader: [4]byte{1, 2, 3, 4}, Hardware: [4]byte{0x30, 0, 0, 1}, FWDate: [4]byte{0x20, 0x17, 6, 30}, FWVersion: [4]byte{1, 9, 0, 2}, Protocols: 0x10}
	got, err := ParseVersion(AppendVersion(nil, v))
	if err != nil || got != v {
		t.Fatalf("round trip = %+v, %v", got, err)
	}
	if _, err := ParseVersion(make([]byte, 19)); err == nil {
		t.Fatal("19-byte version parsed")
	}
}

func TestTagCount(t *testing.T) {
	for _, tc := range []struct {
		data string
		want int
	}{
		{"00 0000 07", 7},
		{"00 0000 00 09", 9},
		{"00 0010 0000012C", 300},
		{"00 0010 00 00010000", 65536},
	} {
		got, err := ParseTagCount(unhex(t, tc.data))
		if err != nil || got != tc.want {
			t.Errorf("ParseTagCount(%s) = %d, %v; want %d", tc.data, got, err, tc.want)
		}
	}
	if _, err := ParseTagCount([]byte{1, 2, 3}); err == nil {
		t.Error("3-byte reply parsed")
	}
}

func TestTagBufferRoundTrip(t *testing.T) {
	epc := unhex(t, "3074257BF7194E4000001A85")
	all := uint16(MetaReadCount | MetaRSSI | MetaAntenna | MetaFrequency | MetaTimestamp | MetaPhase | MetaProtocol | MetaData | MetaGPIO)
	for _, tc := range []struct {
		name  string
		flags uint16
		tags  []TagRead
	}{
		{"driver default", DefaultOpts.Metadata, []TagRead{
			{ReadCount: 3, RSSI: -61, Antenna: 1, Protocol: 5, PC: []byte{0x30, 0x00}, EPC: epc, TagCRC: 0xBEEF},
			{ReadCount: 1, RSSI: -45, Antenna: 2, Protocol: 5, PC: []byte{0x30, 0x00}, EPC: epc[:8], TagCRC: 0x1234},
		}},
		{"all metadata, XPC", all, []TagRead{
			{ReadCount: 9, RSSI: -70, Antenna: 4, Frequency: 915250, Timestamp: 123456, Phase: 90, Protocol: 5, Data: []byte{0xDE, 0xAD}, GPIO: 3,
				PC: []byte{0x32, 0x00, 0x80, 0x01, 0x00, 0x02}, EPC: epc, TagCRC: 0xCAFE},
		}},
		{"no metadata", 0, []TagRead{{EPC: append([]byte{0x30, 0x00}, epc...), TagCRC: 1}}},
		{"none", DefaultOpts.Metadata, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := AppendTagBuffer(nil, tc.flags, tc.tags)
			tb, err := ParseTagBuffer(d, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tb.Flags != tc.flags || len(tb.Tags) != len(tc.tags) {
				t.Fatalf("flags 0x%04X, %d tags", tb.Flags, len(tb.Tags))
			}
			for i, got := range tb.Tags {
				want := tc.tags[i]
				want.Raw = got.Raw
				if !reflect.DeepEqual(got, want) {
					t.Errorf("tag %d = %+v\nwant %+v", i, got, want)
				}
				if !bytes.Equal(AppendTagRecord(nil, tc.flags, want), got.Raw) {
					t.Errorf("tag %d Raw % X is not its record", i, got.Raw)
				}
			}
		})
	}
}

func TestTagBufferErrors(t *testing.T) {
	good := AppendTagBuffer(nil, DefaultOpts.Metadata, []TagRead{{ReadCount: 1, RSSI: -50, Antenna: 1, Protocol: 5, PC: []byte{0x30, 0}, EPC: make([]byte, 12)}})
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"short header", good[:3], "at least 4"},
		{"count too high", append(append([]byte(nil), good[:3]...), append([]byte{2}, good[4:]...)...), "tag 2 of 2"},
		{"truncated EPC", good[:len(good)-3], "EPC needs"},
		{"trailing bytes", append(append([]byte(nil), good...), 0), "follow the last"},
		{"EPC shorter than CRC", []byte{0, 0, 0, 1, 0, 8, 0}, "too short"},
		{"PC does not fit", []byte{0, 0x40, 0, 1, 5, 0, 24, 0x30, 0, 0}, "cannot hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTagBuffer(tc.in, nil)
			var fe *FrameError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a FrameError containing %q", err, tc.want)
			}
		})
	}
}

func TestStatusString(t *testing.T) {
	if s := StatusNoTagsFound.String(); s != "0x0400 no tags found" {
		t.Errorf("got %q", s)
	}
	if s := Status(0x1234).String(); s != "0x1234" {
		t.Errorf("got %q", s)
	}
}
