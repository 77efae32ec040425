package relay_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

// TestSoak: 10,000 events written while scanning goes on, to a receiver
// that is down two seconds in every five and, while up, fails now and then
// (500, 429 with Retry-After, connections reset before and after applying).
// Time is driven by hand, so the test takes seconds. At the end the
// receiver holds exactly one change per idempotency key and the outbox is
// empty.
func TestSoak(t *testing.T) {
	const (
		total = 10000
		chunk = 50                     // events written per step
		step  = 100 * time.Millisecond // fake time per step while scanning
	)
	if testing.Short() {
		t.Skip("soak")
	}
	e := newEnv(t)
	rc := receiver(t)
	var mu sync.Mutex
	rnd := rand.New(rand.NewPCG(7, 11))
	rc.SetRetryAfter("2")
	rc.SetFault(func(m outbox.Event, n int) webhooktest.Fault {
		mu.Lock()
		defer mu.Unlock()
		switch x := rnd.IntN(1000); {
		case x < 10:
			return webhooktest.Fail
		case x < 15:
			return webhooktest.TooMany
		case x < 20:
			return webhooktest.ResetBefore
		case x < 25:
			return webhooktest.ResetAfter
		}
		return webhooktest.OK
	})
	c := newClock()
	start := c.Now()
	r := e.relay(t, []relay.Sink{hook(t, rc, 5*time.Second)},
		relay.Opts{Clock: c, Rand: rand.New(rand.NewPCG(1, 2)).Float64, MaxBackoff: 30 * time.Second})

	var keys []string
	up, downs := true, 0
	var tot relay.Summary
	passes := 0
	for pass := 0; ; pass++ {
		passes = pass + 1
		if pass > 50000 {
			t.Fatalf("not drained after %d passes: %+v", pass, tot)
		}
		if len(keys) < total {
			keys = append(keys, e.insert(t, chunk)...)
		}
		// Down for two seconds in every five of fake time.
		wantUp := c.Now().Sub(start)%(5*time.Second) < 3*time.Second
		if wantUp != up {
			if wantUp {
				if err := rc.Up(); err != nil {
					t.Fatal(err)
				}
			} else {
				rc.Down()
				downs++
			}
			up = wantUp
		}
		s, err := r.Once(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		tot.Delivered += s.Delivered
		tot.Retried += s.Retried
		tot.Rejected += s.Rejected
		if len(keys) == total && s.Pending == 0 {
			break
		}
		next := c.Now().Add(step)
		if len(keys) == total && s.Next.After(next) {
			next = s.Next
		}
		c.AdvanceTo(next)
	}
	checkOnce(t, rc, keys)
	if got := e.states(t); got["done"] != total || len(got) != 1 {
		t.Errorf("outbox states %v: want all %d done", got, total)
	}
	st, err := r.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ss := st.Sinks[0]; ss.Pending != 0 || ss.Dead != 0 || ss.Done != total {
		t.Errorf("sink status %+v", ss)
	}
	rs := rc.Stats()
	if tot.Delivered != total || tot.Rejected != 0 {
		t.Errorf("totals %+v: want %d delivered, none rejected", tot, total)
	}
	// The failures must have happened for the test to mean anything.
	if downs < 3 || tot.Retried < 100 || rs.Duplicates == 0 {
		t.Errorf("too gentle: %d outages, %d retried, %d duplicates", downs, tot.Retried, rs.Duplicates)
	}
	t.Logf("%d events, %d passes, %v of fake time, %d outages, %d retried, %d requests, %d duplicates",
		total, passes, c.Now().Sub(start), downs, tot.Retried, rs.Requests, rs.Duplicates)
}
