package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Every formula trigger of the evidence file is neutralized in the CSV
// a person opens; data that only looks odd is left alone.
func TestCSVNeutralizesFormulas(t *testing.T) {
	f, err := os.Open("testdata/formula-triggers.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cells []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			s, err := strconv.Unquote(l)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			cells = append(cells, s)
		}
	}
	safe := []string{"30234000000017", "The Garden", "FIC ADA", "Ã‰=x", "a-b", "'=already"}
	tab := Table{Name: "t", Columns: []string{"cell"}}
	for _, c := range append(cells, safe...) {
		tab.Rows = append(tab.Rows, []string{c})
	}
	var b bytes.Buffer
	if err := Write(&b, CSV, "t", tab); err != nil {
		t.Fatal(err)
	}
	if _, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cells {
		if g := Neutralize(c); g != "'"+c {
			t.Errorf("%q neutralized as %q", c, g)
		}
	}
	if !strings.Contains(b.String(), `'＝HYPERLINK`) {
		t.Errorf("the CSV writer does not neutralize: %s", b.String())
	}
	for _, c := range safe {
		if Neutralize(c) != c {
			t.Errorf("%q changed to %q", c, Neutralize(c))
		}
	}
}
