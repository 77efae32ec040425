package sip2_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/sip2"
)

// school is the zone of the worked example: SIP2 dates carry local wall time.
var school = time.FixedZone("school", -5*3600)

var exampleTime = time.Date(2024, 1, 15, 9, 30, 0, 0, school)

// A worked session — login (93), SC status (99), item information (17),
// checkin (09) — with sequence numbers and checksums as the SIP 2.00
// specification (3M, "Standard Interchange Protocol v2.00", error
// detection: AY sequence, AZ the two's complement of the 16-bit byte sum)
// gives them, cross-checked against Koha's REQUEST_*_RESEND_CKSUM
// constants and testdata/koha-checksum.txt.
var workedExample = []struct {
	name string
	msg  sip2.Message
	seq  int
	wire string
}{
	{"login", &sip2.Login{User: "invbot", Password: "s3cret", Location: "LMC"}, 0,
		"9300CNinvbot|COs3cret|CPLMC|AY0AZF4E3"},
	{"sc status", &sip2.SCStatus{Status: '0', MaxPrintWidth: 30, Protocol: "2.00"}, 1,
		"9900302.00AY1AZFCA5"},
	{"item information", &sip2.ItemInformation{TransactionDate: exampleTime, Zone: school,
		Institution: "SCHOOL1", ItemID: "31234000123456"}, 2,
		"1720240115    093000AOSCHOOL1|AB31234000123456|AC|AY2AZF330"},
	{"checkin", &sip2.Checkin{TransactionDate: exampleTime, ReturnDate: exampleTime, Zone: school,
		CurrentLocation: "LMC-SHELF", Institution: "SCHOOL1", ItemID: "31234000123456"}, 3,
		"09N20240115    09300020240115    093000APLMC-SHELF|AOSCHOOL1|AB31234000123456|AC|AY3AZEC1D"},
}

func TestWorkedExampleEncode(t *testing.T) {
	for _, tc := range workedExample {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.msg.Frame()
			f.Seq = tc.seq
			got, err := sip2.Encode(f, true)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.wire {
				t.Errorf("encode:\n got %s\nwant %s", got, tc.wire)
			}
		})
	}
}

func TestWorkedExampleParse(t *testing.T) {
	for _, tc := range workedExample {
		t.Run(tc.name, func(t *testing.T) {
			m, f, err := sip2.ParseRequest([]byte(tc.wire), school)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Checksummed || f.Seq != tc.seq {
				t.Errorf("checksummed=%v seq=%d, want true, %d", f.Checksummed, f.Seq, tc.seq)
			}
			back := m.Frame()
			back.Seq = f.Seq
			wire, err := sip2.Encode(back, true)
			if err != nil {
				t.Fatal(err)
			}
			if string(wire) != tc.wire {
				t.Errorf("re-encode:\n got %s\nwant %s", wire, tc.wire)
			}
		})
	}
}

func TestChecksum(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"9900302.00AY1AZ", "FCA5"}, // byte sum 0x035B, two's complement 0xFCA5
		{"15+20130915    1854553BSpickupLocation|BY3|AO|AApatronId|ABitemId|AY1AZ", "E9BF"}, // JSIP2
		{"96AZ", "FEF6"}, // Koha REQUEST_SC_RESEND_CKSUM
		{"97AZ", "FEF5"}, // Koha REQUEST_ACS_RESEND_CKSUM
		{"", "0000"},
		// 300*255 + 'A' + 'Z' = 76655 = 0x12B6F: the 16-bit sum wraps to
		// 0x2B6F, whose two's complement is 0xD491.
		{strings.Repeat("\xff", 300) + "AZ", "D491"},
	} {
		if got := sip2.Checksum([]byte(tc.msg)); got != tc.want {
			t.Errorf("Checksum(%.20q) = %s, want %s", tc.msg, got, tc.want)
		}
	}
}

func TestParseFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		offset int
		want   string // substring of the error
	}{
		{"empty", "", 0, "at least a 2-digit code"},
		{"one byte", "9", 1, "at least a 2-digit code"},
		{"letters for code", "AB1234", 0, `message code "AB" is not two digits`},
		{"unknown code", "55ABC", 0, "unsupported message code 55"},
		{"fixed too short", "18030201202401", 14, "fixed fields too short: 18 needs 24 bytes after the code, got 12"},
		{"fixed too short with trailer", "981AY1AZFDF8", 3, "fixed fields too short: 98 needs 34"},
		{"field too short", "941A|", 3, `field "A" is too short`},
		{"bad field code", "941AOx|ab12|", 7, `field code "ab" is not two upper-case letters`},
		{"bad checksum", "941AFItem information for inventory X999|AY0AZ1234", 46, "AZ is 1234, computed F00D"},
		{"required field missing", "18030201" + "20240115    093000" + "AJTitle|", 26, "required field AB (item identifier) is missing"},
		{"title missing", "18030201" + "20240115    093000" + "AB123|", 26, "required field AJ (title identifier)"},
		{"checkin reply without AO", "101YNN20240115    093000AB1|", 24, "required field AO"},
		{"circulation status not digits", "18xx0201" + "20240115    093000" + "AB1|AJt|", 2, `circulation status "xx"`},
		{"request as reply", "9300CNa|COb|", 0, "not a reply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := sip2.ParseReply([]byte(tc.in), school)
			if err == nil {
				t.Fatalf("ParseReply(%q) succeeded", tc.in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			var pe *sip2.ParseError
			var ce *sip2.ChecksumError
			switch {
			case errors.As(err, &pe):
				if pe.Offset != tc.offset {
					t.Errorf("offset %d, want %d (%v)", pe.Offset, tc.offset, err)
				}
			case errors.As(err, &ce):
				if ce.Offset != tc.offset {
					t.Errorf("offset %d, want %d (%v)", ce.Offset, tc.offset, err)
				}
			default:
				t.Errorf("error %T is neither *ParseError nor *ChecksumError", err)
			}
		})
	}
}

