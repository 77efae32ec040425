package reconcile

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

func keyOf(n int) string { return fmt.Sprintf("%06d", n) }

func shelfOf(seq []int) *Shelf {
	s := NewShelf()
	for _, n := range seq {
		s.Add(keyOf(n), keyOf(n))
	}
	return s
}

func ids(ms []Misplaced) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func TestShelfAnalyze(t *testing.T) {
	tests := []struct {
		seq        []int
		want       []int
		prev, next int // neighbours of the first flagged, -1 for none
	}{
		{seq: []int{1, 2, 3, 4, 5}, want: nil},
		{seq: []int{1, 2, 9, 3, 4, 5}, want: []int{9}, prev: 5, next: -1},
		{seq: []int{1, 2, 3, 10, 4, 5, 11}, want: []int{10}, prev: 5, next: 11},
		{seq: []int{7, 1, 2, 3, 4}, want: []int{7}, prev: 4, next: -1},
		{seq: []int{2, 3, 4, 5, 1}, want: []int{1}, prev: -1, next: 2},
		{seq: []int{1, 2, 2, 3}, want: nil}, // equal keys are in order (copies)
		{seq: []int{10, 20, 30, 15, 40, 50}, want: []int{15}, prev: 10, next: 20},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.seq), func(t *testing.T) {
			s := shelfOf(tc.seq)
			got := s.Analyze()
			want := make([]string, len(tc.want))
			for i, n := range tc.want {
				want[i] = keyOf(n)
			}
			if !slices.Equal(ids(got), want) {
				t.Fatalf("flagged %v, want %v", ids(got), want)
			}
			if len(got) > 0 {
				p, n := "", ""
				if tc.prev >= 0 {
					p = keyOf(tc.prev)
				}
				if tc.next >= 0 {
					n = keyOf(tc.next)
				}
				if got[0].Prev != p || got[0].Next != n {
					t.Errorf("neighbours %q..%q, want %q..%q", got[0].Prev, got[0].Next, p, n)
				}
				if !got[0].Certain {
					t.Errorf("not certain")
				}
			}
		})
	}
}

// The neighbour check blames two books for one moved book; the run check
// blames one. This is the difference the design is for.
func TestNeighbourCheckBlamesTwo(t *testing.T) {
	seq := []int{1, 2, 3, 9, 4, 5, 6}
	keys := make([]string, len(seq))
	for i, n := range seq {
		keys[i] = keyOf(n)
	}
	if got := NeighbourCheck(keys); len(got) != 1 || seq[got[0]] != 4 {
		t.Fatalf("neighbour check flagged positions %v", got)
	}
	if got := ids(shelfOf(seq).Analyze()); !slices.Equal(got, []string{keyOf(9)}) {
		t.Fatalf("run check flagged %v, want only 9", got)
	}
}

func TestShelfLiveFlagsWhenCertain(t *testing.T) {
	s := NewShelf()
	var events [][]int
	for _, n := range []int{1, 2, 3, 10, 4, 5, 6} {
		events = append(events, s.Add(keyOf(n), keyOf(n)))
	}
	// 10 (position 3) is ambiguous at 4 and certain at 5.
	want := [][]int{nil, nil, nil, nil, nil, {3}, nil}
	for i := range want {
		if !slices.Equal(events[i], want[i]) {
			t.Fatalf("after read %d: flagged %v, want %v (all: %v)", i, events[i], want[i], events)
		}
	}
	// A book that belongs earlier is flagged at once.
	s = shelfOf([]int{10, 11, 12})
	if got := s.Add(keyOf(3), keyOf(3)); !slices.Equal(got, []int{3}) {
		t.Fatalf("early book flagged %v, want [3]", got)
	}
}

func TestShelfUndo(t *testing.T) {
	s := shelfOf([]int{1, 2, 3})
	before := s.Analyze()
	s.Add(keyOf(0), keyOf(0))
	s.Add(keyOf(4), keyOf(4))
	s.Undo()
	s.Undo()
	if s.Len() != 3 || len(s.Analyze()) != len(before) {
		t.Fatalf("undo left %d reads, %v flagged", s.Len(), ids(s.Analyze()))
	}
	// The state must be exactly as before: the same continuation gives the
	// same answer as a fresh shelf.
	s.Add(keyOf(9), keyOf(9))
	s.Add(keyOf(5), keyOf(5))
	s.Add(keyOf(6), keyOf(6))
	s.Add(keyOf(7), keyOf(7))
	fresh := shelfOf([]int{1, 2, 3, 9, 5, 6, 7})
	if !slices.Equal(ids(s.Analyze()), ids(fresh.Analyze())) {
		t.Fatalf("after undo %v, fresh %v", ids(s.Analyze()), ids(fresh.Analyze()))
	}
}

