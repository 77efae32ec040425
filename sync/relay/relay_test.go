package relay_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

func TestDeliverToWebhook(t *testing.T) {
	e := newEnv(t)
	rc := receiver(t)
	keys := e.insert(t, 25)
	c := newClock()
	r := e.relay(t, []relay.Sink{hook(t, rc, 5*time.Second)}, relay.Opts{BatchSize: 10, Clock: c, Rand: half})
	s, err := r.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Delivered != 25 || s.Pending != 0 || !s.Next.IsZero() {
		t.Errorf("summary %+v: want 25 delivered, none pending, no next", s)
	}
	checkOnce(t, rc, keys)
	if got := e.states(t); got["done"] != 25 || len(got) != 1 {
		t.Errorf("outbox states %v: want 25 done", got)
	}
	// Oldest first: the receiver applied in outbox order.
	if order := rc.Order(); strings.Join(order, ",") != strings.Join(keys, ",") {
		t.Errorf("applied out of order:\n got %v\nwant %v", order, keys)
	}
	// The message carries the outbox payload, signed.
	m := rc.Applied()[keys[3]]
	if m.Kind != outbox.Misplaced || m.Data.Home != "MAIN / Fiction" || m.Attempt != 1 {
		t.Errorf("message %+v", m)
	}
	// Nothing more to do, nothing more sent.
	before := rc.Stats().Requests
	if s, _ := r.Once(context.Background()); s.Delivered != 0 || rc.Stats().Requests != before {
		t.Errorf("second pass sent again: %+v", s)
	}
}

// TestFailureModes: each failure of the receiver is retried until every
// key is applied exactly once, and the outbox ends empty.
func TestFailureModes(t *testing.T) {
	perKey := func(times int, f webhooktest.Fault) func(m outbox.Event, n int) webhooktest.Fault {
		var mu sync.Mutex
		seen := map[string]int{}
		return func(m outbox.Event, n int) webhooktest.Fault {
			mu.Lock()
			defer mu.Unlock()
			seen[m.Key]++
			if seen[m.Key] <= times {
				return f
			}
			return webhooktest.OK
		}
	}
	onRequest := func(want int, f webhooktest.Fault) func(m outbox.Event, n int) webhooktest.Fault {
		return func(m outbox.Event, n int) webhooktest.Fault {
			if n == want {
				return f
			}
			return webhooktest.OK
		}
	}
	// firstAttempt faults every request of the relay's first attempt at the
	// batch's fourth key: net/http itself resends a request that carries
	// an Idempotency-Key once when a reused connection is reset, and that
	// resend must fail too for the relay to see the failure.
	firstAttempt := func(f webhooktest.Fault) func(m outbox.Event, n int) webhooktest.Fault {
		return func(m outbox.Event, n int) webhooktest.Fault {
			if strings.HasSuffix(m.Key, "/30000003/misplaced") && m.Attempt == 1 {
				return f
			}
			return webhooktest.OK
		}
	}
	for _, tc := range []struct {
		name    string
		fault   func(m outbox.Event, n int) webhooktest.Fault
		timeout time.Duration
		dupes   int // requests for keys already applied; -1: some
	}{
		{"5xx twice per key", perKey(2, webhooktest.Fail), 5 * time.Second, 0},
		{"503 with Retry-After", perKey(1, webhooktest.Busy), 5 * time.Second, 0},
		{"reset before applying, mid-batch", firstAttempt(webhooktest.ResetBefore), 5 * time.Second, 0},
		{"reset after applying, mid-batch", firstAttempt(webhooktest.ResetAfter), 5 * time.Second, -1},
		{"timeout", onRequest(3, webhooktest.Hang), 200 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rc := receiver(t)
			rc.SetFault(tc.fault)
			keys := e.insert(t, 12)
			c := newClock()
			r := e.relay(t, []relay.Sink{hook(t, rc, tc.timeout)}, relay.Opts{BatchSize: 5, Clock: c, Rand: half})
			tot := drain(t, r, c, 100)
			if tot.Retried == 0 {
				t.Errorf("nothing was retried: the fault did not bite")
			}
			if tot.Delivered != 12 || tot.Dead != 0 {
				t.Errorf("totals %+v: want 12 delivered, no dead letters", tot)
			}
			checkOnce(t, rc, keys)
			if d := rc.Stats().Duplicates; d != tc.dupes && !(tc.dupes < 0 && d > 0) {
				t.Errorf("%d duplicate requests, want %d", d, tc.dupes)
			}
			if got := e.states(t); got["done"] != 12 {
				t.Errorf("outbox states %v: want 12 done", got)
			}
		})
	}
}

