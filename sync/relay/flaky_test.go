package relay_test

import (
	"context"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/webhook"
	"github.com/tally-inventory/tally/sync/webhook/webhooktest"
)

// flakyEvents is the backlog of the flaky-upstream test and benchmark.
const flakyEvents = 1800

// drainWebhook writes n events and drains them with the default options to
// a loopback receiver failing as fault says, on the real clock; it returns
// how long the drain took, the receiver and the keys.
func drainWebhook(t testing.TB, n int, fault func(outbox.Event, int) webhooktest.Fault) (time.Duration, relay.Summary, *webhooktest.Receiver, []string) {
	t.Helper()
	e := newEnv(t)
	rc := receiver(t)
	rc.SetFault(fault)
	var keys []string
	for len(keys) < n {
		keys = append(keys, e.insert(t, min(10000, n-len(keys)))...)
	}
	s, err := webhook.New(rc.URL(), webhook.Opts{Secret: secret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r := e.relay(t, []relay.Sink{s}, relay.Opts{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	sum, err := r.Drain(ctx)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Pending != 0 || sum.Dead != 0 {
		t.Fatalf("drain left %d pending, %d dead: %+v", sum.Pending, sum.Dead, sum)
	}
	return took, sum, rc, keys
}

// TestFlakyExactlyOnce: 1,800 events through an upstream failing one
// request in five (503s, 429 with Retry-After: 1, connections dropped
// before and after applying) all arrive, each key applied exactly once,
// with the relay's default options (several requests in flight, the retry
// budget). BenchmarkDrainFlaky times the same drain.
func TestFlakyExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("drains 1,800 events on the real clock")
	}
	_, sum, rc, keys := drainWebhook(t, flakyEvents, webhooktest.Flaky(1))
	checkOnce(t, rc, keys)
	st := rc.Stats()
	if sum.Delivered != flakyEvents || sum.Rejected != 0 {
		t.Errorf("summary %+v: want %d delivered, none rejected", sum, flakyEvents)
	}
	// The faults must have bitten for the test to mean anything: failed
	// requests were retried, and changes whose reply was lost were sent again.
	if sum.Retried < flakyEvents/10 || st.Duplicates == 0 {
		t.Errorf("too gentle: %d retried, %d duplicate requests", sum.Retried, st.Duplicates)
	}
	t.Logf("%d requests, %d retried, %d duplicates", st.Requests, sum.Retried, st.Duplicates)
}

// BenchmarkDrainFlaky drains 1,800 events through an upstream failing one
// request in five (see webhooktest.Flaky), beside the same drain through a
// healthy upstream. The goal is a drain within 30 s.
func BenchmarkDrainFlaky(b *testing.B) {
	for _, tc := range []struct {
		name  string
		fault func(outbox.Event, int) webhooktest.Fault
	}{
		{"flaky", webhooktest.Flaky(1)},
		{"baseline_healthy", nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				took, _, rc, keys := drainWebhook(b, flakyEvents, tc.fault)
				checkOnce(b, rc, keys)
				total += took
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/drain")
			b.ReportMetric(30, "goal-s/drain")
			b.ReportMetric(float64(flakyEvents*b.N)/total.Seconds(), "events/s")
		})
	}
}
