package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

const (
	roomBuffer    = 4096             // results a room may fall behind the engine by before it reloads
	watcherBuffer = 64               // events a scan screen may fall behind by before it is told to reload
	missingDelay  = time.Second      // coalesces missing-list recounts (the page drops a read item at once)
	fullStateEach = 30 * time.Second // a full state now and then heals lost events
	keepAlive     = 15 * time.Second
	writeTimeout  = 10 * time.Second      // a screen that takes longer to take one event is cut off
	batchAbove    = 16                    // with more screens than this on a session, events go out in batches…
	batchEvery    = 50 * time.Millisecond // …at most this often: one write per screen per batch, not per read
)

// The live stream is built so that no number of open screens can slow the
// beep. The engine publishes each committed result on the hub without
// blocking; each watched session has one room, one hub subscription and
// one screen state, and every event is encoded once and handed to every
// screen of the room as the same bytes. A screen has a small queue: if it
// falls behind (a stuck tab, a slow link) it is dropped from the room and
// told to reload, which gives it a fresh state. The number of screens is
// capped (Opts.MaxWatchers), so memory is bounded by the cap times the
// queue, plus one state per watched session.

// watcher is one open screen.
type watcher struct {
	q    chan []byte   // encoded events
	kick chan struct{} // closed when the screen fell behind
}

// room is the live state of one watched session, owned by its goroutine.
type room struct {
	s      *Server
	id     int64
	join   chan joinReq
	leave  chan *watcher
	resync chan struct{}
	dead   chan struct{} // closed when the room has ended
	err    error         // why it never started (set before dead is closed)

	ws     map[*watcher]struct{}
	pend   []byte           // events held for the next batch
	batchC <-chan time.Time // when the batch goes
	t      *tracker
	mv     *MissingView
	cached []byte // the encoded state, until something changes
}

type joinReq struct {
	w  *watcher
	ok chan struct{}
}

var errTooManyWatchers = errors.New("too many live screens are open")

// enter adds a screen to its session's room, starting the room if needed.
func (s *Server) enter(ctx context.Context, id int64, w *watcher) (*room, error) {
	for {
		s.mu.Lock()
		if s.watchers >= s.opts.MaxWatchers {
			s.mu.Unlock()
			return nil, errTooManyWatchers
		}
		rm := s.rooms[id]
		if rm == nil {
			rm = &room{s: s, id: id, join: make(chan joinReq), leave: make(chan *watcher), resync: make(chan struct{}, 1),
				dead: make(chan struct{}), ws: map[*watcher]struct{}{}}
			s.rooms[id] = rm
			go rm.run()
		}
		s.watchers++
		s.mu.Unlock()
		req := joinReq{w, make(chan struct{})}
		select {
		case rm.join <- req:
			<-req.ok
			return rm, nil
		case <-rm.dead:
			s.mu.Lock()
			s.watchers--
			s.mu.Unlock()
			if rm.err != nil {
				return nil, rm.err
			}
			// It ended as we came: start another.
		case <-ctx.Done():
			s.mu.Lock()
			s.watchers--
			s.mu.Unlock()
			return nil, ctx.Err()
		}
	}
}

// exit takes a screen out of its room.
func (s *Server) exit(rm *room, w *watcher) {
	s.mu.Lock()
	s.watchers--
	s.mu.Unlock()
	select {
	case rm.leave <- w:
	case <-rm.dead:
	}
}

// notify asks a session's room to reload its state from the store (after
// an undo or a state change made here).
func (s *Server) notify(sessionID int64) {
	s.mu.Lock()
	rm := s.rooms[sessionID]
	s.mu.Unlock()
	if rm != nil {
		select {
		case rm.resync <- struct{}{}:
		default:
		}
	}
}

func frame(event string, data any) []byte {
	b, err := json.Marshal(data)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	var buf bytes.Buffer
	buf.Grow(len(b) + len(event) + 16)
	fmt.Fprintf(&buf, "event: %s\ndata: %s\n\n", event, b)
	return buf.Bytes()
}

// end removes the room from the server if nobody is in it or on the way.
func (rm *room) end(force bool) bool {
	s := rm.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !force && len(rm.ws) > 0 {
		return false
	}
	if s.rooms[rm.id] == rm {
		delete(s.rooms, rm.id)
	}
	close(rm.dead)
	return true
}

