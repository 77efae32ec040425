package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// A small collection whose figures are worked out by hand. Reference date
// 2026-06-30, so an item's age is 2026 minus its year; "older than 10"
// means age > 10 (year ≤ 2015), "older than 20" age > 20 (year ≤ 2005).
//
//	500: 599.75 ROW 1990 $20.00 missing, 523.1 SAG 2000 $15.50,
//	     510 EUC 2010, 551.2 VOL 2020 $12.00 missing
//	     years 1990 2000 2010 2020: median (2000+2010)/2 = 2005;
//	     ages 36 26 16 6: >10 3/4 = 0.750, >20 2/4 = 0.500;
//	     missing 2, value 20.00 + 12.00 = 32.00
//	fiction: FIC ROW 2016 (age 10: not older than 10), J FIC ADA 2005
//	     (age 21), SC ALE no year, missing, no price
//	     median (2005+2016)/2 = 2010.5; >10 1/2, >20 1/2;
//	     missing 1, value 0.00, 1 unpriced
//	easy: E FIC CAR 2006 (age 20: not older than 20): 2006, 1.000, 0.000
//	biography: 921 LIN 1985, B KEL 1999, 92 ROW 2024: median 1999;
//	     ages 41 27 2: >10 2/3 = 0.667, >20 2/3 = 0.667
//	equipment: Cart 2, no year, $259.00, missing: no median; 1 missing, 259.00
//	000: REF 031 WOR 2001 (age 25): 2001, 1.000, 1.000
//	other: QA76.73 .P98 2020 (LC): 2020, 0.000, 0.000
//	total: 14 items, 12 with a year:
//	     1985 1990 1999 2000 2001 2005 | 2006 2010 2016 2020 2020 2024
//	     median (2005+2006)/2 = 2005.5; >10: 8/12 = 0.667; >20: 6/12 = 0.500;
//	     missing 4, value 20 + 12 + 0 + 259 = 291.00, 1 unpriced
func handCollection() []Holding {
	return []Holding{
		{CallNumber: "599.75 ROW", Year: 1990, Price: 2000, Missing: true},
		{CallNumber: "523.1 SAG", Year: 2000, Price: 1550},
		{CallNumber: "510 EUC", Year: 2010},
		{CallNumber: "551.2 VOL", Year: 2020, Price: 1200, Missing: true},
		{CallNumber: "FIC ROW", Year: 2016},
		{CallNumber: "J FIC ADA", Year: 2005},
		{CallNumber: "SC ALE", Missing: true},
		{CallNumber: "E FIC CAR", Year: 2006},
		{CallNumber: "921 LIN", Year: 1985},
		{CallNumber: "B KEL", Year: 1999},
		{CallNumber: "92 ROW", Year: 2024},
		{CallNumber: "Cart 2", Equipment: true, Price: 25900, Missing: true},
		{CallNumber: "REF 031 WOR", Year: 2001},
		{CallNumber: "QA76.73 .P98 2020", Year: 2020},
	}
}

var handAt = time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC)

