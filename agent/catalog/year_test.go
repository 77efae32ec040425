package catalog

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// Publication years from the real records in testdata/real (SOURCES.md):
// each record's 008/06 and 008/07-10 as LC codes them, with 260 $c beside.
func TestYearFromReal008(t *testing.T) {
	for _, c := range []struct {
		file  string
		years []int
	}{
		// 008 "s1999", "r1960" (reprint/reissue: Date 1 is the reissue's
		// date), "s2001" (two items), "s1978".
		{"jazz_1k-1-4.mrc", []int{1999, 1960, 2001, 2001, 1978}},
		// "s1919", "s1904", "s1908", "s1869", and "q1890" (questionable:
		// Date 1 is the earliest possible; 260 $c "1890?.").
		{"lul_fre_100-1-5.mrc", []int{1919, 1904, 1908, 1869, 1890}},
		// "s1995", "s1984" (the duplicate third holding is rejected).
		{"pride-and-prejudice-10-77-78.mrc", []int{1995, 1984}},
	} {
		recs, _ := parseBytes(t, readReal(t, c.file), c.file)
		var got []int
		for _, r := range recs {
			got = append(got, r.Item.Year)
		}
		if !slices.Equal(got, c.years) {
			t.Errorf("%s: years %v, want %v", c.file, got, c.years)
		}
	}
}

// The first jazz record with its 008 date and 260 $c edited in place
// (same lengths, so its directory stays valid): what each rule falls back
// to.
func TestYearFallbacks(t *testing.T) {
	orig := readReal(t, "jazz_1k-1-4.mrc")
	end := bytes.IndexByte(orig, marcRT) + 1
	rec1 := orig[:end]
	const f008 = "020121s1999    cauuuu"
	if !bytes.Contains(rec1, []byte(f008)) || !bytes.Contains(rec1, []byte("\x1fc1999\x1e")) {
		t.Fatal("fixture changed: record 1 has no 008 s1999 or 260 $c 1999")
	}
	edit := func(date008, c260 string) []byte {
		r := bytes.Replace(rec1, []byte(f008), []byte("020121"+date008+"    cauuuu"), 1)
		return bytes.Replace(r, []byte("\x1fc1999\x1e"), []byte("\x1fc"+c260+"\x1e"), 1)
	}
	for _, c := range []struct {
		date008, c260 string
		want          int
	}{
		{"s1999", "1999", 1999},
		{"s1998", "1999", 1998}, // 008 wins over 260
		{"n    ", "1997", 1997}, // dates unknown: 260 $c
		{"b    ", "c199", 0},    // no dates, no year in $c
		{"|||||", "1997", 1997}, // no attempt to code: 260 $c
		{"s199u", "1996", 1996}, // a known decade yields to an exact $c
		{"s199u", "199-", 1995}, // the decade's middle when $c has none
		{"s19uu", "19--", 0},    // a century is no year
		{"s    ", "[19]", 0},    // blanks
		{"r2003", "1999", 2003}, // reissue
		{"t2003", "1999", 2003}, // publication date (copyright in Date 2)
		{"s0000", "1999", 1999}, // not a year: $c
	} {
		recs, errs := parseBytes(t, edit(c.date008, c.c260), "j.mrc")
		if len(errs) > 0 || len(recs) != 1 {
			t.Fatalf("%s/%s: %v %v", c.date008, c.c260, recs, errs)
		}
		if got := recs[0].Item.Year; got != c.want {
			t.Errorf("008/06-10 %q, 260 $c %q: year %d, want %d", c.date008, c.c260, got, c.want)
		}
	}
}

