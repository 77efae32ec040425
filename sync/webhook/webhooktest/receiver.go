// Package webhooktest is a webhook receiver on loopback for tests: it
// verifies signatures, applies each idempotency key once, and fails on
// demand — 5xx, 429/503 with Retry-After, connections reset before or after
// applying, requests that hang, 4xx rejections, or the whole server down
// (connection refused) and back on the same address.
package webhooktest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/webhook"
)

// Fault is what the receiver does with one request.
type Fault int

const (
	OK          Fault = iota // apply and answer 200
	Fail                     // answer 500 without applying
	Busy                     // answer 503 with Retry-After, without applying
	TooMany                  // answer 429 with Retry-After, without applying
	ResetBefore              // reset the connection without applying
	ResetAfter               // apply, then reset the connection: the sender never hears
	Hang                     // answer nothing until the sender gives up
	Reject                   // answer 422 with a JSON error: a permanent failure
	Unavailable              // answer 503 without Retry-After, without applying
)

// Flaky is the fault of an upstream that fails one request in five at
// random: 9% 503 (no Retry-After), 2% 429 with Retry-After, 9% dropped
// connections (half before applying, half after: the sender never hears).
// seed makes the sequence repeatable.
func Flaky(seed uint64) func(m outbox.Event, n int) Fault {
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(outbox.Event, int) Fault {
		mu.Lock()
		x := rnd.IntN(200)
		mu.Unlock()
		switch {
		case x < 18:
			return Unavailable
		case x < 22:
			return TooMany
		case x < 31:
			return ResetBefore
		case x < 40:
			return ResetAfter
		}
		return OK
	}
}

// Stats count what the receiver saw.
type Stats struct {
	Requests      int // verified requests
	Applied       int // distinct keys applied
	Duplicates    int // requests for a key already applied (answered 200, no change)
	BadSignatures int
	Mismatches    int // a duplicate whose body differs from the applied one
}

// Receiver is a webhook endpoint on loopback.
type Receiver struct {
	secret []byte

	mu         sync.Mutex
	fault      func(m outbox.Event, n int) Fault
	retryAfter string
	now        func() time.Time
	applied    map[string]outbox.Event
	bodies     map[string][]byte // the applied request's body, as sent
	order      []string
	perKey     map[string]int
	stats      Stats
	srv        *httptest.Server
	addr       string
}

// New starts a receiver verifying signatures made with secret.
func New(secret []byte) *Receiver {
	r := &Receiver{secret: secret, retryAfter: "1", now: time.Now,
		applied: map[string]outbox.Event{}, bodies: map[string][]byte{}, perKey: map[string]int{}}
	r.srv = httptest.NewServer(r)
	r.addr = r.srv.Listener.Addr().String()
	return r
}

// URL is where to post.
func (r *Receiver) URL() string { return "http://" + r.addr + "/hook" }

// SetFault decides each request's fate (n counts verified requests from 1);
// nil applies everything. f may block, to hold a request in flight; calls
// can be concurrent when the sender is.
func (r *Receiver) SetFault(f func(m outbox.Event, n int) Fault) {
	r.mu.Lock()
	r.fault = f
	r.mu.Unlock()
}

// SetRetryAfter sets the Retry-After header value sent with Busy and TooMany.
func (r *Receiver) SetRetryAfter(v string) {
	r.mu.Lock()
	r.retryAfter = v
	r.mu.Unlock()
}

// SetNow sets the clock signatures are checked against.
func (r *Receiver) SetNow(now func() time.Time) {
	r.mu.Lock()
	r.now = now
	r.mu.Unlock()
}

// Down closes the listener and every connection: senders get connection
// refused until Up.
func (r *Receiver) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// Up listens again on the same address.
func (r *Receiver) Up() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return nil
	}
	var l net.Listener
	var err error
	for i := 0; i < 100; i++ { // the port can take a moment to be free again
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("webhooktest: listen again on %s: %w", r.addr, err)
	}
	srv := httptest.NewUnstartedServer(r)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	r.srv = srv
	return nil
}

// Close stops the receiver.
func (r *Receiver) Close() { r.Down() }

// Applied returns the applied changes by key.
func (r *Receiver) Applied() map[string]outbox.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]outbox.Event, len(r.applied))
	for k, v := range r.applied {
		out[k] = v
	}
	return out
}

// Bodies returns the applied requests' bodies by key, as they were sent.
func (r *Receiver) Bodies() map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]byte, len(r.bodies))
	for k, v := range r.bodies {
		out[k] = v
	}
	return out
}

// Order returns the keys in the order they were applied.
func (r *Receiver) Order() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.order...)
}

// Requests is how many verified requests carried key.
func (r *Receiver) Requests(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.perKey[key]
}

// Stats returns the counts.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// ServeHTTP implements the receiver's side of the contract.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, `{"error":"POST only"}`, http.StatusMethodNotAllowed)
		return
	}
	r.mu.Lock()
	now := r.now
	r.mu.Unlock()
	body, err := readVerified(req, r.secret, now())
	if err != nil {
		r.mu.Lock()
		r.stats.BadSignatures++
		r.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	}
	var m outbox.Event
	if err := json.Unmarshal(body, &m); err != nil || m.Key == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is not a tally webhook message"})
		return
	}
	if k := req.Header.Get(webhook.HeaderIdempotency); k != m.Key {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("Idempotency-Key %q does not match the body's key %q", k, m.Key)})
		return
	}

	r.mu.Lock()
	r.stats.Requests++
	r.perKey[m.Key]++
	n, fault, ra := r.stats.Requests, r.fault, r.retryAfter
	r.mu.Unlock()
	f := OK
	if fault != nil {
		f = fault(m, n) // outside the lock: a test's fault may block
	}

	switch f {
	case Fail:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "database unavailable"})
		return
	case Unavailable:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "upstream proxy unavailable"})
		return
	case Busy, TooMany:
		w.Header().Set("Retry-After", ra)
		code := http.StatusServiceUnavailable
		if f == TooMany {
			code = http.StatusTooManyRequests
		}
		writeJSON(w, code, map[string]string{"error": "slow down"})
		return
	case ResetBefore:
		reset(w)
		return
	case Hang:
		<-req.Context().Done()
		return
	case Reject:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "no item with barcode " + m.Barcode})
		return
	}

	r.mu.Lock()
	old, dup := r.applied[m.Key]
	if dup {
		r.stats.Duplicates++
		if !reflect.DeepEqual(old.Data, m.Data) || old.Kind != m.Kind || old.Barcode != m.Barcode {
			r.stats.Mismatches++
		}
	} else {
		r.applied[m.Key] = m
		r.bodies[m.Key] = body
		r.order = append(r.order, m.Key)
		r.stats.Applied++
	}
	r.mu.Unlock()

	if f == ResetAfter {
		reset(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "duplicate": dup})
}

func readVerified(req *http.Request, secret []byte, now time.Time) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(req.Body, webhook.MaxBody+1))
	if err != nil {
		return nil, err
	}
	if len(body) > webhook.MaxBody {
		return nil, fmt.Errorf("body larger than %d bytes", webhook.MaxBody)
	}
	err = webhook.VerifyAt(secret, req.Header.Get(webhook.HeaderTimestamp), body, req.Header.Get(webhook.HeaderSignature),
		now, webhook.DefaultTolerance)
	return body, err
}

// reset closes the connection with an RST (SO_LINGER 0), as a crashed
// server or a dropped NAT entry does.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("webhooktest: response writer cannot be hijacked")
	}
	c, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