// TestRetryAfter: a lone 429 among successes holds back its own event
// exactly Retry-After; the rest of the backlog goes on meanwhile.
func TestRetryAfter(t *testing.T) {
	e := newEnv(t)
	rc := receiver(t)
	rc.SetRetryAfter("7")
	rc.SetFault(func(m outbox.Event, n int) webhooktest.Fault {
		if n == 3 {
			return webhooktest.TooMany
		}
		return webhooktest.OK
	})
	keys := e.insert(t, 10)
	c := newClock()
	r := e.relay(t, []relay.Sink{hook(t, rc, 5*time.Second)}, relay.Opts{Clock: c, Rand: half})
	t0 := c.Now()
	s, err := r.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Delivered != 9 || s.Retried != 1 || s.Pending != 1 {
		t.Errorf("summary %+v: want 9 delivered, 1 retried", s)
	}
	if want := t0.Add(7 * time.Second); !s.Next.Equal(want) {
		t.Errorf("next %v, want %v (Retry-After: 7)", s.Next, want)
	}
	c.Advance(6900 * time.Millisecond)
	if s, _ := r.Once(context.Background()); s.Delivered != 0 || rc.Stats().Requests != 10 {
		t.Errorf("resent before Retry-After ran out: %+v", s)
	}
	c.Advance(100 * time.Millisecond)
	if s, _ := r.Once(context.Background()); s.Delivered != 1 || s.Pending != 0 {
		t.Errorf("after Retry-After: %+v, want the last one delivered", s)
	}
	checkOnce(t, rc, keys)
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ss := st.Sinks[0]; !strings.Contains(ss.LastError, "429") || ss.LastOK.IsZero() || ss.Failures != 0 || ss.RetryBudget != 10 {
		t.Errorf("status %+v: want the 429 as last error, a last success, no failures now, a full budget", ss)
	}
}

// TestRetryAfterThrottled: when every request is answered 429, the sink
// stops after MaxConsecutive of them and pauses exactly Retry-After; nothing
// is sent meanwhile.
func TestRetryAfterThrottled(t *testing.T) {
	for _, n := range []int{1, 4} {
		t.Run(fmt.Sprintf("in flight %d", n), func(t *testing.T) {
			e := newEnv(t)
			rc := receiver(t)
			rc.SetRetryAfter("7")
			var mu sync.Mutex
			throttle := true
			rc.SetFault(func(m outbox.Event, n int) webhooktest.Fault {
				mu.Lock()
				defer mu.Unlock()
				if throttle {
					return webhooktest.TooMany
				}
				return webhooktest.OK
			})
			keys := e.insert(t, 10)
			c := newClock()
			before := 0
			r := e.relay(t, []relay.Sink{hookN(t, rc, 5*time.Second, n)}, relay.Opts{Clock: c, Rand: half, BatchSize: 5})
			t0 := c.Now()
			s, err := r.Once(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// In flight 1: three 429s in a row. In flight 4: the fourth
			// was already on its way when the third answer came.
			sent := rc.Stats().Requests - before
			if s.Delivered != 0 || sent < 3 || sent > n+2 {
				t.Errorf("%d requests, summary %+v: want the sink stopped after 3 in a row", sent, s)
			}
			if want := t0.Add(7 * time.Second); !s.Next.Equal(want) {
				t.Errorf("next %v, want %v (Retry-After: 7)", s.Next, want)
			}
			st, _ := r.Status(context.Background())
			if ss := st.Sinks[0]; !ss.BackoffUntil.Equal(t0.Add(7*time.Second)) || ss.Failures != 1 {
				t.Errorf("status %+v: want backing off until Retry-After", ss)
			}
			c.Advance(6900 * time.Millisecond)
			if s, _ := r.Once(context.Background()); s.Delivered+s.Retried != 0 || rc.Stats().Requests-before != sent {
				t.Errorf("sent while paused: %+v", s)
			}
			mu.Lock()
			throttle = false
			mu.Unlock()
			c.Advance(100 * time.Millisecond)
			if s, _ := r.Once(context.Background()); s.Pending != 0 {
				t.Errorf("after Retry-After: %+v, want all delivered", s)
			}
			checkOnce(t, rc, keys)
		})
	}
}

// TestBackoff: with the receiver down, waits grow as full jitter says —
// rand·min(cap, base·2ⁿ), here rand = 0.5 — and reset after a success.
func TestBackoff(t *testing.T) {
	e := newEnv(t)
	rc := receiver(t)
	rc.Down()
	e.insert(t, 3)
	c := newClock()
	r := e.relay(t, []relay.Sink{hook(t, rc, 5*time.Second)},
		relay.Opts{Clock: c, Rand: half, BaseBackoff: time.Second, MaxBackoff: 10 * time.Second})
	var got []time.Duration
	for i := 0; i < 7; i++ {
		before := rc.Stats().Requests
		s, err := r.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// The first pass tries each row (three refused in a row stop the
		// sink); later passes one, which finds the receiver still down.
		if want := min(3, 3-2*i); s.Retried != max(1, want) {
			t.Fatalf("pass %d: %+v, want %d retried", i, s, max(1, want))
		}
		_ = before
		got = append(got, s.Next.Sub(c.Now()))
		c.AdvanceTo(s.Next)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v, want %v", got, want)
		}
	}
	st, _ := r.Status(context.Background())
	if ss := st.Sinks[0]; ss.Failures != 7 || !strings.Contains(ss.LastError, "refused") || ss.Pending != 3 || ss.OldestPending.IsZero() {
		t.Errorf("status %+v: want 7 failures, connection refused, 3 pending", ss)
	}
	if err := rc.Up(); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.Once(context.Background()); s.Delivered != 3 {
		t.Errorf("after the receiver came back: %+v", s)
	}
	st, _ = r.Status(context.Background())
	if ss := st.Sinks[0]; ss.Failures != 0 || !ss.BackoffUntil.IsZero() || ss.Pending != 0 || ss.Done != 3 {
		t.Errorf("status %+v: want back-off cleared and 3 done", ss)
	}
}

