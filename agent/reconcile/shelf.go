package reconcile

import "sort"

// Shelf is the shelf-order analysis of one session: the call-number sort
// keys of the items read, in walking order.
//
// Comparing each book with its neighbour blames two books for every one
// that is out of place (Koha's out_of_order check). Shelf instead keeps the
// longest non-decreasing run of the sequence (patience sorting, O(log n)
// per read) and flags only the items outside every such run — the books
// that moved — each with the two books it belongs between.
//
// Live feedback needs a decision while the operator is still at the shelf,
// but a misplaced book can look in order until the next few books are read
// ("1 2 3 10 4 5": 10 is only known to be out of place at 5). Add therefore
// returns the positions that have just become certain, looking back over
// the last Window reads; Analyze gives the exact answer for the whole
// session.
type Shelf struct {
	keys  []string
	ids   []string
	f     []int32 // length of the longest run ending at i
	prev  []int32 // predecessor of i in that run, -1 at the start
	tails []int32 // tails[k]: index of the smallest tail of a run of length k+1
	// undo holds one entry per Add not yet settled (see Settle).
	undo []undoEntry
	// run caches the chosen longest run for Neighbours until the next Add.
	run      []int
	runValid bool
	// scratch for Add's look-back
	gbuf []int
	tbuf []string
	// flagged positions already announced live.
	flagged map[int]bool
	// swap is the first of the pair the latest Add proved swapped, -1 if none.
	swap int
	// Window bounds the look-back of live decisions.
	Window int
}

// DefaultWindow is how many recent reads Add re-examines.
const DefaultWindow = 64

// NewShelf returns an empty analysis.
func NewShelf() *Shelf { return &Shelf{Window: DefaultWindow, flagged: map[int]bool{}, swap: -1} }

// Len is the number of reads added.
func (s *Shelf) Len() int { return len(s.keys) }

// ID returns the id given to Add at position i.
func (s *Shelf) ID(i int) string { return s.ids[i] }

// Add appends a read with its sort key (callnumber.Key) and an id (the
// barcode) and returns the positions that this read proved out of order —
// possibly including its own, len-1 — in ascending order.
func (s *Shelf) Add(id, key string) []int {
	i := int32(len(s.keys))
	s.runValid = false
	s.keys = append(s.keys, key)
	s.ids = append(s.ids, id)
	// Non-decreasing: find the first pile whose tail is greater than key.
	k := sort.Search(len(s.tails), func(j int) bool { return s.keys[s.tails[j]] > key })
	p := int32(-1)
	if k > 0 {
		p = s.tails[k-1]
	}
	u := undoEntry{pile: int32(k), tail: -1}
	if k == len(s.tails) {
		s.tails = append(s.tails, i)
	} else {
		u.tail = s.tails[k]
		s.tails[k] = i
	}
	s.f = append(s.f, int32(k+1))
	s.prev = append(s.prev, p)

	L := len(s.tails)
	w := s.Window
	if w <= 0 {
		w = DefaultWindow
	}
	lo := len(s.keys) - w
	if lo < 0 {
		lo = 0
	}
	s.gbuf, s.tbuf = suffixRunsInto(s.keys[lo:], s.gbuf[:0], s.tbuf[:0])
	g := s.gbuf
	var out []int
	for j := lo; j < len(s.keys); j++ {
		if s.flagged[j] {
			continue
		}
		if int(s.f[j])+g[j-lo]-1 < L {
			s.flagged[j] = true
			out = append(out, j)
		}
	}
	u.flagged = out
	s.swap = -1
	if p, ok := s.findSwap(); ok {
		s.swap = p
		s.flagged[p], s.flagged[p+1] = true, true
		u.flagged = append(u.flagged, p, p+1)
	}
	s.undo = append(s.undo, u)
	return out
}

// Swap returns the position of the first of two neighbours that the latest
// Add proved were shelved the wrong way round (…a c b d… with a ≤ b < c ≤ d):
// exchanging them puts the stretch in order. The longest-run analysis
// cannot tell which of the two moved, so it never flags either live; a
// swap is told instead, once the read after the pair shows that c fits
// before it (in "1 2 9 3 4" the 9 is not swapped with 3, it belongs
// further on). Both positions count as announced.
func (s *Shelf) Swap() (int, bool) { return s.swap, s.swap >= 0 }

func (s *Shelf) findSwap() (int, bool) {
	d := len(s.keys) - 1
	b, c := d-1, d-2
	if c < 0 || s.flagged[b] || s.flagged[c] || s.flagged[d] {
		return 0, false
	}
	if !(s.keys[b] < s.keys[c] && s.keys[c] <= s.keys[d]) {
		return 0, false
	}
	// a is the nearest earlier read not already known to be out of place.
	for a := c - 1; a >= 0; a-- {
		if !s.flagged[a] {
			if s.keys[a] > s.keys[b] {
				return 0, false
			}
			break
		}
	}
	return c, true
}