func TestCollectionAgreesWithHandComputed(t *testing.T) {
	c := NewCollection(handCollection(), handAt, "Spring 2026")
	empty := func(class string) []string {
		return []string{class, classLabels[class], "0", "0", "", "", "", "0", "0.00", "0"}
	}
	want := [][]string{
		{"000", classLabels["000"], "1", "1", "2001", "1.000", "1.000", "0", "0.00", "0"},
		empty("100"), empty("200"), empty("300"), empty("400"),
		{"500", classLabels["500"], "4", "4", "2005", "0.750", "0.500", "2", "32.00", "0"},
		empty("600"), empty("700"), empty("800"), empty("900"),
		{"fiction", "Fiction", "3", "2", "2010.5", "0.500", "0.500", "1", "0.00", "1"},
		{"easy", classLabels["easy"], "1", "1", "2006", "1.000", "0.000", "0", "0.00", "0"},
		{"biography", "Biography", "3", "3", "1999", "0.667", "0.667", "0", "0.00", "0"},
		{"equipment", "Equipment", "1", "0", "", "", "", "1", "259.00", "0"},
		{"other", classLabels["other"], "1", "1", "2020", "0.000", "0.000", "0", "0.00", "0"},
		{"total", "Total", "14", "12", "2005.5", "0.667", "0.500", "4", "291.00", "1"},
	}
	got := c.Table().Rows
	for i := range max(len(got), len(want)) {
		var g, w []string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !slices.Equal(g, w) {
			t.Errorf("row %d\n got %q\nwant %q", i, g, w)
		}
	}

	// The CSV reads back as the same table.
	var b bytes.Buffer
	if err := c.Write(&b, CSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want)+1 || !slices.Equal(recs[0], c.Table().Columns) || !slices.Equal(recs[6], want[5]) {
		t.Errorf("CSV %q", recs)
	}

	// JSON: numbers as numbers, null where unknown.
	b.Reset()
	if err := c.Write(&b, JSON); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Ref     string `json:"reference_date"`
		Classes []struct {
			Class   string   `json:"class"`
			Median  *float64 `json:"median_year"`
			Older20 *float64 `json:"share_older_20"`
			Missing *int     `json:"missing"`
			Value   *int64   `json:"missing_value_cents"`
		} `json:"classes"`
		Total struct {
			Median *float64 `json:"median_year"`
			Value  *int64   `json:"missing_value_cents"`
		} `json:"total"`
	}
	if err := json.Unmarshal(b.Bytes(), &js); err != nil {
		t.Fatal(err)
	}
	fic, eq := js.Classes[10], js.Classes[13]
	if fic.Class != "fiction" || *fic.Median != 2010.5 || *fic.Older20 != 0.5 || eq.Median != nil || *eq.Value != 25900 ||
		*js.Total.Median != 2005.5 || *js.Total.Value != 29100 {
		t.Errorf("JSON %s", b.String())
	}
}

// Without an inventory there are no missing columns, and the "other" row
// only appears when something is in it.
func TestCollectionWithoutInventory(t *testing.T) {
	c := NewCollection([]Holding{{CallNumber: "FIC A", Year: 2000, Missing: true}}, handAt, "")
	tab := c.Table()
	if slices.Contains(tab.Columns, "missing") || len(tab.Rows) != 15 || tab.Rows[10][0] != "fiction" || tab.Rows[14][0] != "total" {
		t.Errorf("table %q %q", tab.Columns, tab.Rows)
	}
	var b bytes.Buffer
	if err := c.Write(&b, JSON); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "missing") {
		t.Errorf("JSON without an inventory names missing items: %s", b.String())
	}
}

// The printable page draws one bar per class in each chart, widths in
// proportion: in the share-older-than-20 chart fiction (0.5) is half of
// 000 (1.0).
func TestCollectionHTMLCharts(t *testing.T) {
	c := NewCollection(handCollection(), handAt, "Spring <2026>")
	var b bytes.Buffer
	if err := c.Write(&b, HTML); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if n := strings.Count(s, "<svg"); n != 2 {
		t.Fatalf("%d charts, want 2", n)
	}
	if n := strings.Count(s, "<rect"); n != 2*len(c.Rows) {
		t.Errorf("%d bars, want %d", n, 2*len(c.Rows))
	}
	if strings.Contains(s, "<2026>") || !strings.Contains(s, "Spring &lt;2026&gt;") {
		t.Error("inventory name not escaped")
	}
	p := c.page()
	full, half := p.Old20.Bars[0].W, p.Old20.Bars[10].W
	if full <= 0 || half*2 != full {
		t.Errorf("bars 000 %.1f, fiction %.1f: want fiction half of 000", full, half)
	}
	// Median ages: 000 is 25 years, the oldest median is biography's 27.
	if a, bio := p.AgeChart.Bars[0].W, p.AgeChart.Bars[12].W; bio != chartW-chartLab-chartText || a != bio*25/27 {
		t.Errorf("age bars 000 %.2f, biography %.2f", a, bio)
	}
}
