package callnumber

import "strings"

// Range is a call-number range as a librarian types it, e.g. "500"–"599" or
// "FIC DAA"–"FIC EZZ" (Destiny-style). Build it once with NewRange and test
// many keys with Contains.
type Range struct {
	lo, hi       string
	hasLo, hasHi bool
}

// NewRange makes the range from lo to hi. An empty (or blank) end is open.
// Ends are read as call numbers (so a Dewey range is "500"–"599": a bare "5"
// is a local number, not the 500s), and x is always in the range x–x.
// lo is inclusive. hi is inclusive as a prefix: "599" includes "599.75 ROW",
// "FIC C" includes "FIC CARLE", "QA76" includes "QA76.73 .P98 2020", "Q"
// includes all of Q, QA…QR. A section name matches as a whole word: "B"
// includes "B LIN" but not "BIO LIN". If lo shelves after hi the range is
// empty.
func NewRange(lo, hi string) Range {
	var r Range
	var tb [tokBuf]token
	if strings.TrimSpace(lo) != "" {
		r.lo, r.hasLo = Key(lo), true
	}
	if strings.TrimSpace(hi) != "" {
		p := parse(hi, "", tb[:0])
		k := p.appendKey(nil)
		if p.wordOnly() {
			k = append(k, sep)
		}
		r.hi, r.hasHi = string(k), true
	}
	return r
}

// Contains reports whether key, a Key result, lies in the range.
func (r Range) Contains(key string) bool {
	if r.hasLo && key < r.lo {
		return false
	}
	if r.hasHi && key > r.hi && !strings.HasPrefix(key, r.hi) {
		return false
	}
	return true
}

// InRange reports whether key (a Key result) lies in the range lo–hi of call
// numbers as a librarian types them; see NewRange. For many keys, build the
// Range once.
func InRange(key, lo, hi string) bool { return NewRange(lo, hi).Contains(key) }