// RDA records carry 264 instead of 260: second indicator 1 publication,
// 4 copyright notice (examples as Folgerpedia's "MARC 264" page shows
// them: "264 #1 ǂc [2004]", "264 #4 ǂc ©2004."). Publication wins over
// copyright whatever their order; MARCXML reads the 008 and indicators too.
func TestYear264(t *testing.T) {
	item := df("952", "aMAIN", "p1", "oFIC X", "91")
	for _, c := range []struct {
		name   string
		fields []mfield
		want   int
	}{
		{"copyright first", []mfield{df("245", "aX"), dfi("264", "#4", "c©2011."), dfi("264", "#1", "aEl Segundo, CA :", "bMattel, Inc.,", "c[2004]"), item}, 2004},
		{"copyright only", []mfield{df("245", "aX"), dfi("264", "#4", "c©2011"), item}, 2011},
		{"phonogram", []mfield{df("245", "aX"), dfi("264", "#4", "cp1983"), item}, 1983},
		{"manufacture only", []mfield{df("245", "aX"), dfi("264", "#3", "c2017."), item}, 2017},
		{"260 c-date", []mfield{df("245", "aX"), df("260", "aNew York :", "bRandom House,", "cc1998."), item}, 1998},
		{"008 wins", []mfield{ctl("008", "000313s2000    nyu           000 1 eng  "), df("245", "aX"), dfi("264", "#1", "c2002"), item}, 2000},
		{"008 n", []mfield{ctl("008", "000313n        nyu           000 1 eng  "), df("245", "aX"), dfi("264", "#1", "c2002"), item}, 2002},
		{"between", []mfield{df("245", "aX"), dfi("264", "#1", "c[between 1900 and 1999?]"), item}, 1900},
	} {
		for _, enc := range []string{"marc", "xml"} {
			data := encodeMARC('a', c.fields...)
			if enc == "xml" {
				data = encodeXML("", c.fields)
			}
			recs, errs := parseBytes(t, data, "r."+enc)
			if len(errs) > 0 || len(recs) != 1 {
				t.Fatalf("%s %s: %v %v", c.name, enc, recs, errs)
			}
			if got := recs[0].Item.Year; got != c.want {
				t.Errorf("%s (%s): year %d, want %d", c.name, enc, got, c.want)
			}
		}
	}
}

// The CSV year column and Koha's names for it: copyrightdate (biblio),
// publicationyear (biblioitems, text) and the item search's "Publication
// date" (publicationyear || copyrightdate). A year that holds no year is
// a warning, never a lost item.
func TestYearCSV(t *testing.T) {
	for _, c := range []struct {
		in    string
		years []int
		warn  string
	}{
		{"barcode,year\n1,2019\n2,\n3,c1998.\n", []int{2019, 0, 1998}, ""},
		{"barcode,copyrightdate\n1,2005\n2,0\n", []int{2005, 0}, ""},
		{"barcode,copyrightdate,publicationyear\n1,2005,c2006\n2,2005,\n", []int{2006, 0}, `reading "publicationyear"`},
		{"barcode,publicationyear\n1,[197-?]\n", []int{0}, `year "[197-?]" holds no four-digit year`},
	} {
		res, err := Read(strings.NewReader(c.in), "y.csv", FormatAuto)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		var got []int
		for _, r := range res.Records {
			got = append(got, r.Item.Year)
		}
		if !slices.Equal(got, c.years) || len(res.Errors) > 0 {
			t.Errorf("%q: years %v errors %v, want %v", c.in, got, res.Errors, c.years)
		}
		var ws []string
		for _, w := range res.Warnings {
			ws = append(ws, w.Error())
		}
		if all := strings.Join(ws, "\n"); c.warn != "" && !strings.Contains(all, c.warn) || c.warn == "" && all != "" {
			t.Errorf("%q: warnings %q, want %q", c.in, all, c.warn)
		}
	}
}

func TestFirstYear(t *testing.T) {
	for in, want := range map[string]int{
		"c1998.": 1998, "[2004]": 2004, "©2011": 2011, "1998, c1997.": 1998, "p1983": 1983,
		"1556 August 10.": 1556, "[199-?]": 0, "19--": 0, "MCMX": 0, "12345": 0, "": 0,
		"0999": 0, "no. 12, 2001": 2001, "2001-2005": 2001,
	} {
		if got := FirstYear(in); got != want {
			t.Errorf("FirstYear(%q) = %d, want %d", in, got, want)
		}
	}
}

// The index keeps the year.
func TestIndexKeepsYear(t *testing.T) {
	x := NewIndex(1)
	x.Put(Item{Barcode: "1", Year: 2011})
	if it, _ := x.Get("1"); it.Year != 2011 {
		t.Errorf("year %d after the index", it.Year)
	}
}
