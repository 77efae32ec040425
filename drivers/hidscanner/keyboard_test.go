package hidscanner

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// hx parses space-separated hex bytes.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// step is one report of a transcript and what the decoder must make of it.
type step struct {
	report string // hex
	code   string // code completed by this report; "" for none
	raw    string // Raw, when it differs from code+"\r"
	sym    string
	err    string // substring of the error this report yields; "" for none
}

// runTranscript feeds every report in order and checks each outcome, so a
// code completed one report early or late fails the test.
func runTranscript(t *testing.T, d Decoder, steps []step) {
	t.Helper()
	for i, s := range steps {
		got, err := d.Decode(hx(t, s.report))
		switch {
		case s.err == "" && err != nil:
			t.Fatalf("report %d (%s): unexpected error %v", i, s.report, err)
		case s.err != "" && (err == nil || !strings.Contains(err.Error(), s.err)):
			t.Fatalf("report %d (%s): error %v, want one containing %q", i, s.report, err, s.err)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("report %d: error %T is not a *DecodeError", i, err)
			}
		}
		if got.Done != (s.code != "") {
			t.Fatalf("report %d (%s): Done=%v code %q, want code %q", i, s.report, got.Done, got.Code, s.code)
		}
		if !got.Done {
			continue
		}
		raw := s.raw
		if raw == "" {
			raw = s.code + "\r"
		}
		if string(got.Code) != s.code || string(got.Raw) != raw || got.Symbology != s.sym {
			t.Fatalf("report %d: got code %q raw %q sym %q, want %q %q %q", i, got.Code, got.Raw, got.Symbology, s.code, raw, s.sym)
		}
	}
}

