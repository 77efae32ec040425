package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/metrics"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/feedback"
	"github.com/tally-inventory/tally/sync/relay"
)

// runtime is one running agent: the engine, its devices, the live event
// hub, feedback, and the listeners. `tally run` builds it from a config
// file, `tally demo` from the embedded default.
type runtime struct {
	cfg     *agent.Config
	db      *store.DB
	e       *engine.Engine
	hub     *engine.Hub
	devs    *engine.Devices
	signals feedback.Sink
	log     io.Writer
	// extra listeners and loops (web UI, metrics, relay) started by serve.
	loops []func(ctx context.Context) error
	// onResult hooks beyond the hub (metrics).
	onResult []func(*engine.Result)
	// onFeedback hooks (metrics: read-to-feedback latency).
	onFeedback []func(rd drivers.Read, res *engine.Result, err error)
	verbose    bool
	jsonOut    bool // one JSON line per committed read on stdout
	jsonMu     sync.Mutex
	metrics    *metrics.Metrics
	relay      *relay.Relay
	uiControls engine.Controls // the UI's buttons, for control barcodes (control.go)
}

// newRuntime opens the store and the engine.
func newRuntime(ctx context.Context, cfg *agent.Config, log io.Writer) (*runtime, error) {
	db, err := store.OpenWith(ctx, cfg.Database, store.Opts{Mode: store.Write, Holder: store.Holder{Agent: true}})
	if err != nil {
		return nil, err
	}
	e, err := engine.NewEngine(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	bo, err := cfg.Barcodes.Opts()
	if err != nil {
		e.Close()
		db.Close()
		return nil, err
	}
	e.Barcode = bo
	rt := &runtime{cfg: cfg, db: db, e: e, hub: engine.NewHub(), log: log}
	e.OnResult = func(r *engine.Result) {
		rt.hub.Publish(r)
		for _, f := range rt.onResult {
			f(r)
		}
	}
	fails := &failLog{w: log, every: 10 * time.Second}
	e.OnCommitError = func(rd drivers.Read, reason string, err error) {
		rt.metrics.ObserveCommitError(reason)
		fails.log(time.Now(), reason, err)
		// Device reads get the error signal through Feedback; a read typed
		// into the UI gets it here.
		if rd.Kind == drivers.KindManual && rt.signals != nil {
			_ = rt.signals.Signal(context.Background(), feedback.Error)
		}
	}
	e.OnCatalog = func(changed, removed int) {
		fmt.Fprintf(rt.log, "tally: catalog changed in the store (an import): %d items reloaded, %d removed; %d items indexed\n", changed, removed, e.Index.Len())
	}
	rt.loops = append(rt.loops, func(ctx context.Context) error {
		return e.WatchCatalog(ctx, 2*time.Second, func(err error) { fmt.Fprintf(rt.log, "tally: %v\n", err) })
	})
	return rt, nil
}

// setDevices prepares the devices (not started yet).
func (rt *runtime) setDevices(specs []engine.DeviceSpec) error {
	d, err := engine.NewDevices(rt.e, specs, time.Duration(rt.cfg.DedupeWindow), rt)
	if err != nil {
		return err
	}
	d.Logf = func(format string, args ...any) { fmt.Fprintf(rt.log, "tally: "+format+"\n", args...) }
	rt.devs = d
	d.Control = rt.newController()
	return nil
}

// failLog logs reads the store refused: the first at once, then at most
// one line per interval saying how many more there were, so a full disk
// cannot flood the journal but is never silent.
type failLog struct {
	mu         sync.Mutex
	w          io.Writer
	every      time.Duration
	last       time.Time
	suppressed map[string]int
}

func (l *failLog) log(now time.Time, reason string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		if l.suppressed == nil {
			l.suppressed = map[string]int{}
		}
		l.suppressed[reason]++
		return
	}
	more := ""
	if n := len(l.suppressed); n > 0 {
		reasons := make([]string, 0, n)
		for r, c := range l.suppressed {
			reasons = append(reasons, fmt.Sprintf("%d %s", c, r))
		}
		sort.Strings(reasons)
		more = fmt.Sprintf(" (and since the last message: %s)", strings.Join(reasons, ", "))
		l.suppressed = nil
	}
	l.last = now
	fmt.Fprintf(l.w, "tally: a read was not recorded (%s): %v%s\n", reason, err, more)
}

