package metrics

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/drivers"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// fixedSnapshot is the state behind the golden file.
var fixedSnapshot = Snapshot{
	Devices: []Device{
		{Name: "desk-scanner", Kind: drivers.KindScanner, State: Connected},
		{Name: "cart-wand", Kind: drivers.KindRFID, State: Failing},
		{Name: "spare-scanner", Kind: drivers.KindScanner, State: Disconnected},
		{Name: "desk-scanner", Kind: drivers.KindScanner, State: Failing}, // duplicate name: ignored
	},
	SessionsOpen: 2,
	ItemsIndexed: 41234,
	Inventories: []Inventory{
		{ID: 7, Name: "Spring 2027 — Fiction", Seen: 1200, Expected: 5400},
		{ID: 9, Name: "Carts", Seen: 30, Expected: 36},
	},
	Sinks: []Sink{
		{Name: "koha", Pending: 12, Dead: 1, OldestPending: 95 * time.Second},
		{Name: "export", Pending: 0, Dead: 0, OldestPending: time.Hour}, // nothing pending: age 0
	},
}

func fixedSource() Source {
	return SourceFunc(func(context.Context) (Snapshot, error) { return fixedSnapshot, nil })
}

func newFixed() *Metrics {
	return New(Opts{
		Version:   "1.2.3",
		Revision:  "abc123",
		StartTime: time.Unix(1767225600, 500e6),
		Source:    fixedSource(),
		Sinks:     []string{"koha"},
	})
}

// family gathers the registry and returns one family, or nil.
func family(t *testing.T, m *Metrics, name string) *dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf
		}
	}
	return nil
}

// metric finds the series of name with exactly these label values.
func metric(t *testing.T, m *Metrics, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	mf := family(t, m, name)
	if mf == nil {
		t.Fatalf("no family %s", name)
	}
next:
	for _, s := range mf.Metric {
		if len(s.Label) != len(labels) {
			continue
		}
		for _, lp := range s.Label {
			if labels[lp.GetName()] != lp.GetValue() {
				continue next
			}
		}
		return s
	}
	t.Fatalf("no series %s%v", name, labels)
	return nil
}

