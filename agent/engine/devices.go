package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/barcode"
	"github.com/tally-inventory/tally/drivers/dedupe"
)

// DeviceSpec is one configured device: how to open it and the session it
// starts bound to (0: unbound until someone binds it).
type DeviceSpec struct {
	Name    string
	Kind    drivers.Kind
	Profile string
	Open    drivers.Factory
	Session int64
	// Normalize turns what the device read into the code to look up (RFID
	// tag data → item identifier); nil leaves reads as they are.
	Normalize func(drivers.Read) drivers.Read
}

// DeviceStatus is what the UI, the API and metrics show of a device.
type DeviceStatus struct {
	Name      string       `json:"name"`
	Kind      drivers.Kind `json:"kind"`
	Profile   string       `json:"profile,omitempty"`
	State     string       `json:"state"` // starting, connected, disconnected, failing, stopped
	Error     string       `json:"error,omitempty"`
	Session   int64        `json:"session,omitempty"`
	LastRead  time.Time    `json:"last_read,omitempty"`
	LastCode  string       `json:"last_code,omitempty"`
	Reads     int64        `json:"reads"`
	Dropped   int64        `json:"dropped"` // reads refused: unbound device or a store error
	connected bool
	// notRecording is the store error of the device's last read, until a
	// read of it commits again: the device reads, but nothing is kept.
	notRecording string
}

// StateNotRecording is shown for a device whose reads the store cannot
// commit (disk full, database locked…): it is connected and reading, but
// nothing it reads is kept.
const StateNotRecording = "not_recording"

// Feedback is told the fate of every read of a device: after commit for an
// accepted read (res set), or the error that kept it from being accepted.
type Feedback interface {
	Feedback(device string, rd drivers.Read, res *Result, err error)
}

// Devices runs the configured devices: each under a Supervisor (reconnect
// with backoff), RFID reads through dedupe, then into the engine for the
// session the device is bound to. Reads of one device are decided in the
// order the device produced them; several are in flight at once so a fast
// RFID wand shares commits.
type Devices struct {
	e        *Engine
	dedupe   time.Duration
	feedback Feedback
	supOpts  drivers.SupervisorOpts

	// Logf, when set, hears each change of a device's state once — failing
	// and why, disconnected, connected again, not recording — never each
	// retry. Set it before Run.
	Logf func(format string, args ...any)

	// Control, when set, acts on control barcodes (`tally sheet control`)
	// scanned on any scanner and stamps reads with the operator; set it
	// before Run.
	Control *Controller

	mu    sync.Mutex
	specs []DeviceSpec
	stat  map[string]*DeviceStatus
	wg    sync.WaitGroup
}

// NewDevices prepares devices; Run starts them. window is the RFID dedupe
// window.
func NewDevices(e *Engine, specs []DeviceSpec, window time.Duration, fb Feedback) (*Devices, error) {
	d := &Devices{e: e, dedupe: window, feedback: fb, stat: map[string]*DeviceStatus{}, supOpts: drivers.DefaultSupervisorOpts}
	for _, s := range specs {
		if s.Name == "" || s.Open == nil {
			return nil, fmt.Errorf("device %q: needs a name and a way to open it", s.Name)
		}
		if _, dup := d.stat[s.Name]; dup {
			return nil, fmt.Errorf("device %q is configured twice", s.Name)
		}
		d.specs = append(d.specs, s)
		d.stat[s.Name] = &DeviceStatus{Name: s.Name, Kind: s.Kind, Profile: s.Profile, State: string(drivers.StateStarting), Session: s.Session}
	}
	return d, nil
}

// Run starts every device and returns when ctx ends and every device has
// drained: reads already decoded are committed (or refused) before Run
// returns.
func (d *Devices) Run(ctx context.Context) {
	for _, s := range d.specs {
		d.wg.Add(1)
		go func(s DeviceSpec) {
			defer d.wg.Done()
			d.runOne(ctx, s)
		}(s)
	}
	d.wg.Wait()
}