// TestDeadLetter: a 4xx makes a dead letter with the receiver's message,
// visible in status; the rest goes on; retrying delivers it.
func TestDeadLetter(t *testing.T) {
	e := newEnv(t)
	rc := receiver(t)
	keys := e.insert(t, 6)
	bad := keys[2]
	reject := true
	var mu sync.Mutex
	rc.SetFault(func(m outbox.Event, n int) webhooktest.Fault {
		mu.Lock()
		defer mu.Unlock()
		if m.Key == bad && reject {
			return webhooktest.Reject
		}
		return webhooktest.OK
	})
	c := newClock()
	r := e.relay(t, []relay.Sink{hook(t, rc, 5*time.Second)}, relay.Opts{Clock: c, Rand: half})
	s, err := r.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Delivered != 5 || s.Rejected != 1 || s.Dead != 1 || s.Pending != 0 {
		t.Errorf("summary %+v: want 5 delivered, 1 dead", s)
	}
	if got := e.states(t); got["done"] != 5 || got["dead"] != 1 {
		t.Errorf("outbox states %v", got)
	}
	dead, err := r.DeadLetters(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].Key != bad || !strings.Contains(dead[0].SinkError, "422") ||
		!strings.Contains(dead[0].SinkError, "no item with barcode") || dead[0].Sink != "webhook" {
		t.Fatalf("dead letters %+v", dead)
	}
	// A dead letter stays put: passes do not resend it.
	c.Advance(time.Hour)
	if s, _ := r.Once(context.Background()); s.Rejected+s.Delivered != 0 || rc.Requests(bad) != 1 {
		t.Errorf("dead letter was resent: %+v", s)
	}
	mu.Lock()
	reject = false
	mu.Unlock()
	n, err := r.RetryDead(context.Background(), dead[0].ID)
	if err != nil || n != 1 {
		t.Fatalf("retry: %d, %v", n, err)
	}
	if s, _ := r.Once(context.Background()); s.Delivered != 1 || s.Dead != 0 {
		t.Errorf("after retry: %+v", s)
	}
	checkOnce(t, rc, keys)
	if got := e.states(t); got["done"] != 6 {
		t.Errorf("outbox states %v: want 6 done", got)
	}
}

