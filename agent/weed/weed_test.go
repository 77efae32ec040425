package weed

import (
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/catalog"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

var shelf = []catalog.Item{
	{Barcode: "D1", CallNumber: "004.16 ALI", Year: 1998, LastBorrowed: day("2016-03-02"), Condition: "Poor"},
	{Barcode: "D2", CallNumber: "099.5 ZED", Year: 2001, LastBorrowed: day("2019-05-01"), Condition: "good"},
	{Barcode: "D3", CallNumber: "100 ARI", Year: 1990, LastBorrowed: day("2010-01-01"), Condition: "poor"},
	{Barcode: "D4", CallNumber: "005.133 PYT", Year: 0, LastBorrowed: day("2012-01-01")},
	{Barcode: "D5", CallNumber: "010 BIB", Year: 2003, Status: catalog.StatusDamaged},
	{Barcode: "L1", CallNumber: "QA76.73 .P98 2020", Year: 1999, LastBorrowed: day("2015-01-01")},
	{Barcode: "L2", CallNumber: "QA100 .B3", Year: 1999, LastBorrowed: day("2015-01-01")},
	{Barcode: "L3", CallNumber: "QA9 .C4", Year: 1999, LastBorrowed: day("2015-01-01")},
}

func run(r Rules) (string, Counts) {
	s := NewSelector(r)
	var got []string
	for _, it := range shelf {
		if h, ok := s.Check(it); ok {
			got = append(got, it.Barcode+"="+h.Reason)
		}
	}
	return strings.Join(got, " | "), s.Counts
}

func TestRules(t *testing.T) {
	for _, c := range []struct {
		name string
		r    Rules
		want string
	}{
		{"nothing without a rule", Rules{CallFrom: "000", CallTo: "099"}, ""},
		{"the 000s published before 2005: 100 ARI is not in them, unknown years are not chosen",
			Rules{CallFrom: "000", CallTo: "099", PublishedBefore: 2005},
			"D1=weeding review: published 1998 | D2=weeding review: published 2001 | D5=weeding review: published 2003"},
		{"age and circulation both hold",
			Rules{CallFrom: "000", CallTo: "099", PublishedBefore: 2005, NotCirculatedSince: day("2018-01-01")},
			"D1=weeding review: published 1998; last checkout 2016-03-02"},
		{"condition, any case; damaged status counts as damaged",
			Rules{Conditions: []string{"poor", "damaged"}},
			"D1=weeding review: condition Poor | D3=weeding review: condition poor | D5=weeding review: damaged"},
		// Shelf order, not string order: QA9 shelves before QA76 and QA100
		// after QA99 (a string compare gets both wrong).
		{"LC range in shelf order",
			Rules{CallFrom: "QA1", CallTo: "QA99", NotCirculatedSince: day("2018-01-01")},
			"L1=weeding review: last checkout 2015-01-01 | L3=weeding review: last checkout 2015-01-01"},
		{"an open end", Rules{CallFrom: "QA100", PublishedBefore: 2000}, "L2=weeding review: published 1999"},
	} {
		got, _ := run(c.r)
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// The dry run's counts: each rule alone, and what could not be judged.
func TestCounts(t *testing.T) {
	_, n := run(Rules{CallFrom: "000", CallTo: "099", PublishedBefore: 2005, NotCirculatedSince: day("2018-01-01")})
	want := Counts{InRange: 4, Chosen: 1, ByYear: 3, ByCirculation: 2, NoYear: 1, NoLastCheckout: 1}
	if n != want {
		t.Errorf("counts %+v, want %+v", n, want)
	}
}

func TestParseCallRange(t *testing.T) {
	for _, c := range []struct{ in, from, to, err string }{
		{in: "000-099", from: "000", to: "099"},
		{in: " 500 - 599 ", from: "500", to: "599"},
		{in: "FIC A-K..FIC Z", from: "FIC A-K", to: "FIC Z"},
		{in: "QA-", from: "QA"},
		{in: "-", err: "neither end"},
		{in: "000", err: "FROM-TO"},
		{in: "1-2-3", err: "FROM..TO"},
	} {
		from, to, err := ParseCallRange(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || from != c.from || to != c.to {
			t.Errorf("%q: %q %q %v", c.in, from, to, err)
		}
	}
}
