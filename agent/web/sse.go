package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

const (
	subBuffer     = 1024             // results a slow page may fall behind by
	missingDelay  = time.Second      // coalesces missing-list recounts (the page drops a read item at once)
	fullStateEach = 30 * time.Second // a full state now and then heals lost events
	keepAlive     = 15 * time.Second
)

// events streams a session's committed reads as Server-Sent Events:
// "state" (the whole screen) at connect and after undo, "read" for each
// committed read, "missing" when the missing list changed.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	// Subscribe before loading, then skip what the snapshot already holds:
	// no read falls between the two.
	sub := s.hub.Subscribe(id, subBuffer)
	defer sub.Close()
	resync, unwatch := s.watch(id)
	defer unwatch()
	t, v, err := s.load(ctx, id)
	if err != nil {
		httpError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(event string, data any) bool {
		b, err := json.Marshal(data)
		if err != nil {
			return false
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	if !send("state", v) {
		return
	}
	var missC <-chan time.Time
	full := time.NewTicker(fullStateEach)
	defer full.Stop()
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	reload := func() bool {
		nt, nv, err := s.load(ctx, id)
		if err != nil {
			return false
		}
		t = nt
		return send("state", nv)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case res, ok := <-sub.C:
			if !ok {
				return
			}
			if res.ReadID <= t.lastID {
				continue
			}
			if !send("read", t.apply(res)) {
				return
			}
			if missC == nil && t.cart == nil {
				missC = time.After(missingDelay)
			}
		case <-missC:
			missC = nil
			ms, _, p, err := missingAndProgress(ctx, s.b, t.inv)
			if err != nil {
				continue
			}
			t.progress = p
			mv := t.missingWindow(ms, s.opts.MissingMax)
			if !send("missing", map[string]any{"missing": mv, "progress": p}) {
				return
			}
		case <-resync:
			if !reload() {
				return
			}
		case <-full.C:
			if !reload() {
				return
			}
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}
