package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var benchReads = [...]struct{ outcome, kind string }{
	{"ok", "scanner"}, {"duplicate", "rfid"}, {"out_of_order", "scanner"},
	{"unknown", "manual"}, {"wrong_location", "rfid"}, {"present", "rfid"},
}

// BenchmarkObserveRead is the hot path: pre-resolved counters, one map
// lookup, one switch, two atomic adds.
func BenchmarkObserveRead(b *testing.B) {
	m := New(Opts{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := benchReads[i%len(benchReads)]
		m.ObserveRead(r.outcome, r.kind, 3*time.Microsecond)
		i++
	}
}

// BenchmarkObserveReadBaseline is the obvious way: resolve the labels on
// every call with CounterVec.WithLabelValues.
func BenchmarkObserveReadBaseline(b *testing.B) {
	reads := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_reads_total", Help: "h"}, []string{"outcome", "kind"})
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tally_reconcile_duration_seconds", Help: "h", Buckets: ReconcileBuckets})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := benchReads[i%len(benchReads)]
		hist.Observe((3 * time.Microsecond).Seconds())
		reads.WithLabelValues(r.outcome, r.kind).Inc()
		i++
	}
}

// BenchmarkObserveReadParallel shows contention when several device
// goroutines report at once.
func BenchmarkObserveReadParallel(b *testing.B) {
	m := New(Opts{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			r := benchReads[i%len(benchReads)]
			m.ObserveRead(r.outcome, r.kind, 3*time.Microsecond)
			i++
		}
	})
}

func BenchmarkObserveCommit(b *testing.B) {
	m := New(Opts{})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveCommit(32, 2*time.Millisecond)
	}
}

// BenchmarkScrape gathers the whole registry with a fixed Source: the cost
// of one Prometheus scrape, Go and process collectors included.
func BenchmarkScrape(b *testing.B) {
	m := newFixed()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Registry().Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
