package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Holds and weeding rules as automatic pull lists, through the real CLI and
// SQLite: Koha's holds queue report is imported (patrons never kept), the
// weeding rules choose by call-number range, age, last checkout and
// condition (dry run first), and a scan of a held or chosen book says
// "pull: …" with where and why — never who — and the report lists them.
func TestHoldsAndWeedingPullLists(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	cat := "barcode,title,call_number,location,status,year,datelastborrowed,condition\n" +
		"39999000001310,The hobbit,FIC TOL,Stacks,available,1995,2025-10-01,good\n" +
		"39999000004421,Owls,598.97 HUM,Stacks,available,2019,2024-01-05,\n" +
		"D1,Computers today,004.16 ALI,Stacks,available,1998,2016-03-02,poor\n" +
		"D2,Old almanac,031.02 WOR,Stacks,available,2001,2019-05-01,fair\n" +
		"D3,Lost atlas,099 ATL,Stacks,lost,1990,2010-01-01,poor\n" +
		"D4,Philosophy,100 ARI,Stacks,available,1990,2010-01-01,poor\n" +
		"D5,Undated,005.133 PYT,Stacks,available,,2012-01-01,\n"
	os.WriteFile(filepath.Join(dir, "c.csv"), []byte(cat), 0o644)
	tally(t, "", "import", filepath.Join(dir, "c.csv"))

	// Koha's holds queue as a report gives it (the evidence file's header
	// and rows; see agent/catalog/testdata/real/SOURCES.md).
	queue := filepath.Join("..", "..", "agent", "catalog", "testdata", "holds", "koha_holdsqueue.csv")
	out := tally(t, "", "holds", "import", queue)
	if !strings.Contains(out, "holds to pull: 2 from") || !strings.Contains(out, "1 rows without a barcode skipped") {
		t.Fatalf("holds import: %s", out)
	}
	out = tally(t, "", "holds", "list")
	if !strings.Contains(out, "39999000001310  FIC TOL") || !strings.Contains(out, "FPL     2026-11-02") || strings.Contains(out, "Loe") {
		t.Errorf("holds list:\n%s", out)
	}

	tally(t, "", "inventory", "create", "--name", "Stacks", "--location", "Stacks")
	rules := []string{"inventory", "weed", "1", "--call-range", "000-099", "--published-before", "2005", "--not-circulated-since", "2018-01-01"}
	out = tally(t, "", rules...)
	// D3 is lost (not on the shelf), D4 outside the range, D5 has no year.
	for _, want := range []string{"books in 000–099: 3", "published before 2005: 2 (1 with no year", "last checkout before 2018-01-01: 2 (0 with no last checkout",
		"chosen by every rule: 1", "D1  004.16 ALI  Computers today  weeding review: published 1998; last checkout 2016-03-02", "dry run: nothing attached"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if out := tally(t, "", "report", "--inventory", "1", "--format", "json", "pull_not_found"); strings.Contains(out, `"D1"`) {
		t.Errorf("a dry run attached the list: %s", out)
	}
	out = tally(t, "", append(rules, "--apply")...)
	if !strings.Contains(out, "weeding list of 1 items attached") {
		t.Fatalf("weed --apply: %s", out)
	}
	out = tally(t, "", "inventory", "weed", "1", "--condition", "poor", "--apply")
	if !strings.Contains(out, "weeding list of 2 items attached") { // D1 and D4; D3 is lost
		t.Fatalf("weed by condition: %s", out)
	}

	tally(t, "", "session", "start", "--inventory", "1", "--operator", "ana")
	out = tally(t, "39999000001310\nD4\n39999000004421\n", "scan", "--session", "1")
	i1, i2, i3 := strings.Index(out, "pull: hold for pickup at FPL, placed 2026-11-02"), strings.Index(out, "pull: weeding review: condition poor"),
		strings.Index(out, "pull: hold for pickup at CPL, placed 2026-12-01")
	if strings.Count(out, "(also: pull)") != 3 || i1 < 0 || i2 < i1 || i3 < i2 {
		t.Errorf("scan:\n%s", out)
	}
	for _, who := range []string{"Doe", "Jane", "Loe", "Lena", "Roe", "555-"} {
		if strings.Contains(out, who) {
			t.Errorf("the scan names the patron (%q):\n%s", who, out)
		}
	}
	out = tally(t, "", "report", "--inventory", "1", "pulled", "pull_not_found")
	for _, want := range []string{"39999000001310,The hobbit,FIC TOL,,Stacks,\"hold for pickup at FPL, placed 2026-11-02\"",
		"D4,Philosophy,100 ARI,,Stacks,weeding review: condition poor", "D1,Computers today,004.16 ALI,,Stacks,weeding review: condition poor,available,weeding rules"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
