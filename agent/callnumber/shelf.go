package callnumber

import "strings"

// Shelf is the part of a school library a call number shelves in, for
// reports that group a collection: a Dewey hundred ("000" … "900") or one
// of the sections a prefix names.
type Shelf string

const (
	ShelfFiction   Shelf = "fiction"
	ShelfEasy      Shelf = "easy"
	ShelfBiography Shelf = "biography"
	// ShelfOther is everything else: LC and other schemes, a prefix with
	// no class ("REF WOR"), a class that is no Dewey number.
	ShelfOther Shelf = "other"
)

// ShelfOf says where a call number shelves. The sections come first, in
// this order, because their books carry Dewey numbers too:
//
//   - easy: an easy or picture-book audience word (E, EASY, EZ, ER, EP, P,
//     PIC): "E FIC CAR", "E 599 GIB" — shelved in the easy section;
//   - biography: a biography section word (B, BIO, BIOG) or the school
//     biography numbers 92 and 921: "B LIN", "J 92 LIN", "921 LIN";
//   - fiction: a fiction section word (FIC, F, FICTION, SC, SS, MYS, SF,
//     HF), or a graphic-novel word (GN, GRAPHIC, MANGA, COMIC) without a
//     class: "FIC ROW", "J FIC ROW", "SC ALE", "GN SMI";
//   - the Dewey hundred of the class, whatever the prefix: "599.75 ROW" and
//     "J 599.75 .R69" are "500", "REF 031 WOR" is "000", "DVD 791.43" "700".
func ShelfOf(s string) Shelf {
	c := Parse(s)
	if c.Scheme != Dewey {
		return ShelfOther
	}
	var fiction, graphic bool
	for _, w := range strings.Fields(c.Prefix) {
		switch w {
		case "E", "EASY", "EZ", "ER", "EP", "P", "PIC":
			return ShelfEasy
		case "B", "BIO", "BIOG":
			return ShelfBiography
		case "FIC", "F", "FICTION", "SC", "SS", "MYS", "SF", "HF":
			fiction = true
		case "GN", "GRAPHIC", "MANGA", "COMIC":
			graphic = true
		}
	}
	whole, _, _ := strings.Cut(c.Class, ".")
	if whole == "92" || whole == "921" {
		return ShelfBiography
	}
	if fiction || graphic && whole == "" {
		return ShelfFiction
	}
	if len(whole) == 3 {
		return Shelf(whole[:1] + "00")
	}
	return ShelfOther
}