func (rm *room) load(ctx context.Context) error {
	t, v, err := rm.s.load(ctx, rm.id)
	if err != nil {
		return err
	}
	rm.t, rm.mv, rm.cached = t, v.Missing, nil
	return nil
}

func (rm *room) state() []byte {
	if rm.cached == nil {
		v := rm.t.view()
		v.Missing = rm.mv
		rm.cached = frame("state", v)
	}
	return rm.cached
}

// emit sends an event now, or with many screens in the next batch: a
// write per screen costs a system call, and hundreds of them per read
// would compete with the commit for the processors.
func (rm *room) emit(b []byte) {
	if len(rm.ws) <= batchAbove {
		rm.send(b)
		return
	}
	rm.pend = append(rm.pend, b...)
	if rm.batchC == nil {
		rm.batchC = time.After(batchEvery)
	}
}

// send hands an event to every screen; one that has no room for it is
// dropped and told to reload.
func (rm *room) send(b []byte) {
	for w := range rm.ws {
		select {
		case w.q <- b:
		default:
			delete(rm.ws, w)
			close(w.kick)
		}
	}
}

func (rm *room) run() {
	s := rm.s
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Subscribe before loading, then skip what the load already holds: no
	// read falls between the two.
	sub := s.hub.Subscribe(rm.id, roomBuffer)
	defer sub.Close()
	if err := rm.load(ctx); err != nil {
		rm.err = err
		rm.end(true)
		return
	}
	var missC <-chan time.Time
	full := time.NewTicker(fullStateEach)
	defer full.Stop()
	reload := func() bool {
		if err := rm.load(ctx); err != nil {
			return false
		}
		rm.pend = nil // the state holds them
		rm.send(rm.state())
		return true
	}
	for {
		select {
		case <-s.done:
			rm.end(true)
			return
		case req := <-rm.join:
			req.w.q <- rm.state() // an empty queue has room
			rm.ws[req.w] = struct{}{}
			close(req.ok)
		case w := <-rm.leave:
			delete(rm.ws, w)
			if len(rm.ws) == 0 && rm.end(false) {
				return
			}
		case res, ok := <-sub.C:
			if !ok {
				rm.end(true)
				return
			}
			if res.ReadID <= rm.t.lastID {
				continue
			}
			ev := rm.t.apply(res)
			rm.cached = nil
			rm.emit(frame("read", ev))
			if missC == nil && rm.t.cart == nil {
				missC = time.After(missingDelay)
			}
			if len(sub.C) == cap(sub.C) {
				// The hub may have dropped results for us: start over.
				reload()
			}
		case <-missC:
			missC = nil
			ms, _, p, err := missingAndProgress(ctx, s.b, rm.t.inv)
			if err != nil {
				continue
			}
			rm.t.progress = p
			mv := rm.t.missingWindow(ms, s.opts.MissingMax)
			rm.mv, rm.cached = &mv, nil
			rm.emit(frame("missing", map[string]any{"missing": mv, "progress": p}))
		case <-rm.batchC:
			rm.batchC = nil
			if len(rm.pend) > 0 {
				rm.send(rm.pend)
				rm.pend = nil
			}
		case <-rm.resync:
			reload()
		case <-full.C:
			reload()
		}
	}
}

// events streams a session's committed reads as Server-Sent Events:
// "state" (the whole screen) at connect and after undo, "read" for each
// committed read, "missing" when the missing list changed, and "reload"
// (then the stream ends) when this screen fell behind.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "id")
	if !ok {
		return
	}
	if _, ok := w.(http.Flusher); !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	me := &watcher{q: make(chan []byte, watcherBuffer), kick: make(chan struct{})}
	rm, err := s.enter(ctx, id, me)
	if errors.Is(err, errTooManyWatchers) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, fmt.Sprintf("%v (at most %d): close some scan screens", err, s.opts.MaxWatchers), http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		httpError(w, err)
		return
	}
	defer s.exit(rm, me)
	rc := http.NewResponseController(w)
	// A stream outlives the server's read and write timeouts: no read is
	// due (a closed connection still ends the request), and each write
	// gets its own deadline below.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every writer has deadlines
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-me.kick:
			write([]byte("event: reload\ndata: {}\n\n"))
			return
		case b := <-me.q:
			if !write(b) {
				return
			}
		case <-ping.C:
			if !write([]byte(": ping\n\n")) {
				return
			}
		}
	}
}
