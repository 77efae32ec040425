package hidscanner

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the seed corpora in testdata/fuzz")

// Fuzz inputs are report sequences framed as [length][bytes]…, so one input
// can hold a whole scan (and the seeds in testdata/fuzz are real ones).
func frame(reports ...[]byte) []byte {
	var b []byte
	for _, r := range reports {
		b = append(b, byte(len(r)))
		b = append(b, r...)
	}
	return b
}

func unframe(data []byte, f func(report []byte)) {
	for len(data) > 0 {
		n := int(data[0])
		data = data[1:]
		n = min(n, len(data))
		f(data[:n])
		data = data[n:]
	}
}

const fuzzMaxCode = 100

// fuzzDecoder feeds every framed report to a decoder and checks what must
// hold for any input: no panic, errors that say where, a Code that is a
// prefix of Raw, and buffers bounded by MaxCode.
func fuzzDecoder(t *testing.T, o Opts, data []byte, wantReply func(report []byte) bool) {
	o.MaxCode = fuzzMaxCode
	d, err := NewDecoder(o)
	if err != nil {
		t.Fatal(err)
	}
	unframe(data, func(r []byte) {
		in := append([]byte(nil), r...)
		res, err := d.Decode(r)
		if !bytes.Equal(in, r) {
			t.Fatalf("decoder modified its input report")
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < -1 || de.Offset > len(r) || de.What == "" {
				t.Fatalf("error %#v for report % x", err, r)
			}
		}
		if res.Done {
			if len(res.Code) == 0 || len(res.Code) > len(res.Raw) || !bytes.HasPrefix(res.Raw, res.Code) {
				t.Fatalf("code %q is not a non-empty prefix of raw %q", res.Code, res.Raw)
			}
			if len(res.Raw) > fuzzMaxCode+1 {
				t.Fatalf("raw of %d bytes exceeds MaxCode %d", len(res.Raw), fuzzMaxCode)
			}
		}
		if wantReply != nil && wantReply(r) != (res.Reply != nil) {
			t.Fatalf("reply % x for report % x", res.Reply, r)
		}
	})
	var bufCap int
	switch d := d.(type) {
	case *keyboardDecoder:
		bufCap = max(cap(d.buf), cap(d.done))
	case *posDecoder:
		bufCap = cap(d.buf)
	case *snapiDecoder:
		bufCap = cap(d.buf)
	}
	if bufCap > 2*fuzzMaxCode+256 {
		t.Fatalf("decoder buffer grew to %d bytes with MaxCode %d", bufCap, fuzzMaxCode)
	}
}

func keyboardSeeds(t testing.TB) [][]any {
	var ref [][]byte
	for _, s := range vector30234 {
		ref = append(ref, hx(t, s.report))
	}
	de, _ := KeyboardReports("Y-Z4@\r", "de")
	var deb [][]byte
	for _, r := range de {
		deb = append(deb, r[:])
	}
	return [][]any{
		{frame(ref...), uint8(0)},
		{frame(hx(t, "01 02 00 04 00 00 00 00 00"), hx(t, "01 "+up), hx(t, "01 00 00 28 00 00 00 00 00")), uint8(0x80)},
		{frame(hx(t, "40 00 04 00 00 00 00 00"), hx(t, "00 00 28 00 00 00 00 00")), uint8(2)},
		{frame(deb...), uint8(0)}, // "de" sorts first
		{frame(hx(t, "00 00 01 01 01 01 01 01"), hx(t, "00 00 1e 1f 20 21 22 23"), hx(t, "00 00 2b")), uint8(4)},
	}
}

func FuzzKeyboard(f *testing.F) {
	for _, s := range keyboardSeeds(f) {
		f.Add(s[0].([]byte), s[1].(uint8))
	}
	f.Fuzz(func(t *testing.T, data []byte, cfg uint8) {
		o := Opts{Mode: ModeKeyboard}
		o.Layout = Layouts()[int(cfg)%len(Layouts())]
		o.Terminator = []string{TermEnter, TermTab, TermAny}[int(cfg/4)%3]
		if cfg&0x80 != 0 {
			o.ReportID = 1
		}
		fuzzDecoder(t, o, data, func([]byte) bool { return false })
	})
}

// Any US-typeable text survives KeyboardReports and the decoder unchanged.
func roundTripSeeds(testing.TB) [][]any {
	return [][]any{{"30234000517861"}, {"DAB-1234 ~!@#$%^&*()_+{}|:\"<>?"}, {"]F0A30234000517861B"}}
}

