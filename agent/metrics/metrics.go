// Package metrics exposes what the agent is doing as Prometheus metrics, on
// a listener of their own, for the district's Prometheus, alert rules and
// Grafana.
//
// It follows node_exporter's habits: a private registry (never the global
// default, so nothing a dependency registers leaks out), descriptors built
// once, the tally_ prefix, base units, _total on counters, and labels drawn
// only from small fixed sets — never a barcode or anything else a person can
// type. The pipeline reports events through Observe* methods that are
// allocation-free on the hot path; everything that is state (devices,
// sessions, progress, backlog) is read from a Source once per scrape, so a
// gauge can never drift from the store it describes.
//
// # Metrics
//
//	name                                     type       labels                        meaning
//	tally_reads_total                        counter    outcome, kind                 reads reconciled, by primary outcome and device kind
//	tally_reconcile_duration_seconds         histogram  -                             time to reconcile one read (index lookup + rules); 1 µs–10 ms buckets
//	tally_feedback_latency_seconds           histogram  -                             device bytes received → feedback given (commit included)
//	tally_commit_duration_seconds            histogram  -                             time of one group commit to the journal
//	tally_commit_batch_size                  histogram  -                             reads per group commit
//	tally_commit_errors_total                counter    reason                        reads the store could not commit: disk_full, locked, constraint, read_only, io, corrupt, other
//	tally_deliveries_total                   counter    sink, result                  outbox rows sent upstream: accepted, retried, rejected
//	tally_devices                            gauge      state                         configured devices per state: connected, disconnected, failing, not_recording
//	tally_device_state                       gauge      device, kind, state           1 for a device's current state, 0 for the others
//	tally_sessions_open                      gauge      -                             scanning sessions open now
//	tally_items_indexed                      gauge      -                             catalog items in the in-memory index
//	tally_inventory_items_seen               gauge      inventory                     in-scope items seen so far, per open inventory
//	tally_inventory_items_expected           gauge      inventory                     in-scope items expected, per open inventory
//	tally_inventory_info                     gauge      inventory, name               1 per open inventory; joins its name for dashboards
//	tally_outbox_rows                        gauge      sink, state                   outbox rows not delivered: pending, dead
//	tally_outbox_oldest_pending_age_seconds  gauge      sink                          age of the oldest pending row; 0 when none is pending
//	tally_scrape_source_success              gauge      -                             1 if the runtime's state was read for this scrape, else 0
//	tally_build_info                         gauge      version, revision, goversion  always 1
//	tally_start_time_seconds                 gauge      -                             Unix time the agent started
//
// The registry also carries the standard go_* and process_* collectors and
// promhttp_metric_handler_* for the listener itself.
//
// # Label bounds
//
// outcome is one of reconcile.Outcomes; kind is one of drivers.KindScanner,
// KindRFID, KindManual. A value outside those sets is counted as "other" so
// a bug can never grow the series count. device and sink are names from the
// configuration file. inventory is the store's id of an open inventory: a
// school has a handful open at once and a finalized inventory drops out of
// the Source, so its series go stale and disappear.
//
// # Wiring
//
//	m := metrics.New(metrics.Opts{Version: version, Sinks: sinkNames})
//	// … build the runtime, handing it m for ObserveRead and friends …
//	m.SetSource(rt) // rt implements Source
//	go m.Serve(ctx, cfg.Metrics.Listen, cfg.Metrics.WebConfigFile)
//
// tally-alerts.yml (alert rules, as AlertRules) and grafana-dashboard.json
// (as Dashboard) sit beside this file and are embedded; the tests check that
// every metric they use exists, run promtool on the rules, and query the
// dashboard's PromQL against a real Prometheus.
package metrics

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers"
)

const namespace = "tally"

// Other is the label value a read or delivery is counted under when its
// outcome, kind or result is outside the known set.
const Other = "other"

// Delivery results for ObserveDelivery.
const (
	Accepted = "accepted" // the upstream took it
	Retried  = "retried"  // a transient failure; it will be sent again
	Rejected = "rejected" // a permanent failure; the row went to the dead letters
)

// Results lists the delivery results, in label order.
var Results = []string{Accepted, Retried, Rejected}

// Kinds lists the device kinds used as the kind label.
var Kinds = []drivers.Kind{drivers.KindScanner, drivers.KindRFID, drivers.KindManual}

// Bucket layouts. Reconcile is an index lookup and a few rules: it lives in
// microseconds, so its buckets start at 1 µs. Feedback and commit include an
// fsync, so they start at 100 µs and stretch to a second to show a stalled
// SD card.
var (
	ReconcileBuckets = []float64{1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2}
	FeedbackBuckets  = []float64{1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1}
	CommitBuckets    = []float64{1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1}
	BatchBuckets     = prometheus.ExponentialBuckets(1, 2, 11) // 1 … 1024 reads
)

