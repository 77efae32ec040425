package hidscanner

import (
	"encoding/hex"
	"strings"
	"testing"
)

func pos(t *testing.T, vendor string) Decoder {
	t.Helper()
	d, err := NewDecoder(Opts{Mode: ModeHIDPOS, Vendor: vendor})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// hwReport builds a Honeywell report at the documented offsets (1 length,
// 2..4 AIM, 5.. data, 61 code id, 63 continuation) as hex, independently
// of POSReports.
func hwReport(n int, aim, data string, codeID byte, cont byte) string {
	r := make([]byte, 64)
	r[0] = 0x02
	r[1] = byte(n)
	copy(r[2:5], aim)
	copy(r[5:61], data)
	r[61] = codeID
	r[63] = cont
	return hex.EncodeToString(r)
}

// zebraReport is the same with the extra byte: AIM at 3..5, data at 6.
func zebraReport(n int, aim, data string, cont byte) string {
	r := make([]byte, 64)
	r[0] = 0x02
	r[1] = byte(n)
	copy(r[3:6], aim)
	copy(r[6:62], data)
	r[63] = cont
	return hex.EncodeToString(r)
}

func TestHIDPOSHoneywellCapture(t *testing.T) {
	// A Honeywell menu reply as captured in github.com/HenkVanAsselt/
	// python_hon_usbhid README.md: 02 08 5D 5A 36 'REVINF' 06 2E 00…00 36 00 00
	capture := "02 08 5d 5a 36 52 45 56 49 4e 46 06 2e" + strings.Repeat(" 00", 48) + " 36 00 00"
	if n := len(hx(t, capture)); n != 64 {
		t.Fatalf("capture is %d bytes", n)
	}
	runTranscript(t, pos(t, VendorHoneywell), []step{
		{report: capture, code: "REVINF\x06.", raw: "REVINF\x06.", sym: "]Z6"},
	})
}

func TestHIDPOS(t *testing.T) {
	// A 70-character Code 128 spans two chunks: 56 with continuation, then 14.
	long := "TALLY-" + strings.Repeat("0123456789", 6) + "-END"
	tests := []struct {
		name   string
		vendor string
		steps  []step
	}{
		{"single chunk EAN-13", VendorHoneywell, []step{
			{report: hwReport(13, "]E0", "9780306406157", 'd', 0), code: "9780306406157", raw: "9780306406157", sym: "]E0"},
		}},
		{"codabar with CR suffix", VendorHoneywell, []step{
			{report: hwReport(17, "]F0", "A30234000517861B\r", 'a', 0), code: "A30234000517861B", raw: "A30234000517861B\r", sym: "]F0"},
		}},
		{"multi-chunk code 128", VendorHoneywell, []step{
			{report: hwReport(56, "]C0", long[:56], 'j', 1)},
			{report: hwReport(14, "]C0", long[56:], 'j', 0), code: long, raw: long, sym: "]C0"},
		}},
		{"long response chunk then last (capture shape)", VendorHoneywell, []step{
			{report: hwReport(56, "]X0", strings.Repeat("?", 56), '?', 1)},
			{report: hwReport(2, "]X0", "ok", '?', 0), code: strings.Repeat("?", 56) + "ok", raw: strings.Repeat("?", 56) + "ok", sym: "]X0"},
		}},
		{"zebra layout", VendorZebra, []step{
			{report: zebraReport(14, "]F0", "30234000517861", 0), code: "30234000517861", raw: "30234000517861", sym: "]F0"},
		}},
		{"zebra multi-chunk", VendorDatalogic, []step{
			{report: zebraReport(56, "]C0", long[:56], 1)},
			{report: zebraReport(14, "]C0", long[56:], 0), code: long, raw: long, sym: "]C0"},
		}},
		{"auto finds both layouts", VendorAuto, []step{
			{report: zebraReport(14, "]F0", "30234000517861", 0), code: "30234000517861", raw: "30234000517861", sym: "]F0"},
			{report: hwReport(13, "]E0", "9780306406157", 'd', 0), code: "9780306406157", raw: "9780306406157", sym: "]E0"},
		}},
		{"no AIM id (zeros)", VendorHoneywell, []step{
			{report: hwReport(3, "\x00\x00\x00", "123", 0, 0), code: "123", raw: "123"},
		}},
		{"other report id ignored", VendorHoneywell, []step{
			{report: "04" + strings.Repeat("ff", 63)},
			{report: hwReport(3, "]A0", "ABC", 'b', 0), code: "ABC", raw: "ABC", sym: "]A0"},
		}},
		{"empty last chunk is no code", VendorHoneywell, []step{
			{report: hwReport(0, "]E0", "", 'd', 0)},
		}},
		{"length beyond the chunk", VendorHoneywell, []step{
			{report: hwReport(57, "]E0", "", 'd', 0), err: "report byte 1: length 57 exceeds the 56-byte chunk; check the profile's vendor"},
			{report: hwReport(3, "]E0", "123", 'd', 0), code: "123", raw: "123", sym: "]E0"},
		}},
		{"bad continuation flag drops the partial code", VendorHoneywell, []step{
			{report: hwReport(56, "]C0", long[:56], 'j', 1)},
			{report: hwReport(14, "]C0", long[56:], 'j', 7), err: "report byte 63: continuation flag 0x07"},
			{report: hwReport(3, "]C0", "xyz", 'j', 0), code: "xyz", raw: "xyz", sym: "]C0"},
		}},
		{"short report", VendorHoneywell, []step{
			{report: "02 03 5d 45 30 31 32 33", err: "report byte 8: report id 0x02 is 8 bytes, want 64; check that the scanner is in HID POS mode"},
		}},
		{"empty report", VendorHoneywell, []step{{report: "", err: "report byte 0: empty report"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runTranscript(t, pos(t, tt.vendor), tt.steps) })
	}
}

// Decoding a Zebra report with the Honeywell layout must not silently give
// the right answer: the vendor setting matters.
func TestHIDPOSWrongVendor(t *testing.T) {
	d := pos(t, VendorHoneywell)
	got, err := d.Decode(hx(t, zebraReport(14, "]F0", "30234000517861", 0)))
	if err == nil && got.Done && string(got.Code) == "30234000517861" && got.Symbology == "]F0" {
		t.Fatal("a Zebra-layout report decoded correctly with the Honeywell layout")
	}
}

func TestHIDPOSMaxCode(t *testing.T) {
	d, err := NewDecoder(Opts{Mode: ModeHIDPOS, MaxCode: 60})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("9", 70)
	runTranscript(t, d, []step{
		{report: hwReport(56, "]C0", long[:56], 'j', 1)},
		{report: hwReport(14, "]C0", long[56:], 'j', 0), err: "code longer than 60 bytes"},
		{report: hwReport(2, "]C0", "ok", 'j', 0), code: "ok", raw: "ok", sym: "]C0"},
	})
}

func TestPOSReportsMatchLayout(t *testing.T) {
	long := strings.Repeat("abcdefg", 10) // 70
	for _, tc := range []struct {
		vendor string
		want   []string
	}{
		{VendorHoneywell, []string{hwReport(56, "]C0", long[:56], 0, 1), hwReport(14, "]C0", long[56:], 0, 0)}},
		{VendorZebra, []string{zebraReport(56, "]C0", long[:56], 1), zebraReport(14, "]C0", long[56:], 0)}},
	} {
		got, err := POSReports("]C0", []byte(long), tc.vendor)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %d reports, want %d", tc.vendor, len(got), len(tc.want))
		}
		for i := range got {
			if hex.EncodeToString(got[i]) != tc.want[i] {
				t.Errorf("%s report %d:\n got %x\nwant %s", tc.vendor, i, got[i], tc.want[i])
			}
		}
	}
}
