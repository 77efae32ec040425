package agent

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// memory_limit_mb: a fixed limit, none, or one that follows the live heap
// (set at once, above what is live, within the margin); stopping gives
// back the limit found.
func TestGovernMemory(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	debug.SetMemoryLimit(math.MaxInt64)
	keep := make([]byte, 20<<20) // a heap of some size, as an index is
	keep[len(keep)-1] = 1

	stop := governMemory(64)
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("fixed: limit %d, want %d", got, 64<<20)
	}
	stop()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after stop: limit %d", got)
	}

	governMemory(-1)()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("-1 set a limit: %d", got)
	}

	stop = governMemory(0)
	var got int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got = debug.SetMemoryLimit(-1); got != math.MaxInt64 {
			break
		}
	}
	live := liveHeap()
	if got == math.MaxInt64 || uint64(got) < live+memoryMargin(live) || uint64(got) > live+memoryMargin(live)+64<<20 {
		t.Errorf("automatic limit %d with %d live", got, live)
	}
	stop()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after stop: limit %d", got)
	}
	keep[0] = 1

	t.Setenv("GOMEMLIMIT", "100MiB")
	debug.SetMemoryLimit(100 << 20)
	governMemory(0)()
	if got := debug.SetMemoryLimit(-1); got != 100<<20 {
		t.Errorf("GOMEMLIMIT not left alone: %d", got)
	}
}

// The automatic limit follows the live heap after every collection, not
// only every memoryEvery: a heap growing past it (an import, a catalog
// refresh) must not keep the collector running back to back until the
// next tick.
func TestGovernMemoryFollowsGrowth(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	stop := governMemory(0)
	defer stop()
	wait := func(ok func(limit, live uint64) bool) (uint64, uint64) {
		t.Helper()
		var limit, live uint64
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			l := debug.SetMemoryLimit(-1)
			limit, live = uint64(l), liveHeap()
			if l != math.MaxInt64 && ok(limit, live) {
				return limit, live
			}
		}
		t.Fatalf("limit %d with %d live", limit, live)
		return 0, 0
	}
	first, _ := wait(func(limit, live uint64) bool { return true })
	var grown [][]byte
	for i := 0; i < 64; i++ { // 64 MiB more live, well past the limit
		b := make([]byte, 1<<20)
		b[0] = 1
		grown = append(grown, b)
	}
	runtime.GC()
	limit, live := wait(func(limit, live uint64) bool { return limit >= live+memoryMargin(live) && limit > first+32<<20 })
	if limit < live {
		t.Errorf("limit %d below the live heap %d", limit, live)
	}
	runtime.KeepAlive(grown)
}
