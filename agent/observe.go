package agent

import (
	"context"
	"time"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/metrics"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/sync/relay"
)

// newMetrics builds the metrics: commits are counted as the writer makes
// them, reads and feedback by the agent's hooks, the rest is read at each
// scrape (snapshot).
func (a *Agent) newMetrics() *metrics.Metrics {
	m := metrics.New(metrics.Opts{Version: a.opts.Version, Revision: a.opts.Revision, StartTime: time.Now()})
	a.e.Writer().OnBatch = func(n int, d time.Duration, err error) { m.ObserveCommit(n, d) }
	m.SetSource(metrics.SourceFunc(a.snapshot))
	return m
}

// snapshot is the state the metrics report at each scrape.
func (a *Agent) snapshot(ctx context.Context) (metrics.Snapshot, error) {
	var s metrics.Snapshot
	for _, d := range a.devs.Status() {
		st := metrics.Disconnected
		switch drivers.State(d.State) {
		case drivers.StateConnected:
			st = metrics.Connected
		case drivers.StateFailing:
			st = metrics.Failing
		case engine.StateNotRecording:
			st = metrics.NotRecording
		}
		s.Devices = append(s.Devices, metrics.Device{Name: d.Name, Kind: d.Kind, State: st})
	}
	s.ItemsIndexed = a.e.Index.Len()
	sess, err := a.db.Sessions(ctx, 0)
	if err != nil {
		return s, err
	}
	for _, x := range sess {
		if x.State == store.SessionOpen {
			s.SessionsOpen++
		}
	}
	prog, err := a.e.Progress(ctx)
	if err != nil {
		return s, err
	}
	for _, p := range prog {
		s.Inventories = append(s.Inventories, metrics.Inventory{ID: p.ID, Name: p.Name, Seen: p.Seen, Expected: p.Expected})
	}
	if a.relay != nil {
		st, err := a.relay.Status(ctx)
		if err != nil {
			return s, err
		}
		for _, k := range st.Sinks {
			s.Sinks = append(s.Sinks, metrics.Sink{Name: k.Sink, Pending: k.Pending, Dead: k.Dead, OldestPending: k.OldestAge})
		}
	}
	return s, nil
}

// newRelay builds the relay that drains the outbox to the configured
// sinks; nil when none is configured.
func (a *Agent) newRelay(ctx context.Context) (*relay.Relay, error) {
	sinks, err := Sinks(a.cfg.Sync, a.e.Index.Get)
	if err != nil || len(sinks) == 0 {
		return nil, err
	}
	o := relay.DefaultOpts
	if iv := time.Duration(a.cfg.Sync.Interval); iv > 0 {
		o.PollInterval = iv
	}
	if a.metrics != nil {
		o.Observer = relayObserver{a.metrics}
	}
	return relay.New(ctx, store.Outbox{DB: a.db, W: a.e.Writer()}, sinks, o)
}

// relayObserver counts deliveries in the metrics.
type relayObserver struct{ m *metrics.Metrics }

func (o relayObserver) Delivered(sink string, n int)            { o.m.ObserveDelivery(sink, metrics.Accepted, n) }
func (o relayObserver) Retried(sink string, n int)              { o.m.ObserveDelivery(sink, metrics.Retried, n) }
func (o relayObserver) Rejected(sink string, n int)             { o.m.ObserveDelivery(sink, metrics.Rejected, n) }
func (o relayObserver) Backlog(string, int, int, time.Duration) {}
