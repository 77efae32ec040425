package agent

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// The agent's memory is mostly its catalog index, which lives as long as
// the process. By default Go lets the heap grow to twice what is live
// before collecting (GOGC=100) and gives freed memory back to the system
// only slowly, so a 100k-item agent held about twice its index, plus what
// start-up had allocated and freed. A soft memory limit (debug.SetMemoryLimit)
// makes the collector and the scavenger keep the total near what is live
// plus a margin; the collector's own CPU cap (half the CPU at most) keeps
// an index that outgrows the limit from stalling reads, and the limit
// follows the live heap as imports grow or shrink the index.

// memoryMargin is the heap allowed above what is live, for the reads,
// requests and imports between collections: an eighth of what is live,
// and at least 8 MiB (a 100k-item agent's live heap is about 30 MiB; at
// a few hundred reads a second it allocates a few MiB a second, so the
// collector runs every few seconds, marking a heap whose bulk, the
// index, is mostly without pointers).
func memoryMargin(live uint64) uint64 { return max(8<<20, live/8) }

// memoryEvery is how often the automatic limit follows the live heap
// besides after every collection (see afterGC).
const memoryEvery = 30 * time.Second

// afterGC sends on c (without waiting) after every garbage collection
// until stop is closed: a finalizer on an object nothing refers to runs
// once the collection that found it unreachable ends, and arms the next.
func afterGC(c chan<- struct{}, stop <-chan struct{}) {
	type sentinel struct{ _ [16]byte } // not zero-sized: those share one address
	var arm func()
	arm = func() {
		runtime.SetFinalizer(&sentinel{}, func(*sentinel) {
			select {
			case <-stop:
				return
			default:
			}
			select {
			case c <- struct{}{}:
			default:
			}
			arm()
		})
	}
	arm()
}

// governMemory applies the memory_limit_mb setting until stop is called:
// a fixed limit (mb > 0), none (mb < 0, or GOMEMLIMIT set in the
// environment, which wins), or the automatic one (0), set now and again
// every memoryEvery. stop restores the limit found.
func governMemory(mb int) (stop func()) {
	if mb < 0 || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	before := debug.SetMemoryLimit(-1)
	if mb > 0 {
		debug.SetMemoryLimit(int64(mb) << 20)
		return func() { debug.SetMemoryLimit(before) }
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		// Start-up (decoding the index, a catch-up) leaves garbage and
		// idle memory behind: collect and return it once, then follow.
		debug.FreeOSMemory()
		t := time.NewTicker(memoryEvery)
		defer t.Stop()
		// After every collection too, not only on the tick: while an
		// import or a catalog refresh grows the live heap past the limit,
		// a limit that waited for the tick kept the collector running
		// back to back (half the CPU) until then.
		gc := make(chan struct{}, 1)
		afterGC(gc, quit)
		for {
			live := liveHeap()
			debug.SetMemoryLimit(int64(live + memoryMargin(live) + runtimeOverhead()))
			select {
			case <-quit:
				return
			case <-t.C:
			case <-gc:
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		debug.SetMemoryLimit(before)
	}
}

var memSamples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

// liveHeap is the heap the last collection found live.
func liveHeap() uint64 {
	metrics.Read(memSamples[:1])
	return value(memSamples[0])
}

// runtimeOverhead is the memory the limit counts besides the heap's
// objects: stacks, the collector's metadata, the runtime's own.
func runtimeOverhead() uint64 {
	s := memSamples[1:]
	metrics.Read(s)
	total, objects, unused, free, released := value(s[0]), value(s[1]), value(s[2]), value(s[3]), value(s[4])
	heap := objects + unused + free + released
	if total < heap {
		return 0
	}
	return total - heap
}

func value(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