// Feedback implements engine.Feedback: the buzzer and LEDs (and anything
// else hung on signals) hear every read's fate, after commit.
func (rt *runtime) Feedback(device string, rd drivers.Read, res *engine.Result, err error) {
	outcome := feedback.Error
	if err == nil && res != nil {
		outcome = res.Signal()
	}
	if rt.signals != nil {
		_ = rt.signals.Signal(context.Background(), outcome)
	}
	for _, f := range rt.onFeedback {
		f(rd, res, err)
	}
	if rt.jsonOut && err == nil && res != nil {
		rt.jsonMu.Lock()
		json.NewEncoder(os.Stdout).Encode(struct {
			Device string `json:"device"`
			scanLine
		}{device, scanJSON(res)})
		rt.jsonMu.Unlock()
	}
	if rt.verbose {
		switch {
		case err != nil:
			fmt.Fprintf(rt.log, "%-12s %-20s %s — not stored: %v\n", device, "ERROR", rd.Code, err)
		default:
			fmt.Fprintf(rt.log, "%-12s %s\n", device, scanText(res))
		}
	}
}

// gpioFeedback opens the configured pins through periph.io; nil when no
// pin is configured.
func gpioFeedback(fc agent.FeedbackConfig) (*feedback.Dev, error) {
	if fc.Buzzer == "" && fc.Green == "" && fc.Red == "" {
		return nil, nil
	}
	pins, err := gpioPins(fc)
	if err != nil {
		return nil, err
	}
	o := feedback.DefaultOpts
	o.PWM = fc.PWM
	return feedback.New(pins[0], pins[1], pins[2], o)
}

// gpioPins finds the configured buzzer, green and red pins (nil for one not
// configured) without touching them; `tally config check` uses it too.
func gpioPins(fc agent.FeedbackConfig) ([3]gpio.PinOut, error) {
	var pins [3]gpio.PinOut
	if _, err := host.Init(); err != nil {
		return pins, fmt.Errorf("feedback: open GPIO: %w", err)
	}
	var errs []error
	for i, name := range []string{fc.Buzzer, fc.Green, fc.Red} {
		if name == "" {
			continue
		}
		p := gpioreg.ByName(name)
		if p == nil {
			key := []string{"feedback.buzzer", "feedback.green", "feedback.red"}[i]
			errs = append(errs, fmt.Errorf("%s: no GPIO pin named %q on this machine (e.g. GPIO18)", key, name))
			continue
		}
		pins[i] = p
	}
	return pins, errors.Join(errs...)
}

// serve runs everything until ctx ends, then drains: devices stop and their
// decoded reads are committed, listeners shut down, the writer flushes —
// within drainTimeout.
func (rt *runtime) serve(ctx context.Context, drainTimeout time.Duration) error {
	var wg sync.WaitGroup
	errc := make(chan error, len(rt.loops)+1)
	loopCtx, cancelLoops := context.WithCancel(context.WithoutCancel(ctx))
	for _, l := range rt.loops {
		wg.Add(1)
		go func(l func(context.Context) error) {
			defer wg.Done()
			if err := l(loopCtx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}(l)
	}
	devDone := make(chan struct{})
	devCtx, cancelDevs := context.WithCancel(ctx)
	go func() {
		if rt.devs != nil {
			rt.devs.Run(devCtx)
		}
		close(devDone)
	}()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	// Drain: devices first (their reads are committed before they stop),
	// then the loops, then the writer.
	cancelDevs()
	timeout := time.After(drainTimeout)
	select {
	case <-devDone:
	case <-timeout:
		fmt.Fprintln(rt.log, "tally: devices did not stop in time")
	}
	cancelLoops()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-timeout:
	}
	if fd, ok := rt.signals.(*feedback.Dev); ok && fd != nil {
		fd.Stop()
	}
	return runErr
}

// close flushes the writer and closes the store.
func (rt *runtime) close() error {
	return errors.Join(rt.e.Close(), rt.db.Close())
}

// listen opens a TCP listener, trying the next ports when addr's is taken
// and fallback is set (the demo must start on a busy laptop).
func listen(addr string, fallback int) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err == nil || fallback == 0 {
		return l, err
	}
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	for i := 1; i <= fallback; i++ {
		if l, err2 := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(p+i))); err2 == nil {
			return l, nil
		}
	}
	return nil, err
}