func TestParseFrameTolerates(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		seq       int
		checksum  bool
		wantField string // code=value of the last field, "" for none
	}{
		{"no final bar", "941AFhello", -1, false, "AF=hello"},
		{"empty fields", "941||AFx||", -1, false, "AF=x"},
		{"96 with AZ and no AY (Koha)", "96AZFEF6", -1, true, ""},
		{"bare 96", "96", -1, false, ""},
		{"lower-case checksum", "9900302.00AY1AZfca5", 1, true, ""},
		{"AY without AZ", "941AFx|AY4", 4, false, "AF=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := sip2.ParseFrame([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if f.Seq != tc.seq || f.Checksummed != tc.checksum {
				t.Errorf("seq=%d checksummed=%v, want %d %v", f.Seq, f.Checksummed, tc.seq, tc.checksum)
			}
			last := ""
			if n := len(f.Fields); n > 0 {
				last = f.Fields[n-1].Code + "=" + f.Fields[n-1].Value
			}
			if last != tc.wantField {
				t.Errorf("last field %q, want %q", last, tc.wantField)
			}
		})
	}
}

func TestEncodeRefusesFramingBytes(t *testing.T) {
	for _, v := range []string{"a|b", "a\rb", "a\nb"} {
		_, err := sip2.Encode((&sip2.ItemInformation{Institution: "X", ItemID: v}).Frame(), true)
		if err == nil || !strings.Contains(err.Error(), "framing") {
			t.Errorf("Encode with item id %q: err = %v, want a framing error", v, err)
		}
	}
	if _, err := sip2.Encode(&sip2.Frame{Code: "17", Fixed: "short", Seq: -1}, false); err == nil {
		t.Error("Encode accepted a 5-byte fixed part for 17")
	}
	if _, err := sip2.Encode(&sip2.Frame{Code: "94", Fixed: "1", Seq: 10}, true); err == nil {
		t.Error("Encode accepted sequence number 10")
	}
}

func TestDates(t *testing.T) {
	if got := sip2.FormatDate(exampleTime, nil); got != "20240115    093000" {
		t.Errorf("FormatDate = %q", got)
	}
	if got := sip2.FormatDate(exampleTime.UTC(), school); got != "20240115    093000" {
		t.Errorf("FormatDate in zone = %q", got)
	}
	if got := sip2.FormatDate(time.Time{}, nil); got != strings.Repeat(" ", 18) {
		t.Errorf("FormatDate(zero) = %q", got)
	}
	got, ok := sip2.ParseDate("20240115    093000", school)
	if !ok || !got.Equal(exampleTime) {
		t.Errorf("ParseDate = %v %v", got, ok)
	}
	got, ok = sip2.ParseDate("20240115   Z143000", school)
	if !ok || !got.Equal(exampleTime) || got.Location() != time.UTC {
		t.Errorf("ParseDate UTC = %v %v", got, ok)
	}
	for _, bad := range []string{"", "2024011509300", strings.Repeat(" ", 18), "20241315    093000", "20240115    256000", "20240115    09+100"} {
		if _, ok := sip2.ParseDate(bad, school); ok {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
}

func TestReadMessage(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("941\r\n\r\n9900302.00\n\r960"))
	for _, want := range []string{"941", "9900302.00"} {
		got, err := sip2.ReadMessage(r)
		if err != nil || string(got) != want {
			t.Fatalf("ReadMessage = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := sip2.ReadMessage(r); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated message: err = %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := sip2.ReadMessage(r); err != io.EOF {
		t.Errorf("at end: err = %v, want io.EOF", err)
	}
}

func TestReadMessageBounded(t *testing.T) {
	// An endless message without terminator must fail once it passes the
	// limit instead of buffering forever.
	r := bufio.NewReader(io.LimitReader(repeatReader('A'), 10*sip2.MaxMessageLen))
	_, err := sip2.ReadMessage(r)
	if err == nil || !strings.Contains(err.Error(), "without a terminator") {
		t.Fatalf("err = %v", err)
	}
}

type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