func kbd(t *testing.T, o Opts) Decoder {
	t.Helper()
	o.Mode = ModeKeyboard
	d, err := NewDecoder(o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const up = "00 00 00 00 00 00 00 00"

// 30234000517861 (the JerseyCat FAQ's library barcode) + Enter, typed on a
// US layout the way tinyusb's hid.h maps ASCII to usages, each key
// followed by an all-zero key-up report — 30 reports.
var vector30234 = []step{
	{report: "00 00 20 00 00 00 00 00"}, {report: up}, // 3
	{report: "00 00 27 00 00 00 00 00"}, {report: up}, // 0
	{report: "00 00 1f 00 00 00 00 00"}, {report: up}, // 2
	{report: "00 00 20 00 00 00 00 00"}, {report: up}, // 3
	{report: "00 00 21 00 00 00 00 00"}, {report: up}, // 4
	{report: "00 00 27 00 00 00 00 00"}, {report: up}, // 0
	{report: "00 00 27 00 00 00 00 00"}, {report: up}, // 0
	{report: "00 00 27 00 00 00 00 00"}, {report: up}, // 0
	{report: "00 00 22 00 00 00 00 00"}, {report: up}, // 5
	{report: "00 00 1e 00 00 00 00 00"}, {report: up}, // 1
	{report: "00 00 24 00 00 00 00 00"}, {report: up}, // 7
	{report: "00 00 25 00 00 00 00 00"}, {report: up}, // 8
	{report: "00 00 23 00 00 00 00 00"}, {report: up}, // 6
	{report: "00 00 1e 00 00 00 00 00"}, {report: up}, // 1
	{report: "00 00 28 00 00 00 00 00", code: "30234000517861"}, {report: up}, // Enter
}

func TestKeyboardReferenceVector(t *testing.T) {
	if len(vector30234) != 30 {
		t.Fatalf("transcript has %d reports, want 30", len(vector30234))
	}
	d := kbd(t, Opts{})
	runTranscript(t, d, vector30234)
	// The decoder is ready for the next scan with no state left over.
	runTranscript(t, d, vector30234)
}

func TestKeyboardWithReportID(t *testing.T) {
	steps := make([]step, len(vector30234))
	for i, s := range vector30234 {
		s.report = "01 " + s.report
		steps[i] = s
	}
	runTranscript(t, kbd(t, Opts{}), steps)
	runTranscript(t, kbd(t, Opts{ReportID: 1}), steps)

	// With ReportID 1, another report id (consumer keys) is ignored.
	runTranscript(t, kbd(t, Opts{ReportID: 1}), []step{
		{report: "01 00 00 1e 00 00 00 00 00"}, {report: "01 " + up},
		{report: "03 00 00 1f 00 00 00 00 00"}, {report: "03 " + up},
		{report: "01 00 00 28 00 00 00 00 00", code: "1"},
	})
}

func TestKeyboardUS(t *testing.T) {
	tests := []struct {
		name  string
		opts  Opts
		steps []step
	}{
		{"shifted A1 (reference)", Opts{}, []step{
			{report: "02 00 04 00 00 00 00 00"}, {report: up},
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "A1"},
		}},
		{"right shift", Opts{}, []step{
			{report: "20 00 04 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "A"},
		}},
		{"shift in a report of its own", Opts{}, []step{
			{report: "02 00 00 00 00 00 00 00"},
			{report: "02 00 17 00 00 00 00 00"}, // T
			{report: "00 00 00 00 00 00 00 00"},
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "T1"},
		}},
		{"repeated digit needs a key-up", Opts{}, []step{
			{report: "00 00 27 00 00 00 00 00"}, {report: up},
			{report: "00 00 27 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "00"},
		}},
		{"held key is one keystroke", Opts{}, []step{
			{report: "00 00 27 00 00 00 00 00"},
			{report: "00 00 27 00 00 00 00 00"},
			{report: "00 00 27 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "0"},
		}},
		{"rollover: new key beside a held one", Opts{}, []step{
			{report: "00 00 1e 00 00 00 00 00"},
			{report: "00 00 1e 1f 00 00 00 00"},
			{report: "00 00 1f 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "12"},
		}},
		{"phantom ErrorRollOver report ignored", Opts{}, []step{
			{report: "00 00 1e 00 00 00 00 00"},
			{report: "00 00 01 01 01 01 01 01"},
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "1"},
		}},
		{"keypad digits and keypad Enter", Opts{}, []step{
			{report: "00 00 59 00 00 00 00 00"}, {report: up}, // KP1
			{report: "00 00 62 00 00 00 00 00"}, {report: up}, // KP0
			{report: "02 00 61 00 00 00 00 00"}, {report: up}, // KP9, shift ignored
			{report: "00 00 58 00 00 00 00 00", code: "109"},
		}},
		{"bare terminator is not a code", Opts{}, []step{
			{report: "00 00 28 00 00 00 00 00"}, {report: up},
			{report: "00 00 2b 00 00 00 00 00"}, {report: up},
		}},
		{"tab terminator", Opts{Terminator: TermTab}, []step{
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 2b 00 00 00 00 00", code: "1", raw: "1\t"},
		}},
		{"enter is data when tab terminates", Opts{Terminator: TermTab}, []step{
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00"}, {report: up},
			{report: "00 00 2b 00 00 00 00 00", code: "1\r", raw: "1\r\t"},
		}},
		{"tab is data when enter terminates", Opts{}, []step{
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 2b 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "1\t"},
		}},
		{"any terminator", Opts{Terminator: TermAny}, []step{
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 2b 00 00 00 00 00", code: "1", raw: "1\t"}, {report: up},
			{report: "00 00 1f 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "2"},
		}},
		{"ctrl+] types GS", Opts{}, []step{
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "01 00 30 00 00 00 00 00"}, {report: up},
			{report: "00 00 1f 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "1\x1d2"},
		}},
		{"symbols, space and AIM prefix pass through", Opts{}, []step{
			{report: "00 00 30 00 00 00 00 00"}, {report: up}, // ]
			{report: "02 00 09 00 00 00 00 00"}, {report: up}, // F
			{report: "00 00 27 00 00 00 00 00"}, {report: up}, // 0
			{report: "00 00 2c 00 00 00 00 00"}, {report: up}, // space
			{report: "02 00 1f 00 00 00 00 00"}, {report: up}, // @
			{report: "00 00 2d 00 00 00 00 00"}, {report: up}, // -
			{report: "00 00 28 00 00 00 00 00", code: "]F0 @-"},
		}},
		{"function keys and caps lock ignored", Opts{}, []step{
			{report: "00 00 3a 00 00 00 00 00"}, {report: up},
			{report: "00 00 39 00 00 00 00 00"}, {report: up},
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "1"},
		}},
		{"unmapped key drops the code, not the next", Opts{}, []step{
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "40 00 04 00 00 00 00 00"}, {report: up}, // AltGr+a: nothing in US
			{report: "00 00 28 00 00 00 00 00", err: `report byte 2: key usage 0x04 with modifiers 0x40 types nothing in layout "us"`},
			{report: up},
			{report: "00 00 1f 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "2"},
		}},
		{"too long without terminator", Opts{MaxCode: 3}, []step{
			{report: "00 00 1e 00 00 00 00 00"}, {report: up},
			{report: "00 00 1f 00 00 00 00 00"}, {report: up},
			{report: "00 00 20 00 00 00 00 00"}, {report: up},
			{report: "00 00 21 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", err: "code longer than 3 bytes"},
			{report: up},
			{report: "00 00 21 00 00 00 00 00"}, {report: up},
			{report: "00 00 28 00 00 00 00 00", code: "4"},
		}},
		{"wrong report length", Opts{}, []step{
			{report: "00 00 1e 00 00", err: "report byte 0: 5 bytes, want 8"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runTranscript(t, kbd(t, tt.opts), tt.steps) })
	}
}

// QWERTZ swaps Y and Z and moves '-': the same reports mean different text.
func TestKeyboardDE(t *testing.T) {
	reports := []step{
		{report: "02 00 1d 00 00 00 00 00"}, {report: up}, // DE 'Y' (US 'Z')
		{report: "00 00 38 00 00 00 00 00"}, {report: up}, // DE '-' (US '/')
		{report: "02 00 1c 00 00 00 00 00"}, {report: up}, // DE 'Z' (US 'Y')
		{report: "00 00 21 00 00 00 00 00"}, {report: up}, // 4
		{report: "40 00 14 00 00 00 00 00"}, {report: up}, // AltGr+Q: '@'
		{report: "00 00 28 00 00 00 00 00", code: "Y-Z4@"},
	}
	runTranscript(t, kbd(t, Opts{Layout: "de"}), reports)

	last := len(reports) - 1
	reports[last].code = ""
	reports[last].err = `types nothing in layout "us"` // US has no AltGr+Q
	runTranscript(t, kbd(t, Opts{Layout: "us"}), reports)
}

// AZERTY needs Shift for digits: a FR-configured scanner sends 02 00 1e for
// '1'. Decoded as US, that is '!' — why the layout must match.
func TestKeyboardFR(t *testing.T) {
	reports := []step{
		{report: "02 00 20 00 00 00 00 00"}, {report: up}, // 3
		{report: "02 00 27 00 00 00 00 00"}, {report: up}, // 0
		{report: "02 00 1e 00 00 00 00 00"}, {report: up}, // 1
		{report: "00 00 14 00 00 00 00 00"}, {report: up}, // a (US q)
		{report: "00 00 33 00 00 00 00 00"}, {report: up}, // m (US ;)
		{report: "00 00 1f 00 00 00 00 00"}, {report: up}, // é
		{report: "00 00 28 00 00 00 00 00", code: "301amé"},
	}
	runTranscript(t, kbd(t, Opts{Layout: "fr"}), reports)
	reports[len(reports)-1].code = "#)!q;2"
	runTranscript(t, kbd(t, Opts{Layout: "us"}), reports)
}

// Every printable ASCII character round-trips through each layout that can
// type it, as does the whole 14-digit code typed by KeyboardReports.
func TestKeyboardRoundTrip(t *testing.T) {
	for _, layout := range Layouts() {
		d := kbd(t, Opts{Layout: layout})
		for c := rune(' '); c < 0x7f; c++ {
			if _, _, ok := layouts[layout].find(c); !ok {
				if layout == "us" {
					t.Errorf("us cannot type %q", c)
				}
				continue
			}
			text := string(c) + "7" + string(c) + string(c) + "\r"
			reports, err := KeyboardReports(text, layout)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range reports {
				res, err := d.Decode(r[:])
				if err != nil {
					t.Fatalf("%s %q: %v", layout, c, err)
				}
				if res.Done {
					got = append(got, string(res.Code))
				}
			}
			if len(got) != 1 || got[0] != text[:len(text)-1] {
				t.Errorf("%s: typed %q, decoded %q", layout, text, got)
			}
		}
	}
	if _, err := KeyboardReports("é", "us"); err == nil {
		t.Error("KeyboardReports typed é on a US layout")
	}
}

func TestKeyboardEncoderMatchesReference(t *testing.T) {
	reports, err := KeyboardReports("30234000517861\r", "us")
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != len(vector30234) {
		t.Fatalf("%d reports, want %d", len(reports), len(vector30234))
	}
	for i, r := range reports {
		if want := hx(t, vector30234[i].report); string(r[:]) != string(want) {
			t.Fatalf("report %d = % x, want % x", i, r, want)
		}
	}
}
