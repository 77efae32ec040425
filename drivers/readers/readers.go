// Package readers is the registry of reader protocols, the way Telegraf's
// inputs.Add and node_exporter's registerCollector are: each driver
// package registers, from its own init, the factory that turns a device
// profile (and where the device is) into a drivers.Factory. A profile names
// its protocol (an RFID reader's protocol: chafon, feig, …) or its mode (a
// scanner's: keyboard, hidpos, snapi); the runtime looks the factory up
// here instead of switching on it. Package all links every protocol in.
//
// Adding a protocol is its driver package (with an init calling Add or
// AddSerial) plus one import line in readers/all; a registered RFID
// protocol is one a profile may name, and a shipped profile that uses it
// is its worked example (readers/all's test asks for one). Serial protocols get the
// port handling (a configured port or the USB-serial bridge's ids, a port
// from Env.Serial for capture and replay) from AddSerial, once for all.
package readers

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.bug.st/serial/enumerator"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/tagdata"
)

// Device is one configured device as its protocol's factory gets it: its
// name, its profile, and where it is.
type Device struct {
	Name    string
	Profile *profile.Profile
	DeviceConfig
}

// Env is what the factories reach the hardware through. The zero value is
// the real machine; tests and `tally capture`/`replay` put stand-ins here.
type Env struct {
	// HID is the USB-HID bus scanners are found on, a
	// hidscanner.Enumerator (typed by the driver that uses it, so this
	// package imports no driver); nil: the real bus.
	HID any
	// Serial, when set, opens serial readers' ports (with the profile's
	// line settings and the configured baud) and the driver is built on the
	// port it returns. nil: each driver opens the real port itself.
	Serial func(path string, line profile.Serial) (io.ReadWriteCloser, error)
	// SerialPorts lists the serial ports with their USB ids, to find a
	// reader chosen by vid/pid; nil: go.bug.st/serial's enumerator.
	SerialPorts func() ([]*enumerator.PortDetails, error)
}

// Factory makes a device's driver factory. It refuses now, naming the
// profile, what the driver would refuse at every reconnect.
type Factory func(d Device, env Env) (drivers.Factory, error)

// Plugin is one registered protocol.
type Plugin struct {
	Name string       // the profile's protocol (rfid) or mode (scanner)
	Kind profile.Kind // which profiles name it
	New  Factory
	// Normalize, when set, makes the decoding stage of a profile's reads
	// (tag data turned into the item identifier, e.g. UHF); it may return
	// nil to keep reads as they come, as a nil Normalize does.
	Normalize func(p *profile.Profile) func(drivers.Read) drivers.Read
	// Example is an annotated tally.yaml device entry ("- name: …") for
	// a device of this protocol, as tally.example.yaml shows it under
	// devices:. Protocols of one transport share theirs (every serial
	// protocol has SerialExample).
	Example string
}

// SerialExample is the device entry tally.example.yaml shows for serial
// readers: the keys AddSerial's port handling reads.
//
//go:embed serial-example.yaml
var SerialExample string

var (
	mu      sync.RWMutex
	plugins = map[profile.Kind]map[string]Plugin{}
)