type undoEntry struct {
	pile, tail int32 // the pile Add went to and the tail it replaced (-1: a new pile)
	flagged    []int
}

// Undo takes back the latest Add not yet settled (its transaction did not
// commit). Several can be undone, latest first.
func (s *Shelf) Undo() {
	n := len(s.undo) - 1
	if n < 0 {
		return
	}
	u := s.undo[n]
	s.undo = s.undo[:n]
	for _, p := range u.flagged {
		delete(s.flagged, p)
	}
	s.swap = -1
	if u.tail < 0 {
		s.tails = s.tails[:u.pile]
	} else {
		s.tails[u.pile] = u.tail
	}
	m := len(s.keys) - 1
	s.keys, s.ids, s.f, s.prev = s.keys[:m], s.ids[:m], s.f[:m], s.prev[:m]
	s.runValid = false
}

// Settle forgets the undo log: every Add so far is committed.
func (s *Shelf) Settle() { s.undo = s.undo[:0] }

// suffixRuns returns, for each position, the length of the longest
// non-decreasing run that starts there.
func suffixRuns(keys []string) []int {
	g, _ := suffixRunsInto(keys, nil, nil)
	return g
}

// suffixRunsInto is suffixRuns into reusable buffers (Add runs it for
// every read).
func suffixRunsInto(keys []string, g []int, tails []string) ([]int, []string) {
	if cap(g) < len(keys) {
		g = make([]int, len(keys))
	}
	g = g[:len(keys)]
	// Patience from the right: runs read backwards are non-increasing;
	// tails[k] holds the largest possible first key of a run of length k+1.
	for i := len(keys) - 1; i >= 0; i-- {
		key := keys[i]
		k := sort.Search(len(tails), func(j int) bool { return tails[j] < key })
		if k == len(tails) {
			tails = append(tails, key)
		} else {
			tails[k] = key
		}
		g[i] = k + 1
	}
	return g, tails
}

// Misplaced is one item outside the longest in-order run.
type Misplaced struct {
	Pos  int    // position in the session's sequence
	ID   string // as given to Add
	Prev string // id of the in-order item it belongs after, "" at the start of the shelf
	Next string // id of the in-order item it belongs before, "" at the end
	// Certain is false when the item is in some longest run but not the one
	// chosen (two books swapped: either may be the one that moved).
	Certain bool
}

// Analyze returns every read outside the chosen longest in-order run, in
// walking order, each with its correct neighbours.
func (s *Shelf) Analyze() []Misplaced {
	n := len(s.keys)
	if n == 0 {
		return nil
	}
	in := make([]bool, n)
	var run []int
	for j := s.tails[len(s.tails)-1]; j >= 0; j = s.prev[j] {
		in[j] = true
		run = append(run, int(j))
	}
	for a, b := 0, len(run)-1; a < b; a, b = a+1, b-1 {
		run[a], run[b] = run[b], run[a]
	}
	g := suffixRuns(s.keys)
	L := len(s.tails)
	var out []Misplaced
	for i := 0; i < n; i++ {
		if in[i] {
			continue
		}
		m := Misplaced{Pos: i, ID: s.ids[i], Certain: int(s.f[i])+g[i]-1 < L}
		m.Prev, m.Next = s.neighbours(run, s.keys[i])
		out = append(out, m)
	}
	return out
}

// Neighbours returns the ids of the in-order items that key belongs
// between, according to the current longest run. The run is rebuilt at
// most once per Add, however many reads it proved out of order.
func (s *Shelf) Neighbours(key string) (prev, next string) {
	if len(s.tails) == 0 {
		return "", ""
	}
	if !s.runValid {
		s.run = s.run[:0]
		for j := s.tails[len(s.tails)-1]; j >= 0; j = s.prev[j] {
			s.run = append(s.run, int(j))
		}
		for a, b := 0, len(s.run)-1; a < b; a, b = a+1, b-1 {
			s.run[a], s.run[b] = s.run[b], s.run[a]
		}
		s.runValid = true
	}
	return s.neighbours(s.run, key)
}

func (s *Shelf) neighbours(run []int, key string) (prev, next string) {
	// First run member whose key is greater than key.
	k := sort.Search(len(run), func(j int) bool { return s.keys[run[j]] > key })
	if k > 0 {
		prev = s.ids[run[k-1]]
	}
	if k < len(run) {
		next = s.ids[run[k]]
	}
	return prev, next
}

// NeighbourCheck is the baseline shelf check (Koha's): every read whose key
// is lower than the one before it is flagged. It is kept for the benchmark
// and the tests that show the difference.
func NeighbourCheck(keys []string) []int {
	var out []int
	for i := 1; i < len(keys); i++ {
		if keys[i] < keys[i-1] {
			out = append(out, i)
		}
	}
	return out
}
