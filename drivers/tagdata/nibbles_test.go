package tagdata

import (
	"strings"
	"testing"
)

// TestISO28560_3SwappedNibbles decodes testdata/iso28560-3-nibbles.txt
// (libdanrfid's test tag with Bibliotheca's byte 0 values): a tag whose CRC
// holds is read, with a warning, instead of refused for an unknown version.
func TestISO28560_3SwappedNibbles(t *testing.T) {
	rows := readTable(t, "testdata/iso28560-3-nibbles.txt", 4)
	for _, r := range rows {
		col := r.cols
		tag, err := Decode(ModelISO28560_3, mustHex(t, col[0]))
		if err != nil {
			t.Errorf("%s: %v", r.at, err)
			continue
		}
		warn := strings.Join(tag.Warnings, "; ")
		if tag.ID != col[1] || tag.TypeOfUsage != col[2] || col[3] == "" && warn != "" || !strings.Contains(warn, col[3]) {
			t.Errorf("%s: id %q usage %q warnings %q, want %q %q %q", r.at, tag.ID, tag.TypeOfUsage, warn, col[1], col[2], col[3])
		}
		// Detect finds it too.
		if d, err := Detect(mustHex(t, col[0])); err != nil || d.Model != ModelISO28560_3 || d.ID != col[1] {
			t.Errorf("%s: Detect = %+v, %v", r.at, d, err)
		}
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	// Neither nibble a version: still refused, with the byte named.
	p := mustHex(t, "11010131313232333334340000000000000000513e4445373035000000000000")
	p[0] = 0x73
	if _, err := Decode(ModelISO28560_3, withCRC3(p)); err == nil || !strings.Contains(err.Error(), "byte 0: data model version 7") {
		t.Errorf("0x73 (CRC valid): %v", err)
	}
}