// Add registers a protocol: its kind, name, factory and example device
// entry (and Normalize, if it has one). It is meant for init functions and
// panics when the name is taken for that kind, as two drivers for one
// protocol is a programming error.
func Add(pl Plugin) {
	kind, name, f, example := pl.Kind, pl.Name, pl.New, pl.Example
	if kind != profile.KindScanner && kind != profile.KindRFID {
		panic(fmt.Sprintf("readers: %s: kind %q: want scanner or rfid", name, kind))
	}
	if name == "" || f == nil || example == "" {
		panic(fmt.Sprintf("readers: %s protocol %q: a name, an example and a factory are required", kind, name))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := plugins[kind][name]; dup {
		panic(fmt.Sprintf("readers: %s protocol %q registered twice", kind, name))
	}
	if plugins[kind] == nil {
		plugins[kind] = map[string]Plugin{}
	}
	plugins[kind][name] = pl
	if kind == profile.KindRFID {
		profile.AddProtocol(profile.Protocol(name)) // its profiles load
	}
}

// Names lists the protocols registered for kind, sorted.
func Names(kind profile.Kind) []string {
	mu.RLock()
	defer mu.RUnlock()
	var names []string
	for n := range plugins[kind] {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// For returns the protocol a profile names: an RFID reader's protocol, a
// scanner's mode.
func For(p *profile.Profile) (Plugin, error) {
	name, what := string(p.Protocol), "protocol"
	if p.Kind == profile.KindScanner {
		name, what = string(p.Mode), "mode"
	}
	mu.RLock()
	pl, ok := plugins[p.Kind][name]
	mu.RUnlock()
	if !ok {
		if known := Names(p.Kind); len(known) > 0 {
			return Plugin{}, fmt.Errorf("profile %s: %s %s %q has no driver; the %s drivers are %s", p.Name, p.Kind, what, name, p.Kind, strings.Join(known, ", "))
		}
		return Plugin{}, fmt.Errorf("profile %s has kind %q: no driver takes it", p.Name, p.Kind)
	}
	return pl, nil
}

// Open is the factory of d, by its profile's protocol.
func Open(d Device, env Env) (drivers.Factory, error) {
	pl, err := For(d.Profile)
	if err != nil {
		return nil, err
	}
	return pl.New(d, env)
}

// Serial is a serial reader protocol: how its options come from a profile,
// and its driver's two constructors.
type Serial[O any, D drivers.Reader] struct {
	// Opts turns a profile into the driver's options, refusing what the
	// driver would.
	Opts func(p *profile.Profile) (O, error)
	// New builds the driver on a port somebody else opened (Env.Serial).
	New func(name string, port io.ReadWriter, o O) (D, error)
	// Open builds the driver on the serial port at path, which it opens
	// and closes itself.
	Open func(name, path string, baud int, o O) (D, error)
	// Normalize is the Plugin's: the decoding stage of its reads, if any.
	Normalize func(p *profile.Profile) func(drivers.Read) drivers.Read
}

// AddSerial registers a serial RFID reader protocol: the port comes from
// the device's port, the profile's, or a lookup of the USB-serial bridge's
// ids at every open; the driver opens it, or is built on Env.Serial's.
func AddSerial[O any, D drivers.Reader](name string, s Serial[O, D]) {
	if s.Opts == nil || s.New == nil || s.Open == nil {
		panic("readers: serial protocol " + name + ": Opts, New and Open are required")
	}
	Add(Plugin{Kind: profile.KindRFID, Name: name, Example: SerialExample, Normalize: s.Normalize, New: func(d Device, env Env) (drivers.Factory, error) {
		o, err := s.Opts(d.Profile)
		if err != nil {
			return nil, fmt.Errorf("profile %s (%s): %w", d.Profile.Name, d.Profile.File, err)
		}
		return serialFactory(d, env, func(path string, line profile.Serial) drivers.Factory {
			if env.Serial == nil {
				return func(context.Context) (drivers.Reader, error) { return reader(s.Open(d.Name, path, line.Baud, o)) }
			}
			return func(context.Context) (drivers.Reader, error) {
				port, err := env.Serial(path, line)
				if err != nil {
					return nil, err
				}
				r, err := s.New(d.Name, port, o)
				if err != nil {
					port.Close()
					return nil, err
				}
				return &closeAfterStop{Reader: r, port: port}, nil
			}
		})
	}})
}

// reader returns a driver as a drivers.Reader, nil (not a typed nil) with
// an error.
func reader[D drivers.Reader](r D, err error) (drivers.Reader, error) {
	if err != nil {
		return nil, err
	}
	return r, nil
}

// serialFactory resolves where a serial reader is and returns the factory
// build makes for that port and line.
func serialFactory(d Device, env Env, build func(path string, line profile.Serial) drivers.Factory) (drivers.Factory, error) {
	p := d.Profile
	vid, pid := d.USBIDs()
	port := d.Port
	if port == "" && vid == 0 {
		port = p.Serial.Port
	}
	if vid == 0 && (port == "" || strings.ContainsAny(port, "*?[")) {
		return nil, fmt.Errorf("name the serial port (port: /dev/ttyUSB0), or its USB vid and pid; the profile only says %q", p.Serial.Port)
	}
	line := p.Serial
	if d.Baud != 0 {
		line.Baud = d.Baud
	}
	if port != "" {
		return build(port, line), nil
	}
	if env.SerialPorts == nil {
		env.SerialPorts = func() ([]*enumerator.PortDetails, error) { return enumerator.GetDetailedPortsList() }
	}
	// Chosen by USB ids: the port is looked up at every open, so a reader
	// that comes back as another ttyUSB after re-plugging is found again.
	return func(ctx context.Context) (drivers.Reader, error) {
		port, err := usbSerialPort(env, vid, pid, d.Serial)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.Name, err)
		}
		return build(port, line)(ctx)
	}, nil
}

// usbSerialPort finds the one serial port on USB device vid:pid (pid 0:
// any), with USB serial number serial when given.
func usbSerialPort(env Env, vid, pid uint16, serial string) (string, error) {
	ports, err := env.SerialPorts()
	if err != nil {
		return "", fmt.Errorf("list serial ports: %w", err)
	}
	var found []string
	for _, pd := range ports {
		if pd == nil || !pd.IsUSB {
			continue
		}
		v, err1 := ParseUSBID(pd.VID)
		q, err2 := ParseUSBID(pd.PID)
		if err1 != nil || err2 != nil || v != vid || pid != 0 && q != pid || serial != "" && pd.SerialNumber != serial {
			continue
		}
		found = append(found, pd.Name)
	}
	sort.Strings(found)
	switch len(found) {
	case 0:
		with := ""
		if serial != "" {
			with = " with serial " + serial
		}
		return "", fmt.Errorf("no serial port on USB device %04x:%04x%s (plugged in? `tally devices` lists the ports)", vid, pid, with)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%d serial ports on USB device %04x:%04x (%s): add serial: with its USB serial number, or name the port", len(found), vid, pid, strings.Join(found, ", "))
}

// closeAfterStop closes the port once the driver has stopped: some drivers
// built on a port leave it to their caller.
type closeAfterStop struct {
	drivers.Reader
	port io.Closer
}

func (c *closeAfterStop) Stop() error {
	err := c.Reader.Stop()
	if cerr := c.port.Close(); err == nil {
		err = cerr
	}
	return err
}

// ParseUSBID parses a USB vendor or product id as `tally devices` and lsusb
// print it: four hex digits, with or without 0x. "" is 0 (any).
func ParseUSBID(s string) (uint16, error) {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(t, 16, 16)
	if err != nil || len(t) != 4 || v == 0 {
		return 0, fmt.Errorf("%q is not a USB id: want 4 hex digits such as \"0x0c2e\" (`tally devices` shows them)", s)
	}
	return uint16(v), nil
}

// WantedModels is the set of tag data models a profile's tag_data lists
// (uid aside): the ones a read may be decoded into.
func WantedModels(models []profile.TagModel) map[tagdata.Model]bool {
	want := map[tagdata.Model]bool{}
	for _, m := range models {
		if m == profile.TagUID {
			continue
		}
		if tm, err := tagdata.ParseModel(string(m)); err == nil && tm != "" {
			want[tm] = true
		}
	}
	return want
}