// TestRateLimit: a sink declaring 60 a minute gets bursts of 10 (ten
// seconds' worth), then one a second.
func TestRateLimit(t *testing.T) {
	e := newEnv(t)
	e.insert(t, 25)
	m := &memSink{name: "snipeit", rate: 60}
	c := newClock()
	r := e.relay(t, []relay.Sink{m}, relay.Opts{Clock: c, Rand: half})
	s, _ := r.Once(context.Background())
	if s.Delivered != 10 || s.Pending != 15 {
		t.Fatalf("first pass %+v: want a burst of 10", s)
	}
	if d := s.Next.Sub(c.Now()); d != time.Second {
		t.Errorf("next in %v, want 1s", d)
	}
	c.Advance(time.Second)
	if s, _ = r.Once(context.Background()); s.Delivered != 1 {
		t.Errorf("after 1 s: %+v, want 1", s)
	}
	c.Advance(5 * time.Second)
	if s, _ = r.Once(context.Background()); s.Delivered != 5 {
		t.Errorf("after 5 s more: %+v, want 5", s)
	}
	c.Advance(time.Minute) // the bucket refills to its size, no further
	if s, _ = r.Once(context.Background()); s.Delivered != 9 || s.Pending != 0 {
		t.Errorf("after a minute: %+v, want the last 9", s)
	}
}