// listeners starts the UI and metrics listeners (trying up to fallback
// further ports when one is taken) and returns their URLs; "" for one that
// is turned off.
func (rt *runtime) listeners(ctx context.Context, fallback int) (ui, metricsURL string, err error) {
	if rt.cfg.Metrics.Listen != "" {
		l, err := listen(rt.cfg.Metrics.Listen, fallback)
		if err != nil {
			return "", "", fmt.Errorf("metrics listener: %w", err)
		}
		m := rt.newMetrics()
		rt.metrics = m
		web := rt.cfg.Metrics.WebConfig
		rt.loops = append(rt.loops, func(ctx context.Context) error { return m.ServeListener(ctx, l, web) })
		scheme := "http"
		if web != "" {
			scheme = "https" // the web config usually turns TLS on
		}
		metricsURL = scheme + "://" + l.Addr().String() + "/metrics"
	}
	ui, err = rt.startUI(ctx, fallback)
	if err == nil && ui != "" {
		// A CLI command refused the database names the UI to use instead.
		if err := rt.db.SetUI(ui); err != nil {
			fmt.Fprintf(rt.log, "tally: %v\n", err)
		}
	}
	return ui, metricsURL, err
}

// newMetrics builds the metrics and hangs them on the pipeline.
func (rt *runtime) newMetrics() *metrics.Metrics {
	var sinks []string
	m := metrics.New(metrics.Opts{Version: version, Revision: revision, StartTime: time.Now(), Sinks: sinks})
	rt.e.Writer().OnBatch = func(n int, d time.Duration, err error) { m.ObserveCommit(n, d) }
	rt.onResult = append(rt.onResult, func(r *engine.Result) {
		kind := string(r.Kind)
		if kind == "" {
			kind = string(drivers.KindManual)
		}
		m.ObserveRead(string(r.Outcome), kind, r.Decide)
	})
	rt.onFeedback = append(rt.onFeedback, func(rd drivers.Read, res *engine.Result, err error) {
		if !rd.Time.IsZero() {
			m.ObserveFeedback(time.Since(rd.Time))
		}
	})
	m.SetSource(metrics.SourceFunc(rt.snapshot))
	return m
}

// snapshot is the state the metrics report at each scrape.
func (rt *runtime) snapshot(ctx context.Context) (metrics.Snapshot, error) {
	var s metrics.Snapshot
	if rt.devs != nil {
		for _, d := range rt.devs.Status() {
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
	}
	s.ItemsIndexed = rt.e.Index.Len()
	sess, err := rt.db.Sessions(ctx, 0)
	if err != nil {
		return s, err
	}
	for _, x := range sess {
		if x.State == "open" {
			s.SessionsOpen++
		}
	}
	prog, err := rt.e.Progress(ctx)
	if err != nil {
		return s, err
	}
	for _, p := range prog {
		s.Inventories = append(s.Inventories, metrics.Inventory{ID: p.ID, Name: p.Name, Seen: p.Seen, Expected: p.Expected})
	}
	if rt.relay != nil {
		st, err := rt.relay.Status(ctx)
		if err != nil {
			return s, err
		}
		for _, k := range st.Sinks {
			s.Sinks = append(s.Sinks, metrics.Sink{Name: k.Sink, Pending: k.Pending, Dead: k.Dead, OldestPending: k.OldestAge})
		}
	}
	return s, nil
}

// startRelay drains the outbox to the configured sinks in the background.
func (rt *runtime) startRelay(ctx context.Context) (*relay.Relay, error) {
	sinks, err := agent.Sinks(rt.cfg.Sync, rt.e.Index.Get)
	if err != nil || len(sinks) == 0 {
		return nil, err
	}
	o := relay.DefaultOpts
	if iv := time.Duration(rt.cfg.Sync.Interval); iv > 0 {
		o.PollInterval = iv
	}
	if rt.metrics != nil {
		o.Observer = relayObserver{rt.metrics}
	}
	r, err := relay.New(ctx, store.Outbox{DB: rt.db, W: rt.e.Writer()}, sinks, o)
	if err != nil {
		return nil, err
	}
	rt.relay = r
	rt.loops = append(rt.loops, r.Run)
	return r, nil
}

// relayObserver counts deliveries in the metrics.
type relayObserver struct{ m *metrics.Metrics }

func (o relayObserver) Delivered(sink string, n int)            { o.m.ObserveDelivery(sink, metrics.Accepted, n) }
func (o relayObserver) Retried(sink string, n int)              { o.m.ObserveDelivery(sink, metrics.Retried, n) }
func (o relayObserver) Rejected(sink string, n int)             { o.m.ObserveDelivery(sink, metrics.Rejected, n) }
func (o relayObserver) Backlog(string, int, int, time.Duration) {}

// startUI starts the web UI when it is built in; see web.go.
func (rt *runtime) startUI(ctx context.Context, fallback int) (string, error) {
	if rt.cfg.Listen == "" || startWeb == nil {
		return "", nil
	}
	return startWeb(ctx, rt, fallback)
}

// startWeb is set by web.go once the UI is wired in.
var startWeb func(ctx context.Context, rt *runtime, fallback int) (string, error)
