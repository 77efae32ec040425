package relay_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/webhook"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

var secret = []byte("s3cret-for-tests")

// fakeClock is time driven by hand.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, waiter{c.t.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.t) {
			w.ch <- c.t
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
}

// AdvanceTo moves the clock to t if t is later.
func (c *fakeClock) AdvanceTo(t time.Time) {
	if d := t.Sub(c.Now()); d > 0 {
		c.Advance(d)
	}
}

// half is a Rand that always says 0.5, so full-jitter waits are exactly
// half the window.
func half() float64 { return 0.5 }

type env struct {
	t    *testing.T
	path string
	db   *store.DB
	w    *store.Writer
	n    int // events inserted so far
}

func newEnv(t testing.TB) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tally.db")
	e := &env{path: path}
	e.open(t)
	t.Cleanup(func() { e.close() })
	return e
}

func (e *env) open(t testing.TB) {
	t.Helper()
	db, err := store.Open(context.Background(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	e.db, e.w = db, db.NewWriter(0)
}

func (e *env) close() {
	if e.w != nil {
		e.w.Close()
		e.db.Close()
		e.w, e.db = nil, nil
	}
}

var kinds = []string{"seen", "seen", "found", "misplaced", "seen", "checked_out_on_shelf", "unknown", "missing", "cart_foreign", "cart_missing"}

// insert adds n outbox rows in one transaction, as the engine would, and
// returns their keys.
func (e *env) insert(t testing.TB, n int) []string {
	t.Helper()
	keys := make([]string, 0, n)
	err := e.w.Do(context.Background(), store.Func(func(tx *sql.Tx) error {
		for i := 0; i < n; i++ {
			k := e.n + i
			kind := kinds[k%len(kinds)]
			bc := fmt.Sprintf("3%07d", k)
			p := map[string]any{"inventory_id": 1, "inventory": "Spring 2027", "barcode": bc, "date": "2027-03-01"}
			switch kind {
			case "misplaced":
				p["home"], p["library"], p["location"] = "MAIN / Fiction", "MAIN", "FIC"
			case "missing", "cart_missing":
				p["lost_value"], p["title"], p["price_cents"] = 4, "Title "+bc, 1299
			case "unknown":
				p["code"] = bc
			}
			key := store.OutboxKey(1, bc, kind)
			if err := store.InsertOutbox(tx, key, kind, 1, bc, p); err != nil {
				return err
			}
			keys = append(keys, key)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	e.n += n
	return keys
}

// states counts outbox rows by state.
func (e *env) states(t testing.TB) map[string]int {
	t.Helper()
	rows, err := e.db.SQL.Query("SELECT state, count(*) FROM outbox GROUP BY state")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		rows.Scan(&s, &n)
		out[s] = n
	}
	return out
}

func (e *env) relay(t testing.TB, sinks []relay.Sink, o relay.Opts) *relay.Relay {
	t.Helper()
	r, err := relay.New(context.Background(), store.Outbox{DB: e.db, W: e.w}, sinks, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// hook is a webhook sink with one request in flight, so tests can say
// which request fails; hookN sends n at once.
func hook(t testing.TB, rc *webhooktest.Receiver, timeout time.Duration) *webhook.Sink {
	t.Helper()
	return hookN(t, rc, timeout, 1)
}

func hookN(t testing.TB, rc *webhooktest.Receiver, timeout time.Duration, n int) *webhook.Sink {
	t.Helper()
	s, err := webhook.New(rc.URL(), webhook.Opts{Secret: secret, Timeout: timeout, InFlight: n})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func receiver(t testing.TB) *webhooktest.Receiver {
	rc := webhooktest.New(secret)
	t.Cleanup(rc.Close)
	return rc
}

// drain runs passes, moving the clock to each Summary.Next, until nothing
// is pending or max passes have run; it returns the totals.
func drain(t testing.TB, r *relay.Relay, c *fakeClock, max int) relay.Summary {
	t.Helper()
	var tot relay.Summary
	for i := 0; i < max; i++ {
		s, err := r.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tot.Delivered += s.Delivered
		tot.Retried += s.Retried
		tot.Rejected += s.Rejected
		tot.Skipped += s.Skipped
		tot.Cancelled += s.Cancelled
		tot.Pending, tot.Dead, tot.Next = s.Pending, s.Dead, s.Next
		if s.Pending == 0 {
			return tot
		}
		c.AdvanceTo(s.Next)
	}
	t.Fatalf("still %d pending after %d passes", tot.Pending, max)
	return tot
}

// memSink is an in-memory sink whose verdicts a test decides.
type memSink struct {
	name    string
	rate    int
	mu      sync.Mutex
	verdict func(ev outbox.Event) relay.Outcome
	got     []outbox.Event
	calls   int
}

func (m *memSink) Name() string       { return m.name }
func (m *memSink) RatePerMinute() int { return m.rate }

func (m *memSink) Deliver(ctx context.Context, evs []outbox.Event) []relay.Outcome {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	out := make([]relay.Outcome, len(evs))
	for i, ev := range evs {
		out[i] = relay.Outcome{Verdict: relay.Accept}
		if m.verdict != nil {
			out[i] = m.verdict(ev)
		}
		if out[i].Verdict == relay.Accept {
			m.got = append(m.got, ev)
		}
	}
	return out
}

func (m *memSink) accepted() []outbox.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]outbox.Event(nil), m.got...)
}

// checkOnce fails unless the receiver holds exactly one change for each key
// and nothing else, every signature verified and no duplicate differed.
func checkOnce(t testing.TB, rc *webhooktest.Receiver, keys []string) {
	t.Helper()
	applied := rc.Applied()
	if len(applied) != len(keys) {
		t.Errorf("receiver holds %d changes, want %d", len(applied), len(keys))
	}
	for _, k := range keys {
		if _, ok := applied[k]; !ok {
			t.Errorf("receiver lacks %s", k)
			break
		}
	}
	st := rc.Stats()
	if st.BadSignatures != 0 || st.Mismatches != 0 {
		t.Errorf("receiver stats %+v: want no bad signatures and no mismatched duplicates", st)
	}
	if st.Applied != len(keys) {
		t.Errorf("receiver applied %d changes, want %d", st.Applied, len(keys))
	}
}
