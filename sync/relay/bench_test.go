package relay_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/webhook"
)

// insertMany writes n outbox rows in transactions of 10,000.
func (e *env) insertMany(b *testing.B, n int) {
	for n > 0 {
		k := min(n, 10000)
		e.insert(b, k)
		n -= k
	}
}

func drainAll(b *testing.B, r *relay.Relay, want int) {
	got := 0
	for got < want {
		s, err := r.Once(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if s.Delivered == 0 {
			b.Fatalf("stuck after %d of %d: %+v", got, want, s)
		}
		got += s.Delivered
	}
}

// BenchmarkWebhookRawPOST is the baseline: signed POSTs to the loopback
// receiver, one per event, with no outbox and no relay.
func BenchmarkWebhookRawPOST(b *testing.B) {
	rc := receiver(b)
	client := &http.Client{Timeout: 10 * time.Second}
	ev := outbox.Event{ID: 1, Kind: outbox.Seen, InventoryID: 1, Barcode: "30000001",
		Data: outbox.Data{InventoryID: 1, Inventory: "Spring 2027", Barcode: "30000001", Date: "2027-03-01"}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev.Key = "inv1/" + string(rune('a'+i%26)) + "/seen"
		body, h, err := webhook.Encode(ev, secret, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, rc.URL(), bytes.NewReader(body))
		req.Header = h
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRelayWebhook: events drained from the outbox through the relay
// to the loopback webhook receiver, each marked done in SQLite.
func BenchmarkRelayWebhook(b *testing.B) {
	e := newEnv(b)
	rc := receiver(b)
	r := e.relay(b, []relay.Sink{hook(b, rc, 10*time.Second)}, relay.Opts{})
	e.insertMany(b, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	drainAll(b, r, b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkDrain100k is the time to drain a backlog of 100,000 events: to
// a sink that accepts at once (the relay and SQLite alone), and to the
// loopback webhook.
func BenchmarkDrain100k(b *testing.B) {
	const n = 100000
	for _, tc := range []struct {
		name string
		sink func(b *testing.B) relay.Sink
	}{
		{"nop", func(*testing.B) relay.Sink {
			return &memSink{name: "nop", verdict: func(outbox.Event) relay.Outcome { return relay.Outcome{} }}
		}},
		{"webhook", func(b *testing.B) relay.Sink { return hook(b, receiver(b), 10*time.Second) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e := newEnv(b)
				e.insertMany(b, n)
				r := e.relay(b, []relay.Sink{tc.sink(b)}, relay.Opts{})
				b.StartTimer()
				start := time.Now()
				drainAll(b, r, n)
				total += time.Since(start)
				b.StopTimer()
				e.close()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/100k")
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "events/s")
		})
	}
}
