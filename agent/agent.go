package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/metrics"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/feedback"
	"github.com/tally-inventory/tally/sync/relay"
)

// Opts shape an Agent beyond its configuration. The zero value runs what
// the configuration says.
type Opts struct {
	// Log hears the agent's log lines: device state changes, refused
	// reads, catalog reloads, warnings. nil is os.Stderr.
	Log io.Writer

	// Devices replaces the configured devices (cfg.Devices): the demo's
	// simulators, a test's fakes. nil opens cfg.Devices through the
	// reader-protocol factories.
	Devices []engine.DeviceSpec

	// Feedback plays each read's and each control barcode's pattern. nil
	// drives the GPIO pins of cfg.Feedback when Start runs (none
	// configured: nothing plays).
	Feedback feedback.Sink

	// OnRead is told each device read's fate after the agent's own
	// feedback and metrics have heard it: the result once committed, or
	// the error that kept the read out. It is for printing (`tally run
	// -v`, `tally demo --json`); nil prints nothing.
	OnRead func(device string, rd drivers.Read, res *engine.Result, err error)
	// OnControl is told the pattern of each control barcode scanned, for
	// printing.
	OnControl func(device, pattern string)

	// PortFallback is how many further ports a listener tries when its own
	// is taken (the demo must start on a busy laptop); 0 fails at once.
	PortFallback int
	// DrainTimeout bounds the drain when Run ends; 0 is DefaultDrainTimeout.
	DrainTimeout time.Duration
	// Version and Revision label the metrics' build info.
	Version, Revision string
}

// DefaultDrainTimeout is how long Run waits, once its context ends, for
// devices to commit the reads they decoded and listeners to close.
const DefaultDrainTimeout = 5 * time.Second

// Agent is one running tally: the store, the read engine, the devices
// feeding it, feedback, metrics, the live UI and the relay to the
// upstreams. New opens the store; Start opens the listeners and starts
// everything; Run waits and drains; Close closes the store.
type Agent struct {
	cfg  *Config
	opts Opts
	log  io.Writer

	db *store.DB
	e  *engine.Engine
	// stopMemory ends the memory limit's governing (see governMemory).
	stopMemory func()
	hub        *engine.Hub
	devs       *engine.Devices
	metrics    *metrics.Metrics // nil without a metrics listener
	fails      *failLog

	// Set by Start, before anything it starts runs.
	signals    feedback.Sink
	gpio       *feedback.Dev
	relay      *relay.Relay
	ui         engine.Controls // the UI's buttons, for control barcodes
	uiURL      string
	metricsURL string

	mu        sync.Mutex
	started   bool
	errc      chan error
	stopDevs  context.CancelFunc
	stopLoops context.CancelFunc
	devsDone  chan struct{}
	loopsDone chan struct{}
	drainOnce sync.Once
	closeOnce sync.Once
	closeErr  error
}

// New checks the configuration, opens the store and the engine, and
// prepares the devices, without starting anything: no listener is opened,
// no device is touched, no pin driven.
func New(ctx context.Context, cfg *Config, opts Opts) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bo, err := cfg.Barcodes.Opts()
	if err != nil {
		return nil, err
	}
	specs := opts.Devices
	if specs == nil && len(cfg.Devices) > 0 {
		profiles, err := Profiles(cfg)
		if err != nil {
			return nil, err
		}
		if specs, err = DeviceSpecs(cfg, profiles); err != nil {
			return nil, err
		}
	}
	a := &Agent{cfg: cfg, opts: opts, log: opts.Log, hub: engine.NewHub(), signals: opts.Feedback}
	if a.log == nil {
		a.log = os.Stderr
	}
	a.fails = &failLog{w: a.log, every: 10 * time.Second}
	db, err := store.OpenWith(ctx, cfg.Database, store.Opts{Mode: store.Write, Holder: store.Holder{Agent: true},
		OnBackgroundError: func(err error) { a.logf("the store's background work failed: %v", err) }})
	if err != nil {
		return nil, err
	}
	e, err := engine.NewEngine(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	e.Barcode = bo
	a.db, a.e = db, e
	a.stopMemory = governMemory(cfg.MemoryLimitMB) // the index is loaded: what is live is known
	if cfg.Metrics.Listen != "" {
		a.metrics = a.newMetrics()
	}
	e.OnResult = a.result
	e.OnCommitError = a.commitError
	e.OnCatalog = func(changed, removed int) {
		a.logf("catalog changed in the store (an import): %d items reloaded, %d removed; %d items indexed", changed, removed, e.Index.Len())
	}
	d, err := engine.NewDevices(e, specs, time.Duration(cfg.DedupeWindow), readFeedback{a})
	if err != nil {
		a.Close()
		return nil, err
	}
	d.Logf = a.logf
	d.Control = a.newController(d)
	a.devs = d
	return a, nil
}

// Engine is the read engine: its store (Engine.DB) and catalog index
// (Engine.Index) are the agent's.
func (a *Agent) Engine() *engine.Engine { return a.e }

// Devices are the agent's devices: their state, and the session each is
// bound to.
func (a *Agent) Devices() *engine.Devices { return a.devs }

// Hub tells subscribers of each committed read.
func (a *Agent) Hub() *engine.Hub { return a.hub }

// UIURL is where the live UI answers once Start has run; "" when it is
// turned off.
func (a *Agent) UIURL() string { return a.uiURL }

// MetricsURL is where the metrics answer once Start has run; "" when they
// are turned off.
func (a *Agent) MetricsURL() string { return a.metricsURL }

func (a *Agent) logf(format string, args ...any) {
	fmt.Fprintf(a.log, "tally: "+format+"\n", args...)
}

