package catalog

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// updating reports whether -update was given (the flag is declared once
// per package, in marc_test.go).
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden is what a case's expected.json holds.
type golden struct {
	Items    []Item   `json:"items"`
	Lines    []int    `json:"lines"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings,omitempty"`
}

func TestParseCSVGolden(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/csv/*")
	if len(dirs) == 0 {
		t.Fatal("no cases in testdata/csv")
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in := filepath.Join(dir, "input.csv")
			f, err := os.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := Read(f, "input.csv", FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			var got golden
			for _, r := range res.Records {
				got.Items = append(got.Items, r.Item)
				got.Lines = append(got.Lines, r.Line)
			}
			for _, e := range res.Errors {
				got.Errors = append(got.Errors, e.Error())
			}
			for _, e := range res.Warnings {
				got.Warnings = append(got.Warnings, e.Error())
			}
			js, _ := json.MarshalIndent(got, "", "  ")
			path := filepath.Join(dir, "expected.json")
			if updating() {
				if err := os.WriteFile(path, append(js, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(js)) {
				t.Errorf("%s differs from the golden file:\n%s", dir, js)
			}
		})
	}
}

func TestParseCSVRules(t *testing.T) {
	parse := func(s string) ([]Record, []RowError) {
		recs, bad, err := Parse(strings.NewReader(s), "f.csv", FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		return recs, bad
	}
	// Koha flags combine by precedence: withdrawn > lost (4 = missing) > on loan > damaged > not for loan.
	recs, bad := parse("barcode,itemlost,withdrawn,onloan,damaged,notforloan\nA,4,0,,0,0\nB,1,1,,0,0\nC,0,0,2026-01-01,1,0\nD,0,0,,0,2\nE,0,0,,1,1\n")
	if len(bad) > 0 {
		t.Fatal(bad)
	}
	want := []Status{StatusMissing, StatusWithdrawn, StatusCheckedOut, StatusNotForLoan, StatusDamaged}
	for i, r := range recs {
		if r.Item.Status != want[i] {
			t.Errorf("row %d: status %s, want %s", i+2, r.Item.Status, want[i])
		}
	}
	// Barcodes are normalized: case and surrounding space.
	recs, _ = parse("barcode\n  t0001 \n")
	if recs[0].Item.Barcode != "T0001" {
		t.Errorf("barcode %q, want T0001", recs[0].Item.Barcode)
	}
	// Missing barcode column is a file-level error naming the columns.
	if _, _, err := Parse(strings.NewReader("title,author\nx,y\n"), "f.csv", FormatCSV); err == nil || !strings.Contains(err.Error(), "f.csv:1: no barcode column") {
		t.Errorf("no barcode column: err = %v", err)
	}
	// Two columns meaning the same thing.
	if _, _, err := Parse(strings.NewReader("barcode,library,homebranch\n1,a,b\n"), "f.csv", FormatCSV); err == nil || !strings.Contains(err.Error(), "both give library") {
		t.Errorf("duplicate column: err = %v", err)
	}
	// Empty file.
	if _, _, err := Parse(strings.NewReader(""), "f.csv", FormatAuto); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty: err = %v", err)
	}
	// A bare quote is reported with its line, and the rows after it survive.
	_, bad = parse("barcode,title\n1,ok\n2,a \"bad\" quote\n3,fine\n")
	if len(bad) != 1 || bad[0].Line != 3 {
		t.Errorf("bare quote: %v", bad)
	}
}

func TestParsePrice(t *testing.T) {
	for in, want := range map[string]int64{"12.99": 1299, "$12.99": 1299, "12": 1200, "1,299.5": 129950, "": 0, ".5": 50} {
		got, err := ParsePrice(in)
		if err != nil || got != want {
			t.Errorf("ParsePrice(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"abc", "1.234", "-5", "12,99", "1,2345.00", ",500", "1,,000", "12.-5", "12.+5", "-0.50", "+5", "12.5,0", "1 000"} {
		if _, err := ParsePrice(in); err == nil {
			t.Errorf("ParsePrice(%q) accepted", in)
		}
	}
}

func TestLenientPrice(t *testing.T) {
	for in, want := range map[string]int64{"12.99": 1299, "1,299.00": 129900, "12,99": 1299, "€ 1.299,00": 129900, "junk": 0} {
		got, warn := lenientPrice(in)
		if got != want || (warn != "") != (in == "junk") {
			t.Errorf("lenientPrice(%q) = %d, %q; want %d", in, got, warn, want)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/csv/*/input.csv")
	for _, d := range dirs {
		b, _ := os.ReadFile(d)
		f.Add(b)
	}
	f.Add([]byte("barcode\n\"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, bad, err := Parse(bytes.NewReader(data), "fuzz.csv", FormatCSV)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, r := range recs {
			if r.Item.Barcode == "" {
				t.Fatal("accepted a record with no barcode")
			}
			if seen[r.Item.Barcode] {
				t.Fatalf("accepted barcode %q twice", r.Item.Barcode)
			}
			seen[r.Item.Barcode] = true
			if r.Line < 2 {
				t.Fatalf("record line %d", r.Line)
			}
		}
		for _, e := range bad {
			if e.Line < 1 || e.Msg == "" {
				t.Fatalf("error without place or message: %+v", e)
			}
		}
	})
}

// BenchmarkReadCSV reads a 20,000-row Koha items table export (the
// kohastructure.sql columns) into items, beside encoding/csv splitting the
// same bytes into fields and nothing else.
func BenchmarkReadCSV(b *testing.B) {
	var buf bytes.Buffer
	in := mustRead(b, "testdata/csv/koha_items_table/input.csv")
	lines := strings.Split(strings.TrimRight(string(in), "\r\n"), "\r\n")
	buf.WriteString(lines[0] + "\r\n")
	const rows = 20000
	for i := range rows {
		row := lines[1+i%(len(lines)-1)]
		_, rest, _ := strings.Cut(row, ",")
		_, rest, _ = strings.Cut(rest, ",")
		_, rest, _ = strings.Cut(rest, ",")
		_, rest, _ = strings.Cut(rest, ",") // itemnumber, biblionumber, biblioitemnumber, barcode
		fmt.Fprintf(&buf, "%d,%d,%d,3999900%07d,%s\r\n", i, i, i, i, rest)
	}
	data := buf.Bytes()
	b.Run("tally", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			res, err := Read(bytes.NewReader(data), "bench.csv", FormatAuto)
			if err != nil || len(res.Errors) > 0 || len(res.Records) != rows {
				b.Fatal(err, len(res.Records))
			}
		}
	})
	b.Run("baseline-encoding-csv", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(data))
			r.ReuseRecord = true
			n := 0
			for {
				if _, err := r.Read(); err != nil {
					break
				}
				n++
			}
			if n != rows+1 {
				b.Fatal(n)
			}
		}
	})
}
