package sip2_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/sync/sip2"
)

// FuzzParseReply feeds the reply parser arbitrary bytes. It must never
// panic; every error must be a *ParseError or *ChecksumError with an offset
// inside the input; and whatever parses must survive being encoded and
// parsed again. Seeds: testdata/fuzz/FuzzParseReply plus the golden replies.
func FuzzParseReply(f *testing.F) {
	for _, tc := range samples {
		if tc.request {
			continue
		}
		for _, ed := range []bool{false, true} {
			fr := tc.msg.Frame()
			fr.Seq = 3
			if b, err := sip2.Encode(fr, ed); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte("941AFItem information for inventory X999|AY0AZ1234"))
	f.Add([]byte("98"))
	f.Add([]byte("18AZ0000"))

	f.Fuzz(func(t *testing.T, b []byte) {
		m, fr, err := sip2.ParseReply(b, school)
		if err != nil {
			var pe *sip2.ParseError
			var ce *sip2.ChecksumError
			switch {
			case errors.As(err, &pe):
				if pe.Offset < 0 || pe.Offset > len(b) {
					t.Fatalf("offset %d outside a %d-byte input: %v", pe.Offset, len(b), err)
				}
			case errors.As(err, &ce):
				if ce.Offset < 0 || ce.Offset+4 > len(b) || ce.Got == ce.Computed {
					t.Fatalf("checksum error %+v on a %d-byte input", ce, len(b))
				}
			default:
				t.Fatalf("error %T %v is neither a ParseError nor a ChecksumError", err, err)
			}
			if !strings.HasPrefix(err.Error(), "sip2: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
			return
		}

		// Frame level: encode and parse again. Without error detection and
		// without variable fields, a fixed part ending in "AY<d>" is
		// ambiguous in SIP2 itself, so that case is skipped.
		if fr.Checksummed || len(fr.Fields) > 0 {
			enc, err := sip2.Encode(fr, fr.Checksummed)
			if err == nil {
				fr2, err := sip2.ParseFrame(enc)
				if err != nil {
					t.Fatalf("re-parse of %q (from %q): %v", enc, b, err)
				}
				if fr2.Code != fr.Code || fr2.Fixed != fr.Fixed || !reflect.DeepEqual(fr2.Fields, fr.Fields) {
					t.Fatalf("frame round trip:\n in  %q\n enc %q\n got %+v\nwant %+v", b, enc, fr2, fr)
				}
				if fr.Checksummed && fr2.Seq != fr.Seq {
					t.Fatalf("sequence %d became %d", fr.Seq, fr2.Seq)
				}
			}
		}

		// Typed level: after one encode/decode the message is normalised
		// (Y/N flags, dates in the local zone) and stays the same after that.
		m2, ok := reencode(t, m)
		if !ok {
			return
		}
		m3, ok := reencode(t, m2)
		if !ok {
			t.Fatalf("%+v encoded once but not twice", m2)
		}
		if !reflect.DeepEqual(m2, m3) {
			t.Fatalf("typed round trip is not stable:\n %+v\n %+v", m2, m3)
		}
	})
}

func reencode(t *testing.T, m sip2.Message) (sip2.Message, bool) {
	t.Helper()
	enc, err := sip2.Encode(m.Frame(), true)
	if err != nil {
		return nil, false // e.g. a value with CR in it: refused, not garbled
	}
	m2, _, err := sip2.ParseReply(enc, school)
	if err != nil {
		t.Fatalf("%+v encodes to %q, which does not parse: %v", m, enc, err)
	}
	return m2, true
}

func TestParseFrameHugeInput(t *testing.T) {
	b := bytes.Repeat([]byte("AF"), sip2.MaxMessageLen)
	if _, err := sip2.ParseFrame(b); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("a %d-byte message: err = %v, want the length limit", len(b), err)
	}
}
