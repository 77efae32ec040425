package hidscanner

import "sync"

// interner maps short byte keys to shared strings so steady-state decoding
// does not allocate a string per code. Safe for concurrent use (several
// scanners decode at once); bounded to max entries.
type interner struct {
	mu  sync.RWMutex
	m   map[[3]byte]string
	max int
}

func newInterner(max int) *interner { return &interner{m: make(map[[3]byte]string), max: max} }

func (in *interner) get(k [3]byte) string {
	in.mu.RLock()
	s, ok := in.m[k]
	in.mu.RUnlock()
	if ok {
		return s
	}
	s = string(k[:])
	in.mu.Lock()
	if len(in.m) < in.max {
		in.m[k] = s
	}
	in.mu.Unlock()
	return s
}