// TestSeveralSinks: every row goes to every sink; the row is done when all
// are, dead while any holds it dead; a sink that skips a kind counts as done.
func TestSeveralSinks(t *testing.T) {
	e := newEnv(t)
	rc := receiver(t)
	keys := e.insert(t, 10)
	down := true
	var mu sync.Mutex
	books := &memSink{name: "ils", verdict: func(ev outbox.Event) relay.Outcome {
		switch {
		case strings.HasPrefix(string(ev.Kind), "cart_"):
			return relay.Outcome{Verdict: relay.Skip}
		case ev.Kind == "unknown":
			return relay.Outcome{Verdict: relay.Reject, Err: errors.New("no such item")}
		}
		mu.Lock()
		defer mu.Unlock()
		if down {
			return relay.Outcome{Verdict: relay.Retry, Err: errors.New("ils down")}
		}
		return relay.Outcome{Verdict: relay.Accept}
	}}
	c := newClock()
	r := e.relay(t, []relay.Sink{hook(t, rc, 5*time.Second), books}, relay.Opts{Clock: c, Rand: half})
	if _, err := r.Once(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkOnce(t, rc, keys) // the webhook is not held up by the ILS
	// unknown is dead for the ILS; cart kinds were skipped there and are
	// done for the webhook: done overall. The rest wait for the ILS.
	if got := e.states(t); got["dead"] != 1 || got["done"] != 2 || got["pending"] != 7 {
		t.Errorf("outbox states %v: want 1 dead, 2 done, 7 pending", got)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	drain(t, r, c, 20)
	if got := e.states(t); got["dead"] != 1 || got["done"] != 9 {
		t.Errorf("outbox states %v: want 1 dead, 9 done", got)
	}
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Sinks) != 2 || st.Sinks[0].Done != 10 || st.Sinks[1].Done != 7 || st.Sinks[1].Skipped != 2 || st.Sinks[1].Dead != 1 {
		t.Errorf("status %+v", st.Sinks)
	}
	if len(books.accepted()) != 7 {
		t.Errorf("ils accepted %d, want 7", len(books.accepted()))
	}
	// Dropping the ILS from the configuration settles what waited for it:
	// a new relay with the webhook alone finds nothing dead or pending.
	r2 := e.relay(t, []relay.Sink{hook(t, rc, 5*time.Second)}, relay.Opts{Clock: c})
	if got := e.states(t); got["done"] != 10 {
		t.Errorf("after removing the ils: outbox states %v, want 10 done", got)
	}
	// Adding a sink later: it gets what is still pending, not history.
	e.insert(t, 2)
	late := &memSink{name: "late"}
	r3 := e.relay(t, []relay.Sink{hook(t, rc, 5*time.Second), late}, relay.Opts{Clock: c})
	if s, _ := r3.Once(context.Background()); s.Delivered != 4 || len(late.accepted()) != 2 {
		t.Errorf("late sink: %+v, got %d", s, len(late.accepted()))
	}
	_ = r2
}

func TestPauseResume(t *testing.T) {
	e := newEnv(t)
	m := &memSink{name: "m"}
	c := newClock()
	r := e.relay(t, []relay.Sink{m}, relay.Opts{Clock: c})
	e.insert(t, 3)
	r.Pause()
	if !r.Paused() {
		t.Fatal("not paused")
	}
	if s, _ := r.Once(context.Background()); !s.Paused || s.Delivered != 0 || m.calls != 0 {
		t.Errorf("paused relay delivered: %+v", s)
	}
	st, _ := r.Status(context.Background())
	if !st.Paused || st.Sinks[0].Pending != 3 {
		t.Errorf("status %+v: want paused with 3 pending (rows not yet queued count)", st)
	}
	r.Resume()
	if s, _ := r.Once(context.Background()); s.Delivered != 3 {
		t.Errorf("after resume: %+v", s)
	}
}

// TestCancelled: a row undone before delivery is not sent; queued again, it is.
func TestCancelled(t *testing.T) {
	e := newEnv(t)
	m := &memSink{name: "m"}
	c := newClock()
	r := e.relay(t, []relay.Sink{m}, relay.Opts{Clock: c})
	keys := e.insert(t, 2)
	setState := func(key, state string) {
		t.Helper()
		err := e.w.Do(context.Background(), store.Func(func(tx *sql.Tx) error {
			_, err := tx.Exec("UPDATE outbox SET state = ? WHERE key = ?", state, key)
			return err
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	setState(keys[1], "cancelled") // as Engine.Undo does
	s, _ := r.Once(context.Background())
	if s.Delivered != 1 || s.Cancelled != 1 || s.Pending != 0 {
		t.Errorf("summary %+v: want 1 delivered, 1 cancelled", s)
	}
	// Scanned again: InsertOutbox puts the cancelled row back to pending.
	err := e.w.Do(context.Background(), store.Func(func(tx *sql.Tx) error {
		return store.InsertOutbox(tx, keys[1], "seen", 1, "30000001", map[string]any{"inventory": "again"})
	}))
	if err != nil {
		t.Fatal(err)
	}
	s, _ = r.Once(context.Background())
	if s.Delivered != 1 {
		t.Errorf("requeued row: %+v", s)
	}
	got := m.accepted()
	if len(got) != 2 || got[1].Key != keys[1] || got[1].Data.Inventory != "again" {
		t.Errorf("accepted %+v", got)
	}
	if st := e.states(t); st["done"] != 2 {
		t.Errorf("states %v", st)
	}
}

type countObserver struct {
	mu                          sync.Mutex
	delivered, retried, rejects int
	pending, dead               int
	oldest                      time.Duration
}

func (o *countObserver) Delivered(_ string, n int) { o.mu.Lock(); o.delivered += n; o.mu.Unlock() }
func (o *countObserver) Retried(_ string, n int)   { o.mu.Lock(); o.retried += n; o.mu.Unlock() }
func (o *countObserver) Rejected(_ string, n int)  { o.mu.Lock(); o.rejects += n; o.mu.Unlock() }
func (o *countObserver) Backlog(_ string, p, d int, old time.Duration) {
	o.mu.Lock()
	o.pending, o.dead, o.oldest = p, d, old
	o.mu.Unlock()
}

func TestObserver(t *testing.T) {
	e := newEnv(t)
	e.insert(t, 5)
	n := 0
	m := &memSink{name: "m", verdict: func(ev outbox.Event) relay.Outcome {
		n++
		switch n {
		case 1:
			return relay.Outcome{Verdict: relay.Reject, Err: errors.New("bad")}
		case 3:
			return relay.Outcome{Verdict: relay.Retry}
		}
		return relay.Outcome{Verdict: relay.Accept}
	}}
	c := newClock()
	c.AdvanceTo(time.Now().Add(time.Minute)) // rows were created at the real now
	o := &countObserver{}
	r := e.relay(t, []relay.Sink{m}, relay.Opts{Clock: c, Rand: half, Observer: o})
	r.Once(context.Background())
	if o.delivered != 3 || o.retried != 1 || o.rejects != 1 || o.pending != 1 || o.dead != 1 || o.oldest < time.Minute-time.Second {
		t.Errorf("observer %+v", o)
	}
}

// TestRunKick: Run sleeps until kicked, delivers, and stops when ctx ends.
func TestRunKick(t *testing.T) {
	e := newEnv(t)
	m := &memSink{name: "m"}
	r := e.relay(t, []relay.Sink{m}, relay.Opts{PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	e.insert(t, 4)
	r.Kick()
	deadline := time.After(10 * time.Second)
	for len(m.accepted()) < 4 {
		select {
		case <-deadline:
			t.Fatalf("Run delivered %d of 4 after a kick", len(m.accepted()))
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

// TestStopFinishesBatch: when Run is stopped mid-batch, the batch in flight
// finishes and is recorded; no new batch starts.
func TestStopFinishesBatch(t *testing.T) {
	e := newEnv(t)
	rc := receiver(t)
	reached, release := make(chan struct{}), make(chan struct{})
	rc.SetFault(func(m outbox.Event, n int) webhooktest.Fault {
		if n == 15 {
			close(reached)
			<-release
		}
		return webhooktest.OK
	})
	keys := e.insert(t, 30)
	r := e.relay(t, []relay.Sink{hook(t, rc, 10*time.Second)}, relay.Opts{BatchSize: 10})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	<-reached
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := e.states(t); got["done"] != 20 || got["pending"] != 10 {
		t.Errorf("outbox states %v: want the batch in flight finished (20 done), 10 pending", got)
	}
	checkOnce(t, rc, keys[:20])
}

// TestCrashMidBatch: the process dies while a batch is in flight — the
// receiver has applied part of it, nothing was recorded. After a restart
// the relay resends the batch and the receiver still holds one change per
// key.
func TestCrashMidBatch(t *testing.T) {
	e := newEnv(t)
	rc := receiver(t)
	reached, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	rc.SetFault(func(m outbox.Event, n int) webhooktest.Fault {
		if n == 15 {
			once.Do(func() { close(reached) })
			<-release
			return webhooktest.Hang
		}
		return webhooktest.OK
	})
	keys := e.insert(t, 30)
	r := e.relay(t, []relay.Sink{hook(t, rc, 10*time.Second)}, relay.Opts{BatchSize: 100, StopGrace: -1})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { _, err := r.Once(ctx); errc <- err }()
	<-reached
	e.w.Close() // the crash: nothing after this reaches the database
	cancel()
	close(release)
	if err := <-errc; !errors.Is(err, store.ErrClosed) || !errors.Is(err, relay.ErrStoreClosed) {
		t.Fatalf("Once after the crash: %v, want store.ErrClosed as relay.ErrStoreClosed", err)
	}
	e.db.Close()
	e.w, e.db = nil, nil
	if n := len(rc.Applied()); n != 14 {
		t.Fatalf("receiver applied %d before the crash, want 14", n)
	}

	e.open(t) // restart
	if got := e.states(t); got["pending"] != 30 {
		t.Fatalf("after restart: %v, want all 30 pending (nothing was recorded)", got)
	}
	rc.SetFault(nil)
	c := newClock()
	r = e.relay(t, []relay.Sink{hook(t, rc, 10*time.Second)}, relay.Opts{Clock: c})
	drain(t, r, c, 10)
	checkOnce(t, rc, keys)
	if d := rc.Stats().Duplicates; d != 14 {
		t.Errorf("%d duplicates, want the 14 applied before the crash", d)
	}
	if got := e.states(t); got["done"] != 30 {
		t.Errorf("outbox %v: want 30 done", got)
	}
}

func TestNewErrors(t *testing.T) {
	e := newEnv(t)
	if _, err := relay.New(context.Background(), store.Outbox{DB: e.db, W: e.w}, nil, relay.Opts{}); err == nil {
		t.Error("no sinks: want an error")
	}
	a, b := &memSink{name: "x"}, &memSink{name: "x"}
	if _, err := relay.New(context.Background(), store.Outbox{DB: e.db, W: e.w}, []relay.Sink{a, b}, relay.Opts{}); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("duplicate names: %v", err)
	}
}

// A sink that answers fewer outcomes than events has the rest retried.
func TestShortAnswer(t *testing.T) {
	e := newEnv(t)
	e.insert(t, 3)
	c := newClock()
	r := e.relay(t, []relay.Sink{shortSink{}}, relay.Opts{Clock: c, Rand: half})
	s, _ := r.Once(context.Background())
	if s.Delivered != 1 || s.Retried != 2 {
		t.Errorf("summary %+v", s)
	}
	st, _ := r.Status(context.Background())
	if !strings.Contains(st.Sinks[0].LastError, "1 outcomes for 3 events") {
		t.Errorf("last error %q", st.Sinks[0].LastError)
	}
}

type shortSink struct{}

func (shortSink) Name() string { return "short" }
func (shortSink) Deliver(ctx context.Context, evs []outbox.Event) []relay.Outcome {
	return []relay.Outcome{{Verdict: relay.Accept}}
}

// TestDrainDeadline: a deadline that cuts a pass short ends Drain without
// an error (the store read it interrupted is no failure), and a next
// attempt due after the deadline ends it at once instead of a useless wait.
func TestDrainDeadline(t *testing.T) {
	e := newEnv(t)
	e.insert(t, 3)
	m := &memSink{name: "m", verdict: func(outbox.Event) relay.Outcome {
		return relay.Outcome{Verdict: relay.Retry, Err: errors.New("down")}
	}}
	r := e.relay(t, []relay.Sink{m}, relay.Opts{BaseBackoff: time.Hour, MaxBackoff: time.Hour, Rand: func() float64 { return 1 }})
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := r.Drain(ctx); err != nil {
		t.Errorf("Drain past its deadline: %v, want nil", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan relay.Summary)
	go func() { s, _ := r.Drain(ctx); done <- s }()
	select {
	case s := <-done:
		if s.Pending != 3 || s.Next.IsZero() {
			t.Errorf("summary %+v: want 3 pending with a next attempt", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Drain waits for a back-off of an hour with a deadline in a minute")
	}
}

// TestUndecodableRow: a row of a kind this tally does not know (a newer
// tally wrote it) and a row whose payload is not the event's data reach no
// sink: each becomes a dead letter that names the row and what is wrong,
// and the rows around them are delivered.
func TestUndecodableRow(t *testing.T) {
	e := newEnv(t)
	keys := e.insert(t, 2)
	err := e.w.Do(context.Background(), store.Func(func(tx *sql.Tx) error {
		if err := store.InsertOutbox(tx, "inv1/X1/stolen", "stolen", 1, "X1", map[string]any{"inventory_id": 1}); err != nil {
			return err
		}
		if err := store.InsertOutbox(tx, "inv1/X2/seen", "seen", 1, "X2", map[string]any{"at": 5}); err != nil {
			return err
		}
		// A truncated row: its payload is not JSON at all.
		if err := store.InsertOutbox(tx, "inv1/X3/seen", "seen", 1, "X3", map[string]any{}); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE outbox SET payload = '{"inventory_id":1,"bar' WHERE key = 'inv1/X3/seen'`)
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, e.insert(t, 1)...)
	m := &memSink{name: "mem"}
	r := e.relay(t, []relay.Sink{m}, relay.Opts{Clock: newClock(), Rand: half})
	s, err := r.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Delivered != 3 || s.Rejected != 3 || s.Dead != 3 || s.Pending != 0 {
		t.Errorf("summary %+v: want 3 delivered, 3 dead", s)
	}
	var got []string
	for _, ev := range m.accepted() {
		got = append(got, ev.Key)
	}
	if strings.Join(got, ",") != strings.Join(keys, ",") {
		t.Errorf("sink got %v, want %v", got, keys)
	}
	dead, err := r.DeadLetters(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"inv1/X1/stolen": `unknown event kind "stolen"`, "inv1/X2/seen": "payload: json", "inv1/X3/seen": "payload"}
	if len(dead) != 3 {
		t.Fatalf("dead letters %+v", dead)
	}
	// The views that list dead letters (sync status --json, /api/sync)
	// still encode them, the broken payload as a string.
	if b, err := json.Marshal(dead); err != nil || !strings.Contains(string(b), `"{\"inventory_id\":1,\"bar"`) {
		t.Errorf("dead letters as JSON: %v\n%s", err, b)
	}
	for _, d := range dead {
		if w := want[d.Key]; w == "" || !strings.Contains(d.SinkError, w) || !strings.Contains(d.SinkError, d.Key) {
			t.Errorf("dead letter %s: %q, want it to name the row and say %q", d.Key, d.SinkError, w)
		}
	}
}