// Property: move a few random books on a sorted shelf, each at least two
// places away and away from the others; the analysis flags exactly the
// moved books, live and at the end.
func TestShelfPropertyMovedBooks(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		n := 30 + r.IntN(300)
		shelf := make([]int, n)
		for i := range shelf {
			shelf[i] = (i + 1) * 10
		}
		moves := 1 + r.IntN(4)
		moved := map[int]bool{}
		used := map[int]bool{} // positions near a moved book or its new place
		for m := 0; m < moves; m++ {
			var from, to int
			ok := false
			for try := 0; try < 50 && !ok; try++ {
				from, to = r.IntN(len(shelf)), r.IntN(len(shelf))
				ok = abs(from-to) >= 3 && !near(used, from) && !near(used, to) && !moved[shelf[from]]
			}
			if !ok {
				continue
			}
			v := shelf[from]
			shelf = slices.Delete(shelf, from, from+1)
			if to > len(shelf) {
				to = len(shelf)
			}
			shelf = slices.Insert(shelf, to, v)
			moved[v] = true
			for d := -2; d <= 2; d++ {
				used[from+d], used[to+d] = true, true
			}
		}
		s := NewShelf()
		live := map[string]bool{}
		for _, v := range shelf {
			for _, p := range s.Add(keyOf(v), keyOf(v)) {
				live[s.ID(p)] = true
			}
		}
		var want []string
		for v := range moved {
			want = append(want, keyOf(v))
		}
		sort.Strings(want)
		got := ids(s.Analyze())
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: shelf %v\nflagged %v\nmoved   %v", seed, shelf, got, want)
		}
		// Live flags never blame a book that did not move.
		for id := range live {
			if !slices.Contains(want, id) {
				t.Fatalf("seed %d: live flag on %s, which did not move (moved %v)", seed, id, want)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func near(used map[int]bool, p int) bool { return used[p] }

func BenchmarkShelfSession5000(b *testing.B) {
	keys := movedShelf(5000, 50)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := NewShelf()
		for _, k := range keys {
			s.Add(k, k)
		}
		s.Analyze()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/read")
}

func BenchmarkNeighbourCheck5000(b *testing.B) {
	keys := movedShelf(5000, 50)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NeighbourCheck(keys)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/read")
}

func movedShelf(n, moves int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = keyOf(i * 10)
	}
	for m := 0; m < moves; m++ {
		from, to := r.IntN(n), r.IntN(n)
		v := keys[from]
		keys = slices.Delete(keys, from, from+1)
		keys = slices.Insert(keys, to, v)
	}
	return keys
}

func TestShelfSwap(t *testing.T) {
	tests := []struct {
		seq  []int
		at   int // read after which the swap is told, -1: never
		pair [2]int
	}{
		{seq: []int{1, 2, 4, 3, 5, 6}, at: 4, pair: [2]int{4, 3}},
		{seq: []int{2, 1, 3}, at: 2, pair: [2]int{2, 1}},              // at the start of the shelf
		{seq: []int{1, 2, 3, 3, 2, 4}, at: -1},                        // 2 after two 3s: a ≤ b fails
		{seq: []int{1, 2, 9, 3, 4, 5}, at: -1},                        // 9 moved, not swapped
		{seq: []int{1, 2, 5, 4, 5, 6}, at: 4, pair: [2]int{5, 4}},     // c ≤ d with equal keys
		{seq: []int{1, 2, 4, 3}, at: -1},                              // nothing after the pair yet
		{seq: []int{1, 20, 2, 4, 3, 5, 6}, at: 5, pair: [2]int{4, 3}}, // a moved book before the pair is skipped
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.seq), func(t *testing.T) {
			s := NewShelf()
			at := -1
			var pair [2]int
			for i, n := range tc.seq {
				s.Add(keyOf(n), keyOf(n))
				if p, ok := s.Swap(); ok {
					if at >= 0 {
						t.Fatalf("swap told twice: after %d and %d", at, i)
					}
					at = i
					pair = [2]int{tc.seq[p], tc.seq[p+1]}
				}
			}
			if at != tc.at || (at >= 0 && pair != tc.pair) {
				t.Fatalf("swap after read %d of %v, want after %d of %v", at, pair, tc.at, tc.pair)
			}
		})
	}
}

// A swap is told once, and taking back the read that proved it takes the
// swap back too.
func TestShelfSwapUndo(t *testing.T) {
	s := shelfOf([]int{1, 2, 4, 3})
	s.Add(keyOf(5), keyOf(5))
	if _, ok := s.Swap(); !ok {
		t.Fatal("no swap")
	}
	s.Undo()
	if _, ok := s.Swap(); ok {
		t.Fatal("swap still told after undo")
	}
	s.Add(keyOf(5), keyOf(5))
	if p, ok := s.Swap(); !ok || p != 2 {
		t.Fatalf("swap after redo: %d %v", p, ok)
	}
	s.Add(keyOf(6), keyOf(6))
	if _, ok := s.Swap(); ok {
		t.Fatal("swap told twice")
	}
}
