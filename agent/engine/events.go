package engine

import (
	"sync"
)

// Hub fans committed results out to live listeners (the UI's Server-Sent
// Events, a terminal). A slow listener loses events rather than slowing the
// pipeline: each has a bounded buffer and a drop counter; pages catch up by
// reloading state from the store.
type Hub struct {
	mu   sync.Mutex
	subs map[*Sub]struct{}
}

// Sub is one listener.
type Sub struct {
	C       chan *Result
	Dropped int
	hub     *Hub
	session int64 // 0: all sessions
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Sub]struct{}{}} }

// Subscribe listens to results of one session (0 for all) with a buffer of n.
func (h *Hub) Subscribe(session int64, n int) *Sub {
	s := &Sub{C: make(chan *Result, n), hub: h, session: session}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close stops the subscription and closes C.
func (s *Sub) Close() {
	s.hub.mu.Lock()
	if _, ok := s.hub.subs[s]; ok {
		delete(s.hub.subs, s)
		close(s.C)
	}
	s.hub.mu.Unlock()
}

// Publish hands r to every listener without blocking.
func (h *Hub) Publish(r *Result) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.session != 0 && s.session != r.SessionID {
			continue
		}
		select {
		case s.C <- r:
		default:
			s.Dropped++
		}
	}
}
