package dedupe

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// clock is a fake clock the tests advance by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newFilter(window time.Duration) (*Filter, *clock) {
	c := &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
	f := New(window)
	f.Now = c.now
	return f, c
}

func TestPass(t *testing.T) {
	type step struct {
		after  time.Duration // advance the clock before the read
		device string
		code   string
		uid    string
		want   bool
	}
	tests := []struct {
		name   string
		window time.Duration
		steps  []step
	}{
		{"first read passes", time.Second, []step{
			{0, "wand", "A", "", true},
		}},
		{"repeat within window dropped", time.Second, []step{
			{0, "wand", "A", "", true},
			{500 * time.Millisecond, "wand", "A", "", false},
		}},
		{"repeat after window passes", time.Second, []step{
			{0, "wand", "A", "", true},
			{time.Second, "wand", "A", "", true},
		}},
		{"window slides while tag stays in field", time.Second, []step{
			{0, "wand", "A", "", true},
			{900 * time.Millisecond, "wand", "A", "", false},
			{900 * time.Millisecond, "wand", "A", "", false},
			{900 * time.Millisecond, "wand", "A", "", false},
			{1100 * time.Millisecond, "wand", "A", "", true},
		}},
		{"same tag on another device passes", time.Second, []step{
			{0, "wand", "A", "", true},
			{0, "gate", "A", "", true},
			{0, "wand", "A", "", false},
		}},
		{"different tags interleaved", time.Second, []step{
			{0, "wand", "A", "", true},
			{0, "wand", "B", "", true},
			{0, "wand", "A", "", false},
			{0, "wand", "C", "", true},
			{0, "wand", "B", "", false},
		}},
		{"TagUID identifies the tag when set", time.Second, []step{
			{0, "wand", "item-1", "E200AA", true},
			{0, "wand", "item-1", "E200BB", true}, // two tags on one item are two tags
			{0, "wand", "other", "E200AA", false},
		}},
		{"Code used when TagUID empty", time.Second, []step{
			{0, "wand", "31234000012345", "", true},
			{0, "wand", "31234000012345", "", false},
		}},
		{"zero window passes everything", 0, []step{
			{0, "wand", "A", "", true},
			{0, "wand", "A", "", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c := newFilter(tt.window)
			for i, s := range tt.steps {
				c.advance(s.after)
				r := drivers.Read{Device: s.device, Kind: drivers.KindRFID, Code: s.code, TagUID: s.uid}
				if got := f.Pass(r); got != s.want {
					t.Fatalf("step %d (%s %s/%s): Pass = %v, want %v", i, s.device, s.code, s.uid, got, s.want)
				}
			}
		})
	}
}

// TestCart is the acceptance case: 1,000 reads of a 300-tag cart in random
// order with repeats yield exactly one pass per tag.
func TestCart(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, seed))
		f, c := newFilter(2 * time.Second)
		seq := make([]int, 0, 1000)
		for i := range 300 {
			seq = append(seq, i)
		}
		for len(seq) < 1000 {
			seq = append(seq, rng.IntN(300))
		}
		rng.Shuffle(len(seq), func(i, j int) { seq[i], seq[j] = seq[j], seq[i] })

		passed := map[int]int{}
		for _, tag := range seq {
			c.advance(time.Millisecond) // a 1,000 reads/s wand
			r := drivers.Read{Device: "wand", Kind: drivers.KindRFID, TagUID: fmt.Sprintf("E2%022X", tag)}
			if f.Pass(r) {
				passed[tag]++
			}
		}
		if len(passed) != 300 {
			t.Fatalf("seed %d: %d distinct tags passed, want 300", seed, len(passed))
		}
		for tag, n := range passed {
			if n != 1 {
				t.Fatalf("seed %d: tag %d passed %d times, want 1", seed, tag, n)
			}
		}
		if s := f.Stats(); s.Passed != 300 || s.Dropped != 700 {
			t.Fatalf("seed %d: stats %+v, want 300 passed, 700 dropped", seed, s)
		}
	}
}

// TestSeenOnceNeverDropped: whatever the timing, the first read of every
// tag passes.
func TestSeenOnceNeverDropped(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	f, c := newFilter(100 * time.Millisecond)
	seen := map[string]bool{}
	for i := range 20000 {
		c.advance(time.Duration(rng.IntN(3000)) * time.Microsecond)
		uid := fmt.Sprintf("%04X", rng.IntN(2000))
		if i%7 == 0 {
			uid = fmt.Sprintf("NEW%06d", i) // a tag seen exactly once
		}
		ok := f.Pass(drivers.Read{Device: "wand", TagUID: uid})
		if !seen[uid] && !ok {
			t.Fatalf("read %d: first read of %s dropped", i, uid)
		}
		seen[uid] = true
	}
}

// TestMemoryBounded: a stream of ever-new tags does not grow the table
// beyond the tags of about two windows.
func TestMemoryBounded(t *testing.T) {
	f, c := newFilter(time.Second)
	const perSecond = 1000
	for i := range 60 * perSecond {
		c.advance(time.Second / perSecond)
		f.Pass(drivers.Read{Device: "wand", TagUID: fmt.Sprintf("%08X", i)})
		if n := f.Stats().Tracked; n > 2*perSecond+1 {
			t.Fatalf("after %d reads: tracking %d tags, want at most %d", i+1, n, 2*perSecond+1)
		}
	}
}

func BenchmarkPass(b *testing.B) {
	// A 300-tag cart read over and over: the usual wand load, mostly repeats.
	reads := make([]drivers.Read, 300)
	for i := range reads {
		uid := fmt.Sprintf("E28011700000020F%08X", i)
		reads[i] = drivers.Read{Device: "wand", Kind: drivers.KindRFID, TagUID: uid, Code: uid}
	}
	f := New(2 * time.Second)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		f.Pass(reads[i%len(reads)])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/read")
}