func FuzzKeyboardRoundTrip(f *testing.F) {
	for _, s := range roundTripSeeds(f) {
		f.Add(s[0].(string))
	}
	f.Fuzz(func(t *testing.T, text string) {
		clean := []rune{}
		for _, c := range text {
			if c >= ' ' && c < 0x7f {
				clean = append(clean, c)
			}
		}
		if len(clean) == 0 || len(clean) > 500 {
			return
		}
		s := string(clean)
		reports, err := KeyboardReports(s+"\r", "us")
		if err != nil {
			t.Fatal(err)
		}
		d := kbdFuzz(t)
		var got []string
		for _, r := range reports {
			res, err := d.Decode(r[:])
			if err != nil {
				t.Fatal(err)
			}
			if res.Done {
				got = append(got, string(res.Code))
			}
		}
		if len(got) != 1 || got[0] != s {
			t.Fatalf("typed %q, decoded %q", s, got)
		}
	})
}

func kbdFuzz(t *testing.T) Decoder {
	d, err := NewDecoder(Opts{Mode: ModeKeyboard})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func hidposSeeds(t testing.TB) [][]any {
	long := bytes.Repeat([]byte("0123456789"), 7)
	hw, _ := POSReports("]C0", long, VendorHoneywell)
	zb, _ := POSReports("]F0", []byte("30234000517861"), VendorZebra)
	return [][]any{
		{frame(hw...), uint8(0)},
		{frame(zb...), uint8(1)},
		{frame(zb...), uint8(3)},
		{frame(hx(t, hwReport(57, "]E0", "", 'd', 0))), uint8(0)},
		{frame(hx(t, "02 08 5d 5a 36 52 45 56 49 4e 46 06 2e"+strings.Repeat(" 00", 48)+" 36 00 00")), uint8(0)},
	}
}

func FuzzHIDPOS(f *testing.F) {
	for _, s := range hidposSeeds(f) {
		f.Add(s[0].([]byte), s[1].(uint8))
	}
	f.Fuzz(func(t *testing.T, data []byte, cfg uint8) {
		vendors := []string{VendorHoneywell, VendorZebra, VendorDatalogic, VendorAuto}
		o := Opts{Mode: ModeHIDPOS, Vendor: vendors[int(cfg)%len(vendors)]}
		fuzzDecoder(t, o, data, func([]byte) bool { return false })
	})
}

func snapiSeeds(t testing.TB) [][]any {
	return [][]any{
		{frame(SNAPIReports(2, []byte("30234000517861"))...)},
		{frame(SNAPIReports(3, bytes.Repeat([]byte("x"), 130))...)},
		{frame(hx(t, "26 00 01 00 00 05 0b 00 39 37 38 30 33"))},
		{frame(hx(t, "22 01 00 ff 03 00 41 42"))},
		{frame(hx(t, snapiScan22(3, 0, 3, "aaa")), hx(t, snapiScan22(3, 2, 3, "ccc")))},
	}
}

func FuzzSNAPI(f *testing.F) {
	for _, s := range snapiSeeds(f) {
		f.Add(s[0].([]byte))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecoder(t, Opts{Mode: ModeSNAPI}, data, func(r []byte) bool {
			return len(r) > 0 && (r[0] == snapiScan || r[0] == snapiScanLarge)
		})
	})
}

// TestFuzzSeedCorpora checks that testdata/fuzz holds every seed above, in
// the "go test fuzz v1" format; -update rewrites the files.
func TestFuzzSeedCorpora(t *testing.T) {
	for name, seeds := range map[string][][]any{
		"FuzzKeyboard":          keyboardSeeds(t),
		"FuzzKeyboardRoundTrip": roundTripSeeds(t),
		"FuzzHIDPOS":            hidposSeeds(t),
		"FuzzSNAPI":             snapiSeeds(t),
	} {
		dir := filepath.Join("testdata", "fuzz", name)
		for i, seed := range seeds {
			var b strings.Builder
			b.WriteString("go test fuzz v1\n")
			for _, v := range seed {
				switch v := v.(type) {
				case []byte:
					fmt.Fprintf(&b, "[]byte(%q)\n", v)
				case uint8:
					fmt.Fprintf(&b, "byte(%q)\n", v)
				case string:
					fmt.Fprintf(&b, "string(%q)\n", v)
				default:
					t.Fatalf("seed type %T", v)
				}
			}
			path := filepath.Join(dir, fmt.Sprintf("seed-%d", i))
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestFuzzSeedCorpora -update)", err)
			}
			if string(got) != b.String() {
				t.Errorf("%s is stale (run go test -run TestFuzzSeedCorpora -update)", path)
			}
		}
	}
}
