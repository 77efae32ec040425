package callnumber

import "testing"

func TestShelfOf(t *testing.T) {
	for in, want := range map[string]Shelf{
		"599.75 ROW": "500", "J 599.75 .R69 2019 c.2": "500", "REF 031 WOR v.3": "000",
		"DVD 791.43 STA": "700", "001.9 KNO": "000", "973 HAK": "900", "920 COL": "900",
		"FIC ROWLING": ShelfFiction, "J FIC ROW": ShelfFiction, "SC ALE": ShelfFiction,
		"YA FIC GRE": ShelfFiction, "GN SMI": ShelfFiction, "GN 741.5 SMI": "700",
		"E FIC CAR": ShelfEasy, "E CAR": ShelfEasy, "E 599 GIB": ShelfEasy, "PIC SEN": ShelfEasy,
		"B LIN": ShelfBiography, "92 ROW": ShelfBiography, "J 92 LIN": ShelfBiography,
		"921 LIN": ShelfBiography, "J B LIN": ShelfBiography,
		"QA76.73 .P98 2020": ShelfOther, "Cart 2": ShelfOther, "": ShelfOther, "REF WOR": ShelfOther,
	} {
		if got := ShelfOf(in); got != want {
			t.Errorf("ShelfOf(%q) = %q, want %q", in, got, want)
		}
	}
}