func (d *Devices) runOne(ctx context.Context, s DeviceSpec) {
	opts := d.supOpts
	opts.OnState = func(name string, st drivers.State, err error) {
		d.mu.Lock()
		ds := d.stat[name]
		prev := drivers.State(ds.State)
		ds.State = string(st)
		ds.connected = st == drivers.StateConnected
		ds.Error = ""
		if err != nil {
			ds.Error = err.Error()
		}
		d.mu.Unlock()
		d.logState(name, prev, st, err)
	}
	sup := drivers.NewSupervisor(s.Name, s.Open, opts)
	reads := make(chan drivers.Read, 256)
	// The pipeline drains reads even after ctx ends, until the supervisor
	// has stopped its reader and closed nothing more can arrive.
	type pending struct {
		rd      drivers.Read
		wait    func() (*Result, error)
		control string // a control barcode's pattern, played in device order
		ctlErr  error
	}
	waits := make(chan pending, 512)
	var pipe sync.WaitGroup
	pipe.Add(2)
	// A refused read is told in its place among the reads before it, not
	// ahead of their feedback.
	refused := func(rd drivers.Read, err error) {
		waits <- pending{rd: rd, wait: func() (*Result, error) { return nil, err }}
	}
	go func() { // submit, in device order
		defer pipe.Done()
		defer close(waits)
		var f *dedupe.Filter
		if s.Kind == drivers.KindRFID {
			f = dedupe.New(d.dedupe)
		}
		for rd := range reads {
			if f != nil && !f.Pass(rd) {
				continue
			}
			if rd.Device == "" {
				rd.Device = s.Name
			}
			if s.Normalize != nil {
				rd = s.Normalize(rd)
			}
			if d.Control != nil && s.Kind != drivers.KindRFID {
				if barcode.IsControl(barcode.Normalize(rd.Code)) {
					// Acted on here, before the next read is submitted, so
					// the reads after it see the new session and state.
					pat, err := d.Control.Handle(context.WithoutCancel(ctx), s.Name, rd)
					waits <- pending{rd: rd, control: pat, ctlErr: err}
					continue
				}
				rd.Operator = d.Control.Operator(s.Name)
			}
			sid := d.Binding(s.Name)
			if sid == 0 {
				refused(rd, fmt.Errorf("device %s is not bound to a session: bind it in the UI or with `session` in the config", s.Name))
				continue
			}
			// Submitting outlives ctx: a read the device produced is decided.
			w, err := d.e.SubmitAsync(context.WithoutCancel(ctx), sid, rd)
			if err != nil {
				refused(rd, err)
				continue
			}
			waits <- pending{rd: rd, wait: w}
		}
	}()
	go func() { // feedback, in device order, after commit
		defer pipe.Done()
		for p := range waits {
			if p.control != "" {
				d.controlled(s.Name, p.rd, p.control, p.ctlErr)
				continue
			}
			res, err := p.wait()
			d.mu.Lock()
			ds := d.stat[s.Name]
			ds.LastRead, ds.LastCode = p.rd.Time, p.rd.Code
			was := ds.notRecording
			if err != nil {
				ds.Dropped++
				ds.notRecording = err.Error()
			} else {
				ds.Reads++
				ds.notRecording = ""
			}
			d.mu.Unlock()
			switch {
			case err != nil && was == "":
				d.logf("device %s: not recording: %v — its reads are not kept until the store accepts them again", s.Name, err)
			case err == nil && was != "":
				d.logf("device %s: recording again", s.Name)
			}
			if d.feedback != nil {
				d.feedback.Feedback(s.Name, p.rd, res, err)
			}
		}
	}()
	_ = sup.Run(ctx, reads)
	close(reads)
	pipe.Wait()
	d.mu.Lock()
	d.stat[s.Name].State = string(drivers.StateStopped)
	d.stat[s.Name].connected = false
	d.mu.Unlock()
}

func (d *Devices) logf(format string, args ...any) {
	if d.Logf != nil {
		d.Logf(format, args...)
	}
}

// logState says what a device's new state means, once per change.
func (d *Devices) logState(name string, prev, st drivers.State, err error) {
	switch st {
	case drivers.StateConnected:
		if prev == drivers.StateDisconnected || prev == drivers.StateFailing {
			d.logf("device %s: connected again", name)
		} else {
			d.logf("device %s: connected", name)
		}
	case drivers.StateDisconnected:
		d.logf("device %s: disconnected: %v (retrying)", name, err)
	case drivers.StateFailing:
		d.logf("device %s: failing: %v (still retrying, with longer waits)", name, err)
	}
}

// controlled records a control barcode on the device and plays its pattern.
func (d *Devices) controlled(name string, rd drivers.Read, pattern string, err error) {
	d.mu.Lock()
	ds := d.stat[name]
	ds.LastRead, ds.LastCode = rd.Time, rd.Code
	if err != nil {
		ds.Dropped++
	} else {
		ds.Reads++
	}
	d.mu.Unlock()
	if d.Control.Signal != nil {
		d.Control.Signal(name, pattern)
	}
}

// ErrNoDevice is returned for a device name that is not configured.
var ErrNoDevice = errors.New("no such device")

// Bind points a device at a session (0 unbinds it). A device is bound to
// one session at a time; the session must be open.
func (d *Devices) Bind(ctx context.Context, device string, sessionID int64) error {
	if sessionID != 0 {
		s, err := d.e.DB.Session(ctx, sessionID)
		if err != nil {
			return err
		}
		if s.State != store.SessionOpen {
			return fmt.Errorf("session %d is %s: resume it first", sessionID, s.State)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ds, ok := d.stat[device]
	if !ok {
		return fmt.Errorf("device %q: %w", device, ErrNoDevice)
	}
	ds.Session = sessionID
	return nil
}

// Binding returns the session a device is bound to.
func (d *Devices) Binding(device string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ds, ok := d.stat[device]; ok {
		return ds.Session
	}
	return 0
}

// Status lists the devices, by name.
func (d *Devices) Status() []DeviceStatus {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]DeviceStatus, 0, len(d.stat))
	for _, s := range d.stat {
		st := *s
		if st.notRecording != "" && st.connected {
			st.State, st.Error = StateNotRecording, "not recording: "+st.notRecording
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
