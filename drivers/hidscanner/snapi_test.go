package hidscanner

import (
	"encoding/hex"
	"strings"
	"testing"
)

type snapiStep struct {
	report string // hex
	reply  string // hex of the ACK the host must write, "" for none
	code   string
	raw    string
	sym    string
	err    string
}

func runSNAPI(t *testing.T, steps []snapiStep) {
	t.Helper()
	d, err := NewDecoder(Opts{Mode: ModeSNAPI})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range steps {
		got, err := d.Decode(hx(t, s.report))
		if (s.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), s.err) {
			t.Fatalf("report %d: error %v, want %q", i, err, s.err)
		}
		if r := hex.EncodeToString(got.Reply); r != strings.ReplaceAll(s.reply, " ", "") {
			t.Fatalf("report %d: reply %s, want %s", i, r, s.reply)
		}
		if got.Done != (s.code != "") {
			t.Fatalf("report %d: Done=%v code %q, want %q", i, got.Done, got.Code, s.code)
		}
		raw := s.raw
		if raw == "" {
			raw = s.code
		}
		if got.Done && (string(got.Code) != s.code || string(got.Raw) != raw || got.Symbology != s.sym) {
			t.Fatalf("report %d: code %q raw %q sym %q, want %q %q %q", i, got.Code, got.Raw, got.Symbology, s.code, raw, s.sym)
		}
	}
}

// snapiScan22 builds a 0x22 report at the documented offsets.
func snapiScan22(count, index int, codeType uint16, data string) string {
	r := make([]byte, 64)
	r[0], r[1], r[2], r[3] = 0x22, byte(count), byte(index), byte(len(data))
	r[4], r[5] = byte(codeType), byte(codeType>>8)
	copy(r[6:], data)
	return hex.EncodeToString(r)
}

const ack22 = "00 01 22 01 00"

func TestSNAPI(t *testing.T) {
	long := strings.Repeat("L", 58) + "tail"
	t.Run("single packet codabar", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: "22 01 00 0e 02 00 33 30 32 33 34 30 30 30 35 31 37 38 36 31" + strings.Repeat(" 00", 44),
				reply: ack22, code: "30234000517861", sym: "codabar"},
		})
	})
	t.Run("two packets", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: snapiScan22(2, 0, 3, long[:58]), reply: ack22},
			{report: snapiScan22(2, 1, 3, long[58:]), reply: ack22, code: long, sym: "code128"},
		})
	})
	t.Run("large scan report", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: "26 00 01 00 00 05 0b 00 39 37 38 30 33" + strings.Repeat(" 00", 51), reply: "00 01 26 01 00", code: "97803", sym: "ean13"},
		})
	})
	t.Run("ean-13 with price add-on keeps the primary", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: snapiScan22(1, 0, 139, "978030640615751299"), reply: ack22,
				code: "9780306406157", raw: "978030640615751299", sym: "ean13+5"},
		})
	})
	t.Run("unknown code type", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: snapiScan22(1, 0, 999, "x"), reply: ack22, code: "x", sym: "snapi-999"},
		})
	})
	t.Run("status and notification need no ack", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: "21 04 01 00" + strings.Repeat(" 00", 60)},
			{report: "24 00" + strings.Repeat(" 00", 62)},
		})
	})
	t.Run("out of sequence drops the scan but acks", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: snapiScan22(3, 0, 3, "aaa"), reply: ack22},
			{report: snapiScan22(3, 2, 3, "ccc"), reply: ack22, err: "report byte 2: packet 2 of 3 out of sequence (want 1)"},
			{report: snapiScan22(1, 0, 3, "ok"), reply: ack22, code: "ok", sym: "code128"},
		})
	})
	t.Run("new scan restarts a partial one", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: snapiScan22(2, 0, 3, "stale"), reply: ack22},
			{report: snapiScan22(1, 0, 1, "FRESH"), reply: ack22, code: "FRESH", sym: "code39"},
		})
	})
	t.Run("length past the report", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: "22 01 00 ff 03 00 41 42", reply: ack22, err: "report byte 3: data length 255 runs past the 8-byte report"},
		})
	})
	t.Run("index beyond count", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: snapiScan22(1, 1, 3, "a"), reply: ack22, err: "report byte 1: packet 1 of 1"},
		})
	})
	t.Run("unknown message type", func(t *testing.T) {
		runSNAPI(t, []snapiStep{
			{report: "99 00", err: "report byte 0: unknown message type 0x99; check that the scanner is in SNAPI mode"},
		})
	})
}

func TestSNAPIReportsRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 58, 59, 200, 58*255 + 1} {
		data := []byte(strings.Repeat("z", n))
		d, _ := NewDecoder(Opts{Mode: ModeSNAPI, MaxCode: 1 << 16})
		var got []string
		for _, r := range SNAPIReports(28, data) {
			res, err := d.Decode(r)
			if err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			if res.Reply == nil {
				t.Fatalf("n=%d: no ACK", n)
			}
			if res.Done {
				got = append(got, string(res.Code))
			}
		}
		want := 1
		if n == 0 {
			want = 0 // an empty scan is not a code
		}
		if len(got) != want || want == 1 && got[0] != string(data) {
			t.Fatalf("n=%d: decoded %d codes", n, len(got))
		}
	}
}
