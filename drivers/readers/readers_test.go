package readers

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"go.bug.st/serial/enumerator"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
)

// fakeDev is a driver that only records how it was made.
type fakeDev struct {
	name, path string
	baud       int
	port       io.ReadWriter
	opts       string
	stopped    bool
}

func (d *fakeDev) Name() string                                     { return d.name }
func (d *fakeDev) Start(context.Context, chan<- drivers.Read) error { return nil }
func (d *fakeDev) Stop() error                                      { d.stopped = true; return nil }
func (d *fakeDev) Err() <-chan error                                { return nil }

// addFake registers a serial protocol for one test and takes it out again.
func addFake(t *testing.T, name string) {
	t.Helper()
	AddSerial(name, Serial[string, *fakeDev]{
		Opts: func(p *profile.Profile) (string, error) {
			if p.Region == "bad" {
				return "", errors.New("region bad: the driver refuses it")
			}
			return "opts of " + p.Name, nil
		},
		New: func(name string, port io.ReadWriter, o string) (*fakeDev, error) {
			return &fakeDev{name: name, port: port, opts: o}, nil
		},
		Open: func(name, path string, baud int, o string) (*fakeDev, error) {
			return &fakeDev{name: name, path: path, baud: baud, opts: o}, nil
		},
	})
	t.Cleanup(func() { mu.Lock(); delete(plugins[profile.KindRFID], name); mu.Unlock() })
}

func rfidProfile(proto string) *profile.Profile {
	return &profile.Profile{Name: "test-" + proto, File: "test.yaml", Kind: profile.KindRFID, Protocol: profile.Protocol(proto),
		Serial: profile.Serial{Port: "/dev/ttyUSB*", Baud: 57600, DataBits: 8, Parity: profile.ParityNone, StopBits: 1}}
}

func TestAddTwicePanics(t *testing.T) {
	addFake(t, "regtest")
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `rfid protocol "regtest" registered twice`) {
			t.Errorf("second registration: recovered %v, want a panic naming it", r)
		}
	}()
	addFake(t, "regtest")
}

func TestAddRefuses(t *testing.T) {
	f := func(Device, Env) (drivers.Factory, error) { return nil, nil }
	for _, tc := range []struct {
		kind          profile.Kind
		name, example string
		f             Factory
	}{
		{"printer", "x", "- name: x\n", f}, {profile.KindRFID, "", "- name: x\n", f},
		{profile.KindRFID, "nofactory", "- name: x\n", nil}, {profile.KindRFID, "noexample", "", f},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%q, %q) did not panic", tc.kind, tc.name)
				}
			}()
			Add(Plugin{Kind: tc.kind, Name: tc.name, Example: tc.example, New: tc.f})
		}()
	}
}

// A profile naming a protocol nobody registered is refused with the list of
// those that are.
func TestUnknownProtocolListsRegistered(t *testing.T) {
	addFake(t, "regtest-b")
	addFake(t, "regtest-a")
	_, err := Open(Device{Name: "wand", Profile: rfidProfile("nope")}, Env{})
	want := `profile test-nope: rfid protocol "nope" has no driver; the rfid drivers are ` + strings.Join(Names(profile.KindRFID), ", ")
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if !strings.Contains(want, "regtest-a, regtest-b") {
		t.Errorf("%q does not list the registered protocols in order", want)
	}
	scanner := &profile.Profile{Name: "s", Kind: profile.KindScanner, Mode: "telepathy"}
	if _, err = Open(Device{Name: "desk", Profile: scanner}, Env{}); err == nil || err.Error() != `profile s has kind "scanner": no driver takes it` {
		t.Errorf("no scanner driver at all: %v", err)
	}
	Add(Plugin{Kind: profile.KindScanner, Name: "regtest", Example: "- name: x\n", New: func(Device, Env) (drivers.Factory, error) { return nil, nil }})
	t.Cleanup(func() { mu.Lock(); delete(plugins[profile.KindScanner], "regtest"); mu.Unlock() })
	_, err = Open(Device{Name: "desk", Profile: scanner}, Env{})
	if err == nil || !strings.Contains(err.Error(), `profile s: scanner mode "telepathy" has no driver`) {
		t.Errorf("unknown scanner mode: %v", err)
	}
}

