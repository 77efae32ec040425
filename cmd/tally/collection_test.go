package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The collection report from the CLI, the path a user takes: the small
// collection of agent/report's hand-computed test imported as tally CSV,
// an inventory that scans all but four items, then `tally report
// collection`. The figures are those worked out in
// agent/report/collection_test.go (reference date 2026-06-30).
func TestReportCollectionCLI(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "tally.db")
	t.Setenv("TALLY_DB", db)
	in := filepath.Join(dir, "c.csv")
	os.WriteFile(in, []byte(`barcode,title,call_number,location,kind,price,year
1,A,599.75 ROW,Main,book,20.00,1990
2,B,523.1 SAG,Main,book,15.50,2000
3,C,510 EUC,Main,book,,2010
4,D,551.2 VOL,Main,book,12.00,2020
5,E,FIC ROW,Main,book,,2016
6,F,J FIC ADA,Main,book,,2005
7,G,SC ALE,Main,book,,
8,H,E FIC CAR,Main,book,,2006
9,I,921 LIN,Main,book,,1985
10,J,B KEL,Main,book,,1999
11,K,92 ROW,Main,book,,2024
12,L,Cart 2,Main,equipment,259.00,
13,M,REF 031 WOR,Main,book,,2001
14,N,QA76.73 .P98 2020,Main,book,,2020
`), 0o644)
	run := func(in string, args ...string) string { t.Helper(); return tally(t, in, args...) }
	run("", "import", in)
	run("", "inventory", "create", "--name", "Spring 2026", "--location", "Main")
	run("", "session", "start", "--inventory", "1")
	run("2\n3\n5\n6\n8\n9\n10\n11\n13\n14\n", "scan", "--session", "1")
	out := run("", "report", "collection", "--inventory", "1", "--at", "2026-06-30", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	find := func(class string) []string {
		for _, r := range rows {
			if r[0] == class {
				return r[2:]
			}
		}
		t.Fatalf("no %s row in\n%s", class, out)
		return nil
	}
	for class, want := range map[string][]string{
		"500":       {"4", "4", "2005", "0.750", "0.500", "2", "32.00", "0"},
		"fiction":   {"3", "2", "2010.5", "0.500", "0.500", "1", "0.00", "1"},
		"equipment": {"1", "0", "", "", "", "1", "259.00", "0"},
		"total":     {"14", "12", "2005.5", "0.667", "0.500", "4", "291.00", "1"},
	} {
		if got := find(class); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", class, got, want)
		}
	}
	// Without an inventory: the whole catalog, no missing columns; the
	// printable page has its two charts.
	out = run("", "report", "collection", "--at", "2026-06-30", "--format", "csv")
	if strings.Contains(out, "missing") || !strings.Contains(out, "total,Total,14,12,2005.5,0.667,0.500") {
		t.Errorf("without an inventory:\n%s", out)
	}
	if out = run("", "report", "collection"); strings.Count(out, "<svg") != 2 {
		t.Errorf("HTML page:\n%s", out)
	}
}
