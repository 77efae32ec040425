package reconcile

// Stretch is the part of the shelf a walk has passed, for the live list of
// books not seen there: a book may be named as not seen only once the
// student has walked past where it belongs.
//
// The unit is the call number, and a call number counts as walked only
// once the walk has passed it. Ordering ties by title inside a call number
// (as shelvers are taught) would cut the list finer, but the catalog's call
// number is the only order tally checks; a school's fiction is rarely kept
// in title order within an author's cutter, and a book just ahead named as
// missing sends the student looking for nothing. Holding a call number
// back until the walk is past it costs only a few books' delay.
//
// "Past" needs two reads beyond it: the walk has passed key k when both
// the latest read and some earlier one sort after k. One read beyond may
// be a book shelved far from home (its misplacement is proved only by the
// reads after it); reads proved out of order (Out) do not count at all.
// The first call number read counts from the start: the shelf before the
// first book read is behind the student, not ahead.
type Stretch struct {
	keys []string // in-order reads' sort keys, walking order; "" once proved out of order
}

// Add notes a read at key that is not known to be out of order.
func (s *Stretch) Add(key string) {
	if key != "" {
		s.keys = append(s.keys, key)
	}
}

// Out takes back the latest read at key: it was proved out of order.
func (s *Stretch) Out(key string) {
	for i := len(s.keys) - 1; i >= 0; i-- {
		if s.keys[i] == key {
			s.keys[i] = ""
			return
		}
	}
}

// Started says whether any read has been noted.
func (s *Stretch) Started() bool {
	for _, k := range s.keys {
		if k != "" {
			return true
		}
	}
	return false
}

// Bounds returns the walked stretch as sort keys: lo <= k < hi. It is
// empty (hi <= lo) until the walk has passed a call number.
func (s *Stretch) Bounds() (lo, hi string) {
	last := len(s.keys) - 1
	for last >= 0 && s.keys[last] == "" {
		last--
	}
	if last < 0 {
		return "", ""
	}
	lo = s.keys[last]
	var before string // the highest earlier read
	for _, k := range s.keys[:last] {
		if k == "" {
			continue
		}
		lo = min(lo, k)
		before = max(before, k)
	}
	return lo, min(before, s.keys[last])
}
