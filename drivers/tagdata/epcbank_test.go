package tagdata

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestEPCBankEvidence decodes the EPC banks of testdata/epc-bank.txt (GS1
// TDS, SparkFun, dp2; sources in the file) through the EPC-bank entry point
// with no format forced, as `tally decode --format uhf` and the runtime do.
func TestEPCBankEvidence(t *testing.T) {
	rows := readTable(t, "testdata/epc-bank.txt", 4)
	for _, r := range rows {
		col := r.cols
		tag, err := DecodeHex("uhf", col[0])
		if col[1] == "error" {
			if err == nil || !strings.Contains(err.Error(), col[2]) {
				t.Errorf("%s: %s decoded to %+v, %v; want an error %q", r.at, col[0], tag, err, col[2])
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %s: %v", r.at, col[0], err)
			continue
		}
		if string(tag.Model) != col[1] || tag.ID != col[2] || tag.GTIN != col[3] {
			t.Errorf("%s: %s = %s %q GTIN %q, want %s %q GTIN %q", r.at, col[0], tag.Model, tag.ID, tag.GTIN, col[1], col[2], col[3])
		}
	}
	if len(rows) < 5 {
		t.Fatalf("read %d rows", len(rows))
	}
}

// row is one line of a testdata table: its place (file:line) and columns.
type row struct {
	at   string
	cols []string
}

// readTable reads a testdata table: one row a line, columns split by '|'
// and trimmed, '#' lines (the sources) and blank lines skipped.
func readTable(t *testing.T, path string, ncols int) []row {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []row
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		cols := strings.Split(text, "|")
		if len(cols) != ncols {
			t.Fatalf("%s:%d: %d columns, want %d", path, line, len(cols), ncols)
		}
		for i := range cols {
			cols[i] = strings.TrimSpace(cols[i])
		}
		rows = append(rows, row{at: fmt.Sprintf("%s:%d", path, line), cols: cols})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// The GS1 TDS example EPC without its PC word: bytes 0-1 (0x3074) must not
// be taken for a StoredCRC and bytes 2-3 for a PC word, which made up the
// library identifier "9UPLT1DI." with only a warning.
func TestEPCWithoutPCIsNotAStoredCRC(t *testing.T) {
	tag, err := DecodeHex("uhf", "3074257BF7194E4000001A85")
	if err != nil || tag.Model != ModelSGTIN96 || tag.GTIN != "80614141123458" || len(tag.Warnings) != 0 {
		t.Fatalf("got %+v, %v; want SGTIN-96 with GTIN 80614141123458", tag, err)
	}
	// Forcing ISO/TS 28560-4 still reads the bytes as asked, with the
	// mismatch said out loud.
	tag, err = DecodeHex("iso28560-4", "3074257BF7194E4000001A85")
	if err != nil || len(tag.Warnings) == 0 || !strings.Contains(strings.Join(tag.Warnings, " "), "does not match") {
		t.Errorf("forced: %+v, %v", tag, err)
	}
}

// FuzzDecodeEPCBank: whatever the bytes, the EPC-bank entry point with no
// format forced never decodes through a StoredCRC that does not match.
func FuzzDecodeEPCBank(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		tag, err := decodeEPCBank("", data, nil, false)
		checkResult(t, len(data), tag, err)
		if err != nil {
			return
		}
		if v, ok := tag.Get("stored CRC"); ok && !strings.HasSuffix(v, "(ok)") && !strings.HasSuffix(v, "(not reported)") {
			t.Fatalf("decoded % X through a mismatched StoredCRC: %s", data, v)
		}
	})
}
