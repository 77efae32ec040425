package sample

import (
	"slices"
	"testing"

	"github.com/tally-inventory/tally/agent/callnumber"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/reconcile"
)

// The demo's fiction looks like a real shelf: authors drawn with the
// census's surname frequencies, so most call numbers hold a handful of
// books and none holds a large share of the section.
func TestFictionCuttersSpread(t *testing.T) {
	if len(surnames) != 3000 || surnames[0] != "Smith" || surnames[2] != "Williams" {
		t.Fatalf("surname table: %d names, first %v", len(surnames), surnames[:3])
	}
	items := Generate(DefaultOpts)
	per := map[string]int{}
	n := 0
	for _, it := range items {
		if it.Location == "Fiction" {
			per[it.CallNumber]++
			n++
		}
	}
	var counts []int
	for _, c := range per {
		counts = append(counts, c)
	}
	slices.Sort(counts)
	median, top := counts[len(counts)/2], counts[len(counts)-1]
	t.Logf("%d fiction books over %d call numbers: median %d, 90th percentile %d, largest %d",
		n, len(counts), median, counts[len(counts)*9/10], top)
	if median > 10 {
		t.Errorf("median %d books per call number; a real shelf has a handful", median)
	}
	if len(counts) < 500 {
		t.Errorf("only %d call numbers for %d books", len(counts), n)
	}
	if top > n/30 {
		t.Errorf("one call number holds %d of %d books", top, n)
	}
}

// Generate keeps each section in shelf order, and the same seed gives the
// same collection.
func TestGenerateShelfOrder(t *testing.T) {
	o := DefaultOpts
	o.Books = 3000
	a, b := Generate(o), Generate(o)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, different collections")
	}
	for i := 1; i < len(a); i++ {
		if a[i].Location == a[i-1].Location && a[i].CallNumber != "" && a[i-1].CallNumber != "" &&
			callnumber.Compare(a[i-1].CallNumber, a[i].CallNumber) > 0 {
			t.Fatalf("%s before %s", a[i-1].CallNumber, a[i].CallNumber)
		}
	}
}

// A walk's swapped neighbours are what the live shelf check tells as
// swaps: each pair of distinct call numbers, once, at the read after it.
func TestWalkSwapsAreTold(t *testing.T) {
	o := DefaultOpts
	o.Books = 3000
	var fic []catalog.Item
	for _, it := range Generate(o) {
		if it.Location == "Fiction" {
			fic = append(fic, it)
		}
	}
	key := map[string]string{}
	for _, it := range fic {
		key[it.Barcode] = callnumber.Key(it.CallNumber)
	}
	plain := Walk(fic, nil, WalkOpts{Seed: 3})
	seq := Walk(fic, nil, WalkOpts{Seed: 3, Swaps: 4})
	want := 0
	for i := range seq {
		if seq[i] != plain[i] && i+1 < len(seq) && seq[i] == plain[i+1] && key[seq[i]] != key[seq[i+1]] {
			want++
		}
	}
	if want != 4 {
		t.Fatalf("%d swaps of distinct call numbers in the walk, want 4", want)
	}
	sh := reconcile.NewShelf()
	told := 0
	for _, bc := range seq {
		sh.Add(bc, key[bc])
		if _, ok := sh.Swap(); ok {
			told++
		}
	}
	if told != want {
		t.Fatalf("%d swaps told, %d in the walk", told, want)
	}
}
