package sip2

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestChecksumKohaVectors: tally's checksum is Koha's — the 16-bit sum of
// the message's bytes as sent (UTF-8), not of its characters — checked on
// Koha's own vectors, non-ASCII text included (testdata/koha-checksum.txt).
// A reply carrying Koha's checksum parses; one summed over characters does
// not.
func TestChecksumKohaVectors(t *testing.T) {
	f, err := os.Open("testdata/koha-checksum.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, nonASCII := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		msg, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("line %q: want MESSAGE<TAB>CHECKSUM", line)
		}
		n++
		if got := Checksum([]byte(msg)); got != want {
			t.Errorf("Checksum(%q) = %s, want Koha's %s", msg, got, want)
		}
		for _, r := range msg {
			if r > 0x7F {
				nonASCII = true
			}
		}
		if len(msg) > 10 {
			if _, err := ParseFrame([]byte(msg + want)); err != nil {
				t.Errorf("Koha's frame %q: %v", msg+want, err)
			}
			var chars uint16
			for _, r := range msg {
				chars += uint16(r)
			}
			if sum := -chars; strings.ContainsFunc(msg, func(r rune) bool { return r > 0x7F }) {
				bad := msg + string("0123456789ABCDEF"[sum>>12]) + string("0123456789ABCDEF"[sum>>8&0xF]) +
					string("0123456789ABCDEF"[sum>>4&0xF]) + string("0123456789ABCDEF"[sum&0xF])
				if _, err := ParseFrame([]byte(bad)); err == nil {
					t.Errorf("a checksum over characters was accepted: %q", bad)
				}
			}
		}
	}
	if n < 3 || !nonASCII {
		t.Fatalf("%d vectors, non-ASCII %v: want Koha's three, one with non-ASCII text", n, nonASCII)
	}
}
