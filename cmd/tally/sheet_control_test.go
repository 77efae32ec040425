package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tally sheet control lists a start code per open inventory (and cart) and
// the session commands; a catalog barcode that reads as a command stops it.
func TestSheetControl(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "tally.db")
	csv := filepath.Join(dir, "c.csv")
	os.WriteFile(csv, []byte(tally(t, "", "sample", "collection", "--books", "20")), 0o644)
	tally(t, "", "import", "--db", db, csv)
	if _, errs := tallyFail(t, "", "sheet", "control", "--db", db); !strings.Contains(errs, "no open inventory") {
		t.Errorf("no inventory: %s", errs)
	}
	tally(t, "", "inventory", "create", "--db", db, "--name", "Fiction")
	page := tally(t, "", "sheet", "control", "--db", db)
	codes := regexp.MustCompile(`class="code">([^<]*)<`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, c := range codes {
		got = append(got, c[1])
	}
	all := strings.Join(got, " ")
	for _, w := range []string{"#TALLY:SHELF:1", "#TALLY:PAUSE", "#TALLY:RESUME", "#TALLY:UNDO", "#TALLY:END"} {
		if !strings.Contains(all, w) {
			t.Errorf("sheet lacks %s: %s", w, all)
		}
	}
	if n := strings.Count(page, "<svg"); n != len(got) || n < 5 {
		t.Errorf("%d barcodes for %d codes", n, len(got))
	}

	badges := tally(t, "", "sheet", "operators", "Ana", "Ben")
	if strings.Count(badges, "<svg") != 2 || !strings.Contains(badges, "#TALLY:OP:Ana") || !strings.Contains(badges, "I am Ben") {
		t.Errorf("badges:\n%s", badges)
	}
	if _, errs := tallyFail(t, "", "sheet", "operators", "Zoë"); !strings.Contains(errs, "not printable ASCII") {
		t.Errorf("accented name: %s", errs)
	}

	os.WriteFile(csv, []byte("barcode,title\n#TALLY:PAUSE,Trap\n"), 0o644)
	tally(t, "", "import", "--db", db, csv)
	if _, errs := tallyFail(t, "", "sheet", "control", "--db", db); !strings.Contains(errs, "read them as commands") {
		t.Errorf("clash: %s", errs)
	}
}