func TestSerialPort(t *testing.T) {
	addFake(t, "regtest")
	p := rfidProfile("regtest")
	ctx := context.Background()
	open := func(d Device, env Env) (*fakeDev, error) {
		t.Helper()
		d.Name, d.Profile = "wand", p
		f, err := Open(d, env)
		if err != nil {
			return nil, err
		}
		r, err := f(ctx)
		if err != nil {
			return nil, err
		}
		if c, ok := r.(*closeAfterStop); ok {
			return c.Reader.(*fakeDev), nil
		}
		return r.(*fakeDev), nil
	}

	// The profile's glob is no port: the config must name one.
	if _, err := open(Device{}, Env{}); err == nil || !strings.Contains(err.Error(), `name the serial port (port: /dev/ttyUSB0), or its USB vid and pid; the profile only says "/dev/ttyUSB*"`) {
		t.Errorf("glob port: %v", err)
	}
	// The driver opens the configured port at the profile's speed, or the config's.
	if d, err := open(Device{DeviceConfig: DeviceConfig{Port: "/dev/ttyS3"}}, Env{}); err != nil || d.path != "/dev/ttyS3" || d.baud != 57600 || d.opts != "opts of test-regtest" {
		t.Errorf("port: %+v, %v", d, err)
	}
	if d, err := open(Device{DeviceConfig: DeviceConfig{Port: "/dev/ttyS3", Baud: 115200}}, Env{}); err != nil || d.baud != 115200 {
		t.Errorf("baud: %+v, %v", d, err)
	}
	// Options the driver refuses are refused now, naming the profile.
	bad := *p
	bad.Region = "bad"
	if _, err := Open(Device{Name: "wand", Profile: &bad, DeviceConfig: DeviceConfig{Port: "/dev/ttyS3"}}, Env{}); err == nil || err.Error() != "profile test-regtest (test.yaml): region bad: the driver refuses it" {
		t.Errorf("refused options: %v", err)
	}

	// By USB ids: the port is looked up at open.
	ports := []*enumerator.PortDetails{
		{Name: "/dev/ttyUSB1", IsUSB: true, VID: "1A86", PID: "7523", SerialNumber: "A"},
		{Name: "/dev/ttyUSB0", IsUSB: true, VID: "1a86", PID: "7523", SerialNumber: "B"},
		{Name: "/dev/ttyS0"},
		{Name: "/dev/ttyACM0", IsUSB: true, VID: "zz", PID: "7523"},
	}
	env := Env{SerialPorts: func() ([]*enumerator.PortDetails, error) { return ports, nil }}
	if d, err := open(Device{DeviceConfig: DeviceConfig{VID: "0x1a86", PID: "0x7523", Serial: "B"}}, env); err != nil || d.path != "/dev/ttyUSB0" {
		t.Errorf("by ids and serial: %+v, %v", d, err)
	}
	if _, err := open(Device{DeviceConfig: DeviceConfig{VID: "0x1a86"}}, env); err == nil || !strings.Contains(err.Error(), "2 serial ports on USB device 1a86:0000 (/dev/ttyUSB0, /dev/ttyUSB1): add serial:") {
		t.Errorf("two bridges: %v", err)
	}
	if _, err := open(Device{DeviceConfig: DeviceConfig{VID: "0x0403", PID: "0x6001"}}, env); err == nil || !strings.Contains(err.Error(), "wand: no serial port on USB device 0403:6001 (plugged in?") {
		t.Errorf("none: %v", err)
	}

	// Env.Serial opens the port; the driver is built on it and the port
	// closed after the driver stops.
	var opened []string
	port := &fakePort{}
	env.Serial = func(path string, line profile.Serial) (io.ReadWriteCloser, error) {
		opened = append(opened, path+" "+strconv.Itoa(line.Baud))
		return port, nil
	}
	f, err := Open(Device{Name: "wand", Profile: p, DeviceConfig: DeviceConfig{Port: "/dev/ttyS3", Baud: 9600}}, env)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := r.(*closeAfterStop).Reader.(*fakeDev); d.port != port || strings.Join(opened, ",") != "/dev/ttyS3 9600" {
		t.Errorf("built on %v, opened %v", d.port, opened)
	}
	if port.closed {
		t.Error("port closed before Stop")
	}
	if err := r.Stop(); err != nil || !port.closed {
		t.Errorf("Stop: %v, port closed %v", err, port.closed)
	}
}

type fakePort struct{ closed bool }

func (p *fakePort) Read([]byte) (int, error)    { return 0, io.EOF }
func (p *fakePort) Write(b []byte) (int, error) { return len(b), nil }
func (p *fakePort) Close() error                { p.closed = true; return nil }

func TestParseUSBID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint16
		ok   bool
	}{
		{"", 0, true}, {"0x0c2e", 0x0c2e, true}, {"0X0C2E", 0x0c2e, true}, {"1a86", 0x1a86, true}, {" 0x1a86 ", 0x1a86, true},
		{"0x0000", 0, false}, {"0xc2e", 0, false}, {"0x10000", 0, false}, {"zz", 0, false}, {"0x", 0, false},
	} {
		got, err := ParseUSBID(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseUSBID(%q) = %#04x, %v; want %#04x, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