func TestEveryMetricMoves(t *testing.T) {
	m := New(Opts{Sinks: []string{"koha"}})
	reads := func() float64 {
		return metric(t, m, "tally_reads_total", map[string]string{"outcome": "wrong_location", "kind": "rfid"}).Counter.GetValue()
	}
	hist := func(name string) (uint64, float64) {
		h := metric(t, m, name, nil).Histogram
		return h.GetSampleCount(), h.GetSampleSum()
	}
	deliv := func(sink, result string) float64 {
		return metric(t, m, "tally_deliveries_total", map[string]string{"sink": sink, "result": result}).Counter.GetValue()
	}

	if got := reads(); got != 0 {
		t.Fatalf("reads before any read = %v, want 0 (pre-initialised series)", got)
	}
	m.ObserveRead(string(reconcile.WrongLocation), string(drivers.KindRFID), 3*time.Microsecond)
	m.ObserveRead(string(reconcile.WrongLocation), string(drivers.KindRFID), 5*time.Microsecond)
	if got := reads(); got != 2 {
		t.Errorf("reads = %v, want 2", got)
	}
	if n, sum := hist("tally_reconcile_duration_seconds"); n != 2 || !near(sum, 8e-6) {
		t.Errorf("reconcile histogram count %d sum %g, want 2 and 8e-6", n, sum)
	}

	m.ObserveFeedback(4 * time.Millisecond)
	if n, sum := hist("tally_feedback_latency_seconds"); n != 1 || !near(sum, 0.004) {
		t.Errorf("feedback histogram count %d sum %g, want 1 and 0.004", n, sum)
	}

	m.ObserveCommit(17, 2*time.Millisecond)
	if n, sum := hist("tally_commit_duration_seconds"); n != 1 || !near(sum, 0.002) {
		t.Errorf("commit histogram count %d sum %g, want 1 and 0.002", n, sum)
	}
	if n, sum := hist("tally_commit_batch_size"); n != 1 || sum != 17 {
		t.Errorf("batch histogram count %d sum %g, want 1 and 17", n, sum)
	}

	m.ObserveDelivery("koha", Accepted, 5)
	m.ObserveDelivery("koha", Rejected, 1)
	m.ObserveDelivery("koha", Retried, 0) // nothing sent: not counted, no panic
	m.ObserveDelivery("webhook", Retried, 3)
	for _, c := range []struct {
		sink, result string
		want         float64
	}{{"koha", Accepted, 5}, {"koha", Rejected, 1}, {"koha", Retried, 0}, {"webhook", Retried, 3}} {
		if got := deliv(c.sink, c.result); got != c.want {
			t.Errorf("deliveries{sink=%s,result=%s} = %v, want %v", c.sink, c.result, got, c.want)
		}
	}

	commitErr := func(reason string) float64 {
		return metric(t, m, "tally_commit_errors_total", map[string]string{"reason": reason}).Counter.GetValue()
	}
	if got := commitErr("disk_full"); got != 0 {
		t.Errorf("commit errors before any = %v, want 0 (pre-initialised series)", got)
	}
	m.ObserveCommitError("disk_full")
	m.ObserveCommitError("disk_full")
	m.ObserveCommitError("a reason nobody listed")
	if got, other := commitErr("disk_full"), commitErr(Other); got != 2 || other != 1 {
		t.Errorf("commit errors disk_full %v other %v, want 2 and 1", got, other)
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-12 && d > -1e-12 }

// A value outside the fixed label sets must not create a series of its own.
func TestUnknownLabelValuesCountAsOther(t *testing.T) {
	m := New(Opts{})
	m.ObserveRead("0012345678", "scanner", time.Microsecond) // a barcode passed by mistake
	m.ObserveRead("ok", "bluetooth", time.Microsecond)
	m.ObserveDelivery("koha", "maybe", 2)
	if v := metric(t, m, "tally_reads_total", map[string]string{"outcome": Other, "kind": "scanner"}).Counter.GetValue(); v != 1 {
		t.Errorf("reads{outcome=other,kind=scanner} = %v, want 1", v)
	}
	if v := metric(t, m, "tally_reads_total", map[string]string{"outcome": "ok", "kind": Other}).Counter.GetValue(); v != 1 {
		t.Errorf("reads{outcome=ok,kind=other} = %v, want 1", v)
	}
	if v := metric(t, m, "tally_deliveries_total", map[string]string{"sink": "koha", "result": Other}).Counter.GetValue(); v != 2 {
		t.Errorf("deliveries{result=other} = %v, want 2", v)
	}
	for _, s := range family(t, m, "tally_reads_total").Metric {
		for _, lp := range s.Label {
			if lp.GetValue() == "0012345678" || lp.GetValue() == "bluetooth" {
				t.Errorf("series with unbounded label value %q", lp.GetValue())
			}
		}
	}
	want := len(reconcile.Outcomes)*len(Kinds) + 2
	if n := len(family(t, m, "tally_reads_total").Metric); n != want {
		t.Errorf("%d reads series, want %d", n, want)
	}
}

func TestNilMetricsIsNoop(t *testing.T) {
	var m *Metrics
	m.ObserveRead("ok", "scanner", time.Microsecond)
	m.ObserveFeedback(time.Millisecond)
	m.ObserveCommit(3, time.Millisecond)
	m.ObserveDelivery("koha", Accepted, 1)
}

func TestObserveDoesNotAllocate(t *testing.T) {
	m := New(Opts{Sinks: []string{"koha"}})
	for name, f := range map[string]func(){
		"ObserveRead":     func() { m.ObserveRead("out_of_order", "rfid", 2*time.Microsecond) },
		"ObserveFeedback": func() { m.ObserveFeedback(3 * time.Millisecond) },
		"ObserveCommit":   func() { m.ObserveCommit(12, time.Millisecond) },
		"ObserveDelivery": func() { m.ObserveDelivery("koha", Accepted, 4) },
	} {
		if a := testing.AllocsPerRun(1000, f); a != 0 {
			t.Errorf("%s: %v allocs per call, want 0", name, a)
		}
	}
}

func TestLint(t *testing.T) {
	m := newFixed()
	m.ObserveRead("ok", "scanner", time.Microsecond)
	m.ObserveFeedback(time.Millisecond)
	m.ObserveCommit(4, time.Millisecond)
	m.ObserveDelivery("koha", Accepted, 1)
	problems, err := testutil.CollectAndLint(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
	// The whole registry, Go and process collectors included.
	problems, err = testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

// goldenNames are the families the golden file pins down: all tally_
// metrics but build info, whose goversion follows the toolchain.
var goldenNames = []string{
	"tally_reads_total", "tally_reconcile_duration_seconds", "tally_feedback_latency_seconds",
	"tally_commit_duration_seconds", "tally_commit_batch_size", "tally_deliveries_total",
	"tally_devices", "tally_device_state", "tally_sessions_open", "tally_items_indexed",
	"tally_inventory_items_seen", "tally_inventory_items_expected", "tally_inventory_info",
	"tally_outbox_rows", "tally_outbox_oldest_pending_age_seconds",
	"tally_scrape_source_success", "tally_start_time_seconds",
}

func TestGoldenExposition(t *testing.T) {
	m := newFixed()
	m.ObserveRead("ok", "scanner", 3*time.Microsecond)
	m.ObserveRead("ok", "scanner", 40*time.Microsecond)
	m.ObserveRead("duplicate", "rfid", 2*time.Microsecond)
	m.ObserveFeedback(3 * time.Millisecond)
	m.ObserveCommit(2, 800*time.Microsecond)
	m.ObserveDelivery("koha", Accepted, 10)
	m.ObserveDelivery("koha", Retried, 2)

	golden := filepath.Join("testdata", "exposition.golden.prom")
	if *update {
		var buf bytes.Buffer
		mfs, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			for _, n := range goldenNames {
				if mf.GetName() == n {
					if err := enc.Encode(mf); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenExposition -update to create it)", err)
	}
	if err := testutil.CollectAndCompare(m, bytes.NewReader(want), goldenNames...); err != nil {
		t.Error(err)
	}
}

func TestBuildInfo(t *testing.T) {
	m := newFixed()
	want := `# HELP tally_build_info Always 1; labelled with the build's version, revision and Go version.
# TYPE tally_build_info gauge
tally_build_info{goversion="` + runtime.Version() + `",revision="abc123",version="1.2.3"} 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want), "tally_build_info"); err != nil {
		t.Error(err)
	}
	// Defaults: never an empty label value.
	d := New(Opts{})
	for _, lp := range family(t, d, "tally_build_info").Metric[0].Label {
		if lp.GetValue() == "" {
			t.Errorf("build info label %s is empty", lp.GetName())
		}
	}
}

func TestStartTimeDefaultsToNow(t *testing.T) {
	before := time.Now()
	m := New(Opts{})
	v := metric(t, m, "tally_start_time_seconds", nil).Gauge.GetValue()
	if v < float64(before.Unix()) || v > float64(time.Now().Unix()+1) {
		t.Errorf("start time %v not between %v and now", v, before.Unix())
	}
}

func TestSourceErrorDropsStateGauges(t *testing.T) {
	m := New(Opts{Source: SourceFunc(func(context.Context) (Snapshot, error) {
		return Snapshot{}, errors.New("database is locked")
	})})
	if v := metric(t, m, "tally_scrape_source_success", nil).Gauge.GetValue(); v != 0 {
		t.Errorf("source success = %v, want 0", v)
	}
	for _, n := range []string{"tally_devices", "tally_sessions_open", "tally_outbox_rows"} {
		if family(t, m, n) != nil {
			t.Errorf("%s exported although the source failed", n)
		}
	}
}

func TestSourceGetsDeadline(t *testing.T) {
	var had bool
	m := New(Opts{SourceTimeout: time.Minute, Source: SourceFunc(func(ctx context.Context) (Snapshot, error) {
		_, had = ctx.Deadline()
		return Snapshot{}, nil
	})})
	family(t, m, "tally_sessions_open")
	if !had {
		t.Error("Snapshot called without a deadline")
	}
}

func TestSetSource(t *testing.T) {
	m := New(Opts{})
	if family(t, m, "tally_sessions_open") != nil {
		t.Fatal("state gauges without a source")
	}
	m.SetSource(fixedSource())
	if v := metric(t, m, "tally_sessions_open", nil).Gauge.GetValue(); v != 2 {
		t.Errorf("sessions open = %v, want 2", v)
	}
	m.SetSource(nil)
	if family(t, m, "tally_sessions_open") != nil {
		t.Error("state gauges after SetSource(nil)")
	}
}

// The gauges must follow the source from one scrape to the next.
func TestStateGaugesFollowSource(t *testing.T) {
	snap := Snapshot{Devices: []Device{{Name: "wand", Kind: drivers.KindRFID, State: Connected}}}
	m := New(Opts{Source: SourceFunc(func(context.Context) (Snapshot, error) { return snap, nil })})
	state := func(st DeviceState) float64 {
		return metric(t, m, "tally_device_state", map[string]string{"device": "wand", "kind": "rfid", "state": string(st)}).Gauge.GetValue()
	}
	count := func(st DeviceState) float64 {
		return metric(t, m, "tally_devices", map[string]string{"state": string(st)}).Gauge.GetValue()
	}
	if state(Connected) != 1 || state(Failing) != 0 || count(Connected) != 1 || count(Failing) != 0 {
		t.Fatal("connected wand not reported as connected")
	}
	snap.Devices[0].State = Failing
	if state(Connected) != 0 || state(Failing) != 1 || count(Connected) != 0 || count(Failing) != 1 {
		t.Error("failing wand not reported as failing")
	}
}

var _ prometheus.Collector = (*stateCollector)(nil)
