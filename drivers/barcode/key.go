package barcode

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Key is how a catalog keys an identifier (barcode, asset tag): trimmed,
// Unicode NFC and upper-cased, so "t0001" and "T0001 " are one item. Koha
// matches barcodes case-insensitively (MySQL collation; Koha bug 38452 asks
// that barcodes not be case sensitive), and a scanner, a CSV export and an
// upstream API must all land on the same key. ASCII, the common case, is
// not copied unless it has lower-case letters.
func Key(s string) string {
	s = strings.TrimSpace(s)
	lower := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return strings.ToUpper(norm.NFC.String(s))
		}
		lower = lower || c >= 'a' && c <= 'z'
	}
	if lower {
		return strings.ToUpper(s)
	}
	return s
}