// Opts configures New. The zero value works; DefaultOpts documents the
// defaults.
type Opts struct {
	// Version and Revision label tally_build_info. Empty means the main
	// module's version from the build info, and "unknown".
	Version, Revision string
	// StartTime is reported as tally_start_time_seconds; zero means now.
	StartTime time.Time
	// Source is read once per scrape for the gauges; it may also be set
	// later with SetSource, since the runtime that implements it usually
	// needs the *Metrics first. Nil means no state gauges.
	Source Source
	// SourceTimeout bounds one Source.Snapshot call.
	SourceTimeout time.Duration
	// Sinks are the configured sink names; their delivery counters are
	// resolved up front and exported as 0 before the first delivery.
	Sinks []string
	// Logger receives the listener's messages. Nil discards them.
	Logger *slog.Logger
}

// DefaultOpts are the defaults New applies to zero fields.
var DefaultOpts = Opts{SourceTimeout: 5 * time.Second}

// Metrics holds the agent's metrics and their private registry. A nil
// *Metrics is valid: every Observe method is then a no-op, so the pipeline
// runs the same with metrics disabled.
type Metrics struct {
	reg    *prometheus.Registry
	logger *slog.Logger

	reads      *prometheus.CounterVec
	readsByKey []prometheus.Counter // [outcome*len(Kinds)+kind], pre-resolved
	outcomeIdx map[string]int

	reconcile  prometheus.Histogram
	feedback   prometheus.Histogram
	commit     prometheus.Histogram
	batch      prometheus.Histogram
	deliveries *prometheus.CounterVec
	commitErrs *prometheus.CounterVec
	sinkIdx    map[string]int
	delivByKey []prometheus.Counter // [sink*len(Results)+result], pre-resolved

	state *stateCollector

	mu        sync.Mutex // guards lazy creation of label values outside the pre-resolved sets
	otherSink map[[2]string]prometheus.Counter
}

var _ prometheus.Collector = (*Metrics)(nil)

// New builds the metrics and registers them, with the Go and process
// collectors, on a private registry.
func New(opts Opts) *Metrics {
	if opts.SourceTimeout <= 0 {
		opts.SourceTimeout = DefaultOpts.SourceTimeout
	}
	if opts.StartTime.IsZero() {
		opts.StartTime = time.Now()
	}
	if opts.Version == "" {
		opts.Version = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			opts.Version = bi.Main.Version
		}
	}
	if opts.Revision == "" {
		opts.Revision = "unknown"
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		logger: logger,
		reads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "reads_total",
			Help: "Reads reconciled, by primary outcome and device kind.",
		}, []string{"outcome", "kind"}),
		reconcile: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "reconcile_duration_seconds",
			Help:    "Time to reconcile one read against the index and the inventory's rules.",
			Buckets: ReconcileBuckets,
		}),
		feedback: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "feedback_latency_seconds",
			Help:    "Time from the device's bytes arriving to the operator's feedback, commit included.",
			Buckets: FeedbackBuckets,
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "commit_duration_seconds",
			Help:    "Time of one group commit to the journal.",
			Buckets: CommitBuckets,
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "commit_batch_size",
			Help:    "Reads per group commit.",
			Buckets: BatchBuckets,
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "deliveries_total",
			Help: "Outbox rows sent upstream, by sink and result (accepted, retried, rejected).",
		}, []string{"sink", "result"}),
		commitErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "commit_errors_total",
			Help: "Reads the store could not commit, by reason (disk_full, locked, constraint, read_only, io, corrupt, other).",
		}, []string{"reason"}),
		outcomeIdx: make(map[string]int, len(reconcile.Outcomes)),
		sinkIdx:    make(map[string]int, len(opts.Sinks)),
		otherSink:  make(map[[2]string]prometheus.Counter),
	}
	// Pre-resolve every known label combination: the hot path then is a
	// map lookup and an atomic add, and every series exists from the start,
	// so rate() sees the first read.
	m.readsByKey = make([]prometheus.Counter, 0, len(reconcile.Outcomes)*len(Kinds))
	for i, o := range reconcile.Outcomes {
		m.outcomeIdx[string(o)] = i
		for _, k := range Kinds {
			m.readsByKey = append(m.readsByKey, m.reads.WithLabelValues(string(o), string(k)))
		}
	}
	for _, r := range CommitErrorReasons {
		m.commitErrs.WithLabelValues(r)
	}
	for _, s := range opts.Sinks {
		if _, dup := m.sinkIdx[s]; dup {
			continue
		}
		m.sinkIdx[s] = len(m.delivByKey) / len(Results)
		for _, r := range Results {
			m.delivByKey = append(m.delivByKey, m.deliveries.WithLabelValues(s, r))
		}
	}
	m.state = newStateCollector(opts, runtime.Version())

	m.reg.MustRegister(m,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry is the private registry, for registering further collectors
// (such as a relay's own) on the same listener.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// SetSource sets (or replaces) the Source read at scrape time. Safe to call
// while the listener is serving.
func (m *Metrics) SetSource(s Source) { m.state.setSource(s) }

// Describe implements prometheus.Collector for the tally_ metrics.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.reads.Describe(ch)
	m.reconcile.Describe(ch)
	m.feedback.Describe(ch)
	m.commit.Describe(ch)
	m.batch.Describe(ch)
	m.deliveries.Describe(ch)
	m.commitErrs.Describe(ch)
	m.state.Describe(ch)
}

