package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tally-inventory/tally/drivers"
)

// Source is the runtime's state as the gauges see it. Snapshot is called
// once per scrape, on the scrape's goroutine, concurrently with the
// pipeline; it must honour ctx (Opts.SourceTimeout) and must not hold locks
// the pipeline waits for while it queries the store.
type Source interface {
	Snapshot(ctx context.Context) (Snapshot, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (Snapshot, error)

// Snapshot implements Source.
func (f SourceFunc) Snapshot(ctx context.Context) (Snapshot, error) { return f(ctx) }

// Snapshot is the state behind the gauges at one instant.
type Snapshot struct {
	Devices      []Device    // every configured device, whatever its state
	SessionsOpen int         // scanning sessions open now
	ItemsIndexed int         // items in the in-memory catalog index
	Inventories  []Inventory // open inventories only
	Sinks        []Sink      // every configured sink
}

// DeviceState is a device's supervision state.
type DeviceState string

const (
	Connected    DeviceState = "connected"
	Disconnected DeviceState = "disconnected"  // unplugged or not yet found; retried
	Failing      DeviceState = "failing"       // present but erroring; backing off
	NotRecording DeviceState = "not_recording" // reading, but the store cannot commit its reads
)

// DeviceStates lists the states, in label order.
var DeviceStates = []DeviceState{Connected, Disconnected, Failing, NotRecording}

// Device is one configured device.
type Device struct {
	Name  string       // from the configuration file: bounded
	Kind  drivers.Kind // scanner, rfid, manual
	State DeviceState
}

// Inventory is the progress of one open inventory.
type Inventory struct {
	ID       int64  // the store's id; the inventory label
	Name     string // shown through tally_inventory_info
	Seen     int    // in-scope items seen at least once
	Expected int    // in-scope items expected
}

// Sink is one upstream's outbox backlog.
type Sink struct {
	Name          string        // from the configuration file: bounded
	Pending, Dead int           // rows waiting to be sent; rows given up on
	OldestPending time.Duration // age of the oldest pending row; 0 if none
}

// stateCollector turns a Snapshot into const metrics. Its descriptors are
// built once, in newStateCollector.
type stateCollector struct {
	source  atomicSource
	timeout time.Duration
	version string

	devices, deviceState                *prometheus.Desc
	sessionsOpen, itemsIndexed          *prometheus.Desc
	invSeen, invExpected, invInfo       *prometheus.Desc
	outboxRows, outboxOldest            *prometheus.Desc
	sourceSuccess, buildInfo, startTime *prometheus.Desc

	buildInfoMetric, startTimeMetric prometheus.Metric
}

func newStateCollector(opts Opts, goVersion string) *stateCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	c := &stateCollector{
		timeout:      opts.SourceTimeout,
		version:      opts.Version,
		devices:      d("devices", "Configured devices per state (connected, disconnected, failing).", "state"),
		deviceState:  d("device_state", "1 for the device's current state, 0 for the others.", "device", "kind", "state"),
		sessionsOpen: d("sessions_open", "Scanning sessions open now.", nil...),
		itemsIndexed: d("items_indexed", "Catalog items in the in-memory index.", nil...),
		invSeen:      d("inventory_items_seen", "In-scope items seen at least once, per open inventory.", "inventory"),
		invExpected:  d("inventory_items_expected", "In-scope items expected, per open inventory.", "inventory"),
		invInfo:      d("inventory_info", "Always 1 per open inventory; carries its name.", "inventory", "name"),
		outboxRows:   d("outbox_rows", "Outbox rows not yet delivered, by sink and state (pending, dead).", "sink", "state"),
		outboxOldest: d("outbox_oldest_pending_age_seconds", "Age of the oldest pending outbox row, 0 if none is pending.", "sink"),
		sourceSuccess: d("scrape_source_success",
			"1 if the runtime's state was read for this scrape, 0 if reading it failed."),
		buildInfo: d("build_info", "Always 1; labelled with the build's version, revision and Go version.",
			"version", "revision", "goversion"),
		startTime: d("start_time_seconds", "Unix time the agent started."),
	}
	c.buildInfoMetric = prometheus.MustNewConstMetric(c.buildInfo, prometheus.GaugeValue, 1,
		opts.Version, opts.Revision, goVersion)
	c.startTimeMetric = prometheus.MustNewConstMetric(c.startTime, prometheus.GaugeValue,
		float64(opts.StartTime.UnixNano())/1e9)
	c.setSource(opts.Source)
	return c
}

func (c *stateCollector) setSource(s Source) { c.source.store(s) }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.devices, c.deviceState, c.sessionsOpen, c.itemsIndexed,
		c.invSeen, c.invExpected, c.invInfo, c.outboxRows, c.outboxOldest,
		c.sourceSuccess, c.buildInfo, c.startTime} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- c.buildInfoMetric
	ch <- c.startTimeMetric
	src := c.source.load()
	if src == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	snap, err := src.Snapshot(ctx)
	if err != nil {
		// The state gauges are left out rather than reported as zeros a
		// dashboard would believe; the 0 here is what alerts on.
		ch <- prometheus.MustNewConstMetric(c.sourceSuccess, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.sourceSuccess, prometheus.GaugeValue, 1)
	c.collectSnapshot(ch, &snap)
}

func (c *stateCollector) collectSnapshot(ch chan<- prometheus.Metric, s *Snapshot) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	// A repeated name would make the registry fail the whole scrape, so
	// the first occurrence wins.
	perState := make([]int, len(DeviceStates))
	seen := make(map[string]bool, len(s.Devices))
	for _, dev := range s.Devices {
		if seen[dev.Name] {
			continue
		}
		seen[dev.Name] = true
		for i, st := range DeviceStates {
			v := 0.0
			if dev.State == st {
				v = 1
				perState[i]++
			}
			gauge(c.deviceState, v, dev.Name, string(dev.Kind), string(st))
		}
	}
	for i, st := range DeviceStates {
		gauge(c.devices, float64(perState[i]), string(st))
	}

	gauge(c.sessionsOpen, float64(s.SessionsOpen))
	gauge(c.itemsIndexed, float64(s.ItemsIndexed))

	seenInv := make(map[int64]bool, len(s.Inventories))
	for _, inv := range s.Inventories {
		if seenInv[inv.ID] {
			continue
		}
		seenInv[inv.ID] = true
		id := strconv.FormatInt(inv.ID, 10)
		gauge(c.invSeen, float64(inv.Seen), id)
		gauge(c.invExpected, float64(inv.Expected), id)
		gauge(c.invInfo, 1, id, inv.Name)
	}

	clear(seen)
	for _, sk := range s.Sinks {
		if seen[sk.Name] {
			continue
		}
		seen[sk.Name] = true
		gauge(c.outboxRows, float64(sk.Pending), sk.Name, "pending")
		gauge(c.outboxRows, float64(sk.Dead), sk.Name, "dead")
		age := sk.OldestPending.Seconds()
		if sk.Pending == 0 || age < 0 {
			age = 0
		}
		gauge(c.outboxOldest, age, sk.Name)
	}
}
