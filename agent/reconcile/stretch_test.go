package reconcile

import (
	"fmt"
	"testing"
)

func TestStretch(t *testing.T) {
	tests := []struct {
		reads  []int // keys; negative: the read of -k is proved out of order
		lo, hi int   // walked: lo <= k < hi; 0, 0 for none
	}{
		{reads: nil},
		{reads: []int{5, 5, 5, 5}},                           // still inside one call number
		{reads: []int{5, 5, 6}},                              // one read beyond: not yet
		{reads: []int{5, 5, 6, 6}, lo: 5, hi: 6},             // past 5
		{reads: []int{5, 6, 7}, lo: 5, hi: 6},                // past 5; 6 only once a second read is beyond it
		{reads: []int{5, 5, 90}, lo: 5, hi: 5},               // a book far from home does not jump the stretch
		{reads: []int{5, 5, 90, 5}, lo: 5, hi: 5},            // … nor the read after it
		{reads: []int{5, 5, 90, 5, 6, -90, 6}, lo: 5, hi: 6}, // once it is proved out of order, it never counts
		{reads: []int{1, 2, 3, -1, 4}, lo: 2, hi: 3},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.reads), func(t *testing.T) {
			var s Stretch
			for _, k := range tc.reads {
				if k < 0 {
					s.Out(keyOf(-k))
					continue
				}
				s.Add(keyOf(k))
			}
			lo, hi := s.Bounds()
			if tc.hi == 0 {
				if hi > lo {
					t.Fatalf("walked %s..%s, want nothing", lo, hi)
				}
				return
			}
			if lo != keyOf(tc.lo) || hi != keyOf(tc.hi) {
				t.Fatalf("walked %s..%s, want %s..%s", lo, hi, keyOf(tc.lo), keyOf(tc.hi))
			}
		})
	}
}