// Collect implements prometheus.Collector for the tally_ metrics.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.reads.Collect(ch)
	m.reconcile.Collect(ch)
	m.feedback.Collect(ch)
	m.commit.Collect(ch)
	m.batch.Collect(ch)
	m.deliveries.Collect(ch)
	m.commitErrs.Collect(ch)
	m.state.Collect(ch)
}

// ObserveRead counts one reconciled read by outcome (a reconcile.Outcome)
// and device kind (a drivers.Kind), and records how long reconcile took.
// It does not allocate.
func (m *Metrics) ObserveRead(outcome, kind string, reconcile time.Duration) {
	if m == nil {
		return
	}
	m.reconcile.Observe(reconcile.Seconds())
	o, ok := m.outcomeIdx[outcome]
	k := kindIndex(kind)
	if !ok || k < 0 {
		m.readsOther(outcome, kind, ok, k)
		return
	}
	m.readsByKey[o*len(Kinds)+k].Inc()
}

// readsOther is the slow path for a value outside the known sets.
func (m *Metrics) readsOther(outcome, kind string, outcomeOK bool, k int) {
	if !outcomeOK {
		outcome = Other
	}
	if k < 0 {
		kind = Other
	}
	m.reads.WithLabelValues(outcome, kind).Inc()
}

func kindIndex(kind string) int {
	switch drivers.Kind(kind) {
	case drivers.KindScanner:
		return 0
	case drivers.KindRFID:
		return 1
	case drivers.KindManual:
		return 2
	}
	return -1
}

// ObserveFeedback records the time from a read's bytes arriving from the
// device to the operator's feedback.
func (m *Metrics) ObserveFeedback(d time.Duration) {
	if m == nil {
		return
	}
	m.feedback.Observe(d.Seconds())
}

// CommitErrorReasons are the reason label's values; the store's
// ErrorReason maps an SQLite error onto them.
var CommitErrorReasons = []string{"disk_full", "locked", "constraint", "read_only", "io", "corrupt", Other}

// ObserveCommitError counts a read the store could not commit; a reason
// outside CommitErrorReasons counts as "other".
func (m *Metrics) ObserveCommitError(reason string) {
	if m == nil {
		return
	}
	for _, r := range CommitErrorReasons {
		if r == reason {
			m.commitErrs.WithLabelValues(r).Inc()
			return
		}
	}
	m.commitErrs.WithLabelValues(Other).Inc()
}

// ObserveCommit records one group commit of batch reads that took d.
func (m *Metrics) ObserveCommit(batch int, d time.Duration) {
	if m == nil {
		return
	}
	m.commit.Observe(d.Seconds())
	m.batch.Observe(float64(batch))
}

// ObserveDelivery counts n outbox rows sent to sink with result (Accepted,
// Retried or Rejected; anything else counts as Other). A sink not named in
// Opts.Sinks is still counted — sink names come from the configuration, so
// they stay bounded — but its first delivery allocates.
func (m *Metrics) ObserveDelivery(sink, result string, n int) {
	if m == nil || n <= 0 {
		return
	}
	r := resultIndex(result)
	if s, ok := m.sinkIdx[sink]; ok && r >= 0 {
		m.delivByKey[s*len(Results)+r].Add(float64(n))
		return
	}
	if r < 0 {
		result = Other
	}
	key := [2]string{sink, result}
	m.mu.Lock()
	c, ok := m.otherSink[key]
	if !ok {
		c = m.deliveries.WithLabelValues(sink, result)
		m.otherSink[key] = c
	}
	m.mu.Unlock()
	c.Add(float64(n))
}

func resultIndex(result string) int {
	switch result {
	case Accepted:
		return 0
	case Retried:
		return 1
	case Rejected:
		return 2
	}
	return -1
}

// sourceBox lets an interface value live in an atomic.Pointer.
type sourceBox struct{ Source }

type atomicSource struct{ p atomic.Pointer[sourceBox] }

func (a *atomicSource) load() Source {
	if b := a.p.Load(); b != nil {
		return b.Source
	}
	return nil
}

func (a *atomicSource) store(s Source) {
	if s == nil {
		a.p.Store(nil)
		return
	}
	a.p.Store(&sourceBox{s})
}
