package catalog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// marcSeeds returns the golden inputs of one form (".mrc" or ".xml"),
// and with -update writes them as the committed fuzz seed corpus too.
func marcSeeds(f *testing.F, ext string) [][]byte {
	var seeds [][]byte
	for _, c := range marcCases() {
		if c.ext == ext {
			seeds = append(seeds, c.build())
		}
	}
	if *updateMARC {
		dir := filepath.Join("testdata", "fuzz", f.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		for _, c := range marcCases() {
			if c.ext != ext {
				continue
			}
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", c.build())
			if err := os.WriteFile(filepath.Join(dir, c.name), []byte(body), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
	return seeds
}

// FuzzParseMARC feeds ISO 2709 input: no panic, the invariants of
// checkMARCResult, and memory bounded by the input (a length field never
// sizes an allocation by itself, so fuzzed lengths of 99999 cost nothing).
func FuzzParseMARC(f *testing.F) {
	for _, s := range marcSeeds(f, ".mrc") {
		f.Add(s)
	}
	a, b, _ := threeRecords()
	f.Add(a[:30])
	f.Add([]byte("99999nam a2299999   4500\x1e\x1d"))
	f.Add([]byte("00026nam a2200025   4500\x1e\x1d"))
	f.Add(concat(a, []byte("00000"), b))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, errs, err := ParseMARC(bytes.NewReader(data), "fuzz.mrc")
		checkMARCResult(t, data, recs, errs, err)
		checkMARCBinaryFraming(t, data, errs, err)
	})
}

// checkMARCBinaryFraming: a binary row error points at the start of a
// record (its 5-digit length), except for the stray bytes that end a file
// and a length that is not digits.
func checkMARCBinaryFraming(t *testing.T, data []byte, errs []RowError, err error) {
	t.Helper()
	if err != nil {
		return
	}
	for _, e := range errs {
		if e.Offset < 0 || strings.Contains(e.Msg, "stray bytes") || strings.Contains(e.Msg, "not 5 digits") {
			continue
		}
		if e.Offset+5 > int64(len(data)) {
			t.Fatalf("row error at byte %d is past the last record start", e.Offset)
		}
		if _, ok := marcDigits(string(data[e.Offset : e.Offset+5])); !ok {
			t.Fatalf("row error at byte %d does not point at a record: %q", e.Offset, data[e.Offset:e.Offset+5])
		}
	}
}

// FuzzParseMARCXML feeds MARCXML: no panic and the same invariants.
func FuzzParseMARCXML(f *testing.F) {
	for _, s := range marcSeeds(f, ".xml") {
		f.Add(s)
	}
	f.Add([]byte("<record><datafield tag=\"952\"><subfield code=\"p\">1</subfield></datafield></record>"))
	f.Add([]byte("<record><datafield tag=\"952\"><subfield code=\"p\">1</subfield>"))
	f.Add([]byte("<a><record xmlns=\"urn:other\"><record/></record></a>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, errs, err := ParseMARC(bytes.NewReader(data), "fuzz.xml")
		checkMARCResult(t, data, recs, errs, err)
	})
}
