package hidscanner

// This is the only file that imports github.com/karalabe/hid (cgo, libusb
// on Linux); everything else works on the Device and Enumerator interfaces.

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/karalabe/hid"
)

// karalabe/hid's Device is an interface with the methods we need.
var _ Device = hid.Device(nil)

// pollMillis bounds how long a Read holds the device between checks for
// Close: hidapi must not close a device while another thread reads it.
const pollMillis = 100

// HIDBus enumerates and opens real HID devices through karalabe/hid. On
// Linux it uses libusb and detaches the kernel driver while a device is
// open (keystrokes stop reaching the console); the agent's user needs
// access to /dev/bus/usb (firmware-configs/udev). On Windows the OS owns
// keyboards: a keyboard-wedge scanner cannot be read, use HID POS.
type HIDBus struct{}

var _ Enumerator = HIDBus{}

// Enumerate lists HID interfaces; 0 for vid or pid matches any.
func (HIDBus) Enumerate(vid, pid uint16) ([]DeviceInfo, error) {
	if !hid.Supported() {
		return nil, fmt.Errorf("hid: not supported on this platform or build (cgo off?)")
	}
	infos, err := hid.Enumerate(vid, pid)
	if err != nil {
		return nil, fmt.Errorf("hid: enumerate: %w", err)
	}
	out := make([]DeviceInfo, 0, len(infos))
	for _, i := range infos {
		out = append(out, DeviceInfo{
			Path: i.Path, VID: i.VendorID, PID: i.ProductID, UsagePage: i.UsagePage, Usage: i.Usage,
			Interface: i.Interface, Serial: i.Serial, Manufacturer: i.Manufacturer, Product: i.Product,
		})
	}
	return out, nil
}

// Open opens the device at info.Path.
func (HIDBus) Open(info DeviceInfo) (Device, error) {
	d, err := hid.DeviceInfo{Path: info.Path, VendorID: info.VID, ProductID: info.PID}.Open()
	if err != nil {
		return nil, fmt.Errorf("hid: open %s: %w", info.Path, err)
	}
	return &hidDevice{d: d}, nil
}

// hidDevice makes Close safe while another goroutine is in Read: reads poll
// with a timeout under a read lock, Close takes the write lock.
type hidDevice struct {
	d      hid.Device
	mu     sync.RWMutex
	closed atomic.Bool
}

func (h *hidDevice) Read(p []byte) (int, error) {
	for {
		if h.closed.Load() {
			return 0, errClosed
		}
		h.mu.RLock()
		if h.closed.Load() {
			h.mu.RUnlock()
			return 0, errClosed
		}
		n, err := h.d.ReadTimeout(p, pollMillis)
		h.mu.RUnlock()
		if err != nil || n > 0 {
			return n, err
		}
	}
}

func (h *hidDevice) Write(p []byte) (int, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed.Load() {
		return 0, errClosed
	}
	return h.d.Write(p)
}

func (h *hidDevice) Close() error {
	if h.closed.Swap(true) {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.d.Close()
}

func (h *hidDevice) SendFeatureReport(p []byte) (int, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed.Load() {
		return 0, errClosed
	}
	return h.d.SendFeatureReport(p)
}

// List returns the HID interfaces connected to this machine, for
// `tally devices`.
func List() ([]DeviceInfo, error) { return HIDBus{}.Enumerate(0, 0) }

// Open finds the one device matching m on the real bus, opens it and
// returns a Dev named name. See OpenWith.
func Open(name string, m Match, opts Opts) (*Dev, error) {
	return OpenWith(HIDBus{}, name, m, opts)
}
