package hidscanner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tally-inventory/tally/drivers"
)

// Dev reads one open HID scanner and delivers its codes as drivers.Reads.
//
// Lifecycle (drivers.Reader): New takes ownership of an open Device. Start
// begins reading in one goroutine; Reads go out in the order the scanner
// sent them. Stop (or cancelling Start's ctx) closes the device, which
// unblocks the pending Read, and waits for the goroutine: a Read decoded
// before Stop is still delivered, so keep draining out until Stop returns
// or cancel ctx. A Device read or write error ends reading and is reported
// once on Err, wrapped with drivers.ErrDisconnected; a clean stop reports
// nil. A Dev is started once; a Supervisor makes a new one to reconnect.
type Dev struct {
	name string
	dev  Device
	opts Opts
	dec  Decoder

	mu       sync.Mutex
	started  bool
	stopping bool
	done     chan struct{}
	errc     chan error
	close    sync.Once
	closeErr error
}

var _ drivers.Reader = (*Dev)(nil)

// New returns a Dev reading dev, which must already be open, decoding as
// opts says. The Dev owns dev from now on and closes it when reading ends.
func New(name string, dev Device, opts Opts) (*Dev, error) {
	if dev == nil {
		return nil, fmt.Errorf("hidscanner %q: nil device", name)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("hidscanner %q: %w", name, err)
	}
	dec, err := NewDecoder(o)
	if err != nil {
		return nil, fmt.Errorf("hidscanner %q: %w", name, err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Dev{name: name, dev: dev, opts: o, dec: dec, done: make(chan struct{}), errc: make(chan error, 1)}, nil
}

// Name is the configured device name.
func (d *Dev) Name() string { return d.name }

// Err yields the error that ended reading, once (nil after a clean stop),
// then is closed.
func (d *Dev) Err() <-chan error { return d.errc }

// Start begins delivering Reads on out. The device is already open, so
// Start fails only when called twice.
func (d *Dev) Start(ctx context.Context, out chan<- drivers.Read) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return fmt.Errorf("hidscanner %q: already started", d.name)
	}
	d.started = true
	if d.stopping {
		close(d.done)
		d.finish(nil)
		return fmt.Errorf("hidscanner %q: stopped before start", d.name)
	}
	go d.run(ctx, out)
	go func() {
		select {
		case <-ctx.Done():
			d.shutdown()
		case <-d.done:
		}
	}()
	return nil
}

// Stop closes the device and waits until the read goroutine has ended.
func (d *Dev) Stop() error {
	d.shutdown()
	d.mu.Lock()
	started := d.started
	d.mu.Unlock()
	if started {
		<-d.done
	} else {
		d.closeDevice()
	}
	return nil
}

func (d *Dev) shutdown() {
	d.mu.Lock()
	d.stopping = true
	d.mu.Unlock()
	d.closeDevice()
}

func (d *Dev) isStopping() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stopping
}

func (d *Dev) closeDevice() {
	d.close.Do(func() { d.closeErr = d.dev.Close() })
}

func (d *Dev) finish(err error) {
	d.errc <- err
	close(d.errc)
}

func (d *Dev) run(ctx context.Context, out chan<- drivers.Read) {
	var err error
	defer func() {
		d.closeDevice()
		if d.isStopping() || ctx.Err() != nil {
			err = nil
		}
		close(d.done)
		d.finish(err)
	}()
	buf := make([]byte, d.opts.ReportSize)
	for {
		n, rerr := d.dev.Read(buf)
		if rerr != nil {
			err = fmt.Errorf("hidscanner %q: read: %w: %w", d.name, drivers.ErrDisconnected, rerr)
			return
		}
		if n == 0 {
			continue
		}
		res, derr := d.dec.Decode(buf[:n])
		if res.Reply != nil {
			if _, werr := d.dev.Write(res.Reply); werr != nil {
				err = fmt.Errorf("hidscanner %q: write ack: %w: %w", d.name, drivers.ErrDisconnected, werr)
				return
			}
		}
		if derr != nil {
			d.skip(derr)
		}
		if !res.Done {
			continue
		}
		if strings.HasPrefix(res.Symbology, "]Z") {
			// ISO/IEC 15424 "]Z": not a barcode (Honeywell menu replies).
			continue
		}
		r := drivers.Read{
			Device:    d.name,
			Kind:      drivers.KindScanner,
			Raw:       append([]byte(nil), res.Raw...),
			Symbology: res.Symbology,
			Time:      d.opts.Now(),
		}
		r.Code = string(r.Raw[:len(res.Code)])
		select {
		case out <- r:
		case <-ctx.Done():
			return
		}
	}
}

func (d *Dev) skip(err error) {
	if d.opts.OnSkip != nil {
		d.opts.OnSkip(fmt.Errorf("hidscanner %q: %w", d.name, err))
	}
}

// errClosed is what the hid adapter returns from Read after Close.
var errClosed = errors.New("device closed")

// FeatureSender is a Device that can also send feature reports (real HID
// devices can; OpenWith uses it for vendor start-up quirks).
type FeatureSender interface {
	SendFeatureReport(p []byte) (int, error)
}

// OpenWith finds the device matching m through e, opens it and returns a
// Dev. When several devices match, the one with the lowest path is taken
// (stable across runs); give Match.Serial to choose. A missing device is
// an error a Supervisor retries.
func OpenWith(e Enumerator, name string, m Match, opts Opts) (*Dev, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("hidscanner %q: %w", name, err)
	}
	infos, err := e.Enumerate(m.VID, m.PID)
	if err != nil {
		return nil, fmt.Errorf("hidscanner %q: %w", name, err)
	}
	var found []DeviceInfo
	for _, i := range infos {
		if m.Matches(i) {
			found = append(found, i)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("hidscanner %q: no HID device with %s is plugged in: %w (reconnect the scanner; if it is connected, check that a udev rule lets tally open it)",
			name, m, drivers.ErrDisconnected)
	}
	slices.SortFunc(found, func(a, b DeviceInfo) int { return cmp.Compare(a.Path, b.Path) })
	dev, err := e.Open(found[0])
	if err != nil {
		return nil, fmt.Errorf("hidscanner %q: %w", name, err)
	}
	// Honeywell scanners in HID POS mode report scans only after feature
	// report 0xFE = 1 (observed in WebHID drivers, undocumented). Harmless
	// when not needed, so errors are ignored.
	if f, ok := dev.(FeatureSender); ok && o.Mode == ModeHIDPOS && o.Vendor == VendorHoneywell {
		_, _ = f.SendFeatureReport([]byte{0xFE, 0x01})
	}
	d, err := New(name, dev, o)
	if err != nil {
		dev.Close()
		return nil, err
	}
	return d, nil
}