// Start opens the feedback pins, the metrics and UI listeners and the
// relay, then starts the devices and every loop, and returns: the
// addresses are known, reads flow. Run waits for the end.
func (a *Agent) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return errors.New("agent: already started")
	}
	var loops []func(context.Context) error
	var undo []func()
	fail := func(err error) error {
		for _, f := range undo {
			f()
		}
		return err
	}
	if a.signals == nil {
		fb, err := GPIOFeedback(a.cfg.Feedback)
		if err != nil {
			return err
		}
		if fb != nil {
			a.signals, a.gpio = fb, fb
			undo = append(undo, func() { fb.Stop() })
		}
	}
	if a.metrics != nil {
		l, err := listen(a.cfg.Metrics.Listen, a.opts.PortFallback)
		if err != nil {
			return fail(fmt.Errorf("metrics listener: %w", err))
		}
		undo = append(undo, func() { l.Close() })
		m, wc := a.metrics, a.cfg.Metrics.WebConfig
		loops = append(loops, func(ctx context.Context) error { return m.ServeListener(ctx, l, wc) })
		scheme := "http"
		if wc != "" {
			scheme = "https" // the web config usually turns TLS on
		}
		a.metricsURL = scheme + "://" + l.Addr().String() + "/metrics"
	}
	if a.cfg.Listen != "" {
		serve, closeUI, err := a.startUI()
		if err != nil {
			return fail(err)
		}
		undo = append(undo, closeUI)
		loops = append(loops, serve)
		// A CLI command refused the database names the UI to use instead.
		if err := a.db.SetUI(a.uiURL); err != nil {
			a.logf("%v", err)
		}
	}
	r, err := a.newRelay(ctx)
	if err != nil {
		return fail(err)
	}
	if r != nil {
		a.relay = r
		a.e.OnOutbox = r.Kick // a committed read's rows go now, not at the next poll
		loops = append(loops, r.Run)
	}
	loops = append(loops, func(ctx context.Context) error {
		return a.e.WatchCatalog(ctx, 2*time.Second, func(err error) { a.logf("%v", err) })
	})

	a.started = true
	a.errc = make(chan error, len(loops))
	// Loops outlive ctx until the devices have drained: a read decoded
	// before the end still reaches the UI and the relay.
	loopCtx, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	devCtx, stopDevs := context.WithCancel(context.WithoutCancel(ctx))
	a.stopLoops, a.stopDevs = stopLoops, stopDevs
	a.loopsDone, a.devsDone = make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l(loopCtx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, http.ErrServerClosed) {
				a.errc <- err
			}
		}()
	}
	go func() { wg.Wait(); close(a.loopsDone) }()
	go func() { a.devs.Run(devCtx); close(a.devsDone) }()
	return nil
}

// Run starts the agent unless Start has, and runs it until ctx ends or a
// listener or the relay fails; then it drains (see Close) and returns that
// failure, or nil.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	started := a.started
	a.mu.Unlock()
	if !started {
		if err := a.Start(ctx); err != nil {
			return err
		}
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-a.errc:
	}
	a.drain()
	return err
}

// drain stops what Start started, within the drain timeout: devices first
// (the reads they decoded are committed before they stop), then the
// listeners and the relay, then the feedback pins.
func (a *Agent) drain() {
	a.mu.Lock()
	started := a.started
	a.mu.Unlock()
	if !started {
		return
	}
	a.drainOnce.Do(func() {
		d := a.opts.DrainTimeout
		if d <= 0 {
			d = DefaultDrainTimeout
		}
		timeout := time.After(d)
		a.stopDevs()
		select {
		case <-a.devsDone:
		case <-timeout:
			a.logf("devices did not stop in time")
		}
		a.stopLoops()
		select {
		case <-a.loopsDone:
		case <-timeout:
		}
		if a.gpio != nil {
			a.gpio.Stop()
		}
	})
}

// Close drains what runs, flushes the writer and closes the store.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		a.drain()
		a.closeErr = errors.Join(a.e.Close(), a.db.Close())
		if a.stopMemory != nil {
			a.stopMemory()
		}
	})
	return a.closeErr
}

// result hears each committed read: the live UI's hub, the metrics.
func (a *Agent) result(r *engine.Result) {
	a.hub.Publish(r)
	if a.metrics != nil {
		kind := string(r.Kind)
		if kind == "" {
			kind = string(drivers.KindManual)
		}
		a.metrics.ObserveRead(string(r.Outcome), kind, r.Decide)
	}
}

// commitError hears each read the store refused.
func (a *Agent) commitError(rd drivers.Read, reason string, err error) {
	a.metrics.ObserveCommitError(reason)
	a.fails.log(time.Now(), reason, err)
	// Device reads get the error signal through their feedback; a read
	// typed into the UI gets it here.
	if rd.Kind == drivers.KindManual && a.signals != nil {
		_ = a.signals.Signal(context.Background(), feedback.Error)
	}
}

// readFeedback is the devices' engine.Feedback: the buzzer and LEDs hear
// every device read's fate after commit, then the metrics, then OnRead.
type readFeedback struct{ a *Agent }

func (f readFeedback) Feedback(device string, rd drivers.Read, res *engine.Result, err error) {
	a := f.a
	outcome := feedback.Error
	if err == nil && res != nil {
		outcome = res.Signal()
	}
	if a.signals != nil {
		_ = a.signals.Signal(context.Background(), outcome)
	}
	if a.metrics != nil && !rd.Time.IsZero() {
		a.metrics.ObserveFeedback(time.Since(rd.Time))
	}
	if a.opts.OnRead != nil {
		a.opts.OnRead(device, rd, res, err)
	}
}
