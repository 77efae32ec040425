package hidscanner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/transcript"
)

// newScript is a HID device playing evs: reading when a write is due,
// writing other bytes than the transcript's, or leaving events unplayed
// (checked when the test ends) fails the test. After the last event the
// device is silent until closed.
func newScript(t *testing.T, evs ...transcript.Event) *transcript.Playback {
	return transcript.Play(t, transcript.Silent, evs...)
}

func ins(reports ...[]byte) []transcript.Event { return transcript.Reads(reports...) }

func wrote(b []byte) transcript.Event { return transcript.Event{Dir: transcript.Write, Data: b} }

func fail(msg string) transcript.Event { return transcript.Event{Dir: transcript.Fail, Err: msg} }

// honeywellPOSOn is the feature report OpenWith sends a Honeywell scanner
// in HID POS mode.
var honeywellPOSOn = transcript.Event{Dir: transcript.Feature, Data: []byte{0xFE, 0x01}}

func typed(t *testing.T, text, layout string) []transcript.Event {
	t.Helper()
	rs, err := KeyboardReports(text, layout)
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]transcript.Event, len(rs))
	for i := range rs {
		evs[i] = transcript.Event{Dir: transcript.Read, Data: rs[i][:]}
	}
	return evs
}

func recv(t *testing.T, out <-chan drivers.Read) drivers.Read {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no read delivered")
	}
	return drivers.Read{}
}

func recvErr(t *testing.T, d drivers.Reader) error {
	t.Helper()
	select {
	case err := <-d.Err():
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("no error reported")
	}
	return nil
}

var fixedTime = time.Date(2027, 3, 1, 9, 30, 0, 0, time.UTC)

func fixedNow() time.Time { return fixedTime }

func TestDevKeyboard(t *testing.T) {
	dev := newScript(t, append(typed(t, "30234000517861\r", "us"), typed(t, "A30234000517879B\r", "us")...)...)
	d, err := New("desk", dev, Opts{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "desk" {
		t.Errorf("Name() = %q", d.Name())
	}
	out := make(chan drivers.Read)
	if err := d.Start(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background(), out); err == nil {
		t.Error("second Start succeeded")
	}
	want := []drivers.Read{
		{Device: "desk", Kind: drivers.KindScanner, Raw: []byte("30234000517861\r"), Code: "30234000517861", Time: fixedTime},
		{Device: "desk", Kind: drivers.KindScanner, Raw: []byte("A30234000517879B\r"), Code: "A30234000517879B", Time: fixedTime},
	}
	for _, w := range want {
		r := recv(t, out)
		if r.Device != w.Device || r.Kind != w.Kind || string(r.Raw) != string(w.Raw) || r.Code != w.Code ||
			r.Symbology != "" || !r.Time.Equal(w.Time) {
			t.Errorf("read %+v, want %+v", r, w)
		}
	}
	<-dev.Done() // the last key-up report follows the Enter that ended the code
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := recvErr(t, d); err != nil {
		t.Errorf("Err after Stop = %v, want nil", err)
	}
	if !dev.Closed() {
		t.Error("device not closed by Stop")
	}
	dev.Check(t)
}

// The scanner waits for an ACK of every SNAPI report: the script fails if
// the driver reads on before writing it.
func TestDevSNAPIAck(t *testing.T) {
	long := strings.Repeat("Q", 58) + "RCODE"
	rs := SNAPIReports(28, []byte(long))
	ack := []byte{0x00, 0x01, 0x22, 0x01, 0x00}
	dev := newScript(t, ins(rs[0])[0], wrote(ack), ins(rs[1])[0], wrote(ack))
	d, err := New("cart", dev, Opts{Mode: ModeSNAPI})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read)
	d.Start(context.Background(), out)
	r := recv(t, out)
	if r.Code != long || r.Symbology != "qr" {
		t.Errorf("read %q %q", r.Code, r.Symbology)
	}
	d.Stop()
	dev.Check(t)
}

func TestDevHIDPOSDropsMenuReplies(t *testing.T) {
	reply, _ := POSReports("]Z6", []byte("REVINF\x06."), VendorHoneywell)
	code, _ := POSReports("]E0", []byte("9780306406157"), VendorHoneywell)
	dev := newScript(t, ins(reply[0], code[0])...)
	d, err := New("pos", dev, Opts{Mode: ModeHIDPOS})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan drivers.Read, 2)
	d.Start(context.Background(), out)
	r := recv(t, out)
	if r.Code != "9780306406157" || r.Symbology != "]E0" {
		t.Errorf("read %q %q, want the EAN-13 and not the menu reply", r.Code, r.Symbology)
	}
	d.Stop()
	if len(out) != 0 {
		t.Errorf("%d extra reads", len(out))
	}
	dev.Check(t)
}

func TestDevReadErrorIsDisconnect(t *testing.T) {
	const unplugged = "hidapi: LIBUSB_ERROR_NO_DEVICE"
	dev := newScript(t, append(typed(t, "1\r", "us"), fail(unplugged))...)
	d, _ := New("desk", dev, Opts{})
	out := make(chan drivers.Read, 1)
	d.Start(context.Background(), out)
	err := recvErr(t, d)
	var de *transcript.DeviceError
	if !errors.Is(err, drivers.ErrDisconnected) || !errors.As(err, &de) || de.Msg != unplugged {
		t.Fatalf("Err = %v, want ErrDisconnected wrapping %v", err, unplugged)
	}
	if !strings.Contains(err.Error(), `"desk"`) {
		t.Errorf("error %q does not name the device", err)
	}
	if r := recv(t, out); r.Code != "1" {
		t.Errorf("read before the error %q", r.Code)
	}
	if !dev.Closed() {
		t.Error("device not closed after a read error")
	}
	if _, ok := <-d.Err(); ok {
		t.Error("Err yielded twice")
	}
	d.Stop()
	dev.Check(t)
}

func TestDevWriteErrorIsDisconnect(t *testing.T) {
	rs := SNAPIReports(3, []byte("x"))
	const gone = "write: no device"
	dev := newScript(t, ins(rs[0])[0], fail(gone))
	d, _ := New("desk", dev, Opts{Mode: ModeSNAPI})
	d.Start(context.Background(), make(chan drivers.Read, 1))
	var de *transcript.DeviceError
	if err := recvErr(t, d); !errors.Is(err, drivers.ErrDisconnected) || !errors.As(err, &de) || de.Msg != gone || !strings.Contains(err.Error(), "write ack") {
		t.Fatalf("Err = %v", err)
	}
	d.Stop()
}

func TestDevSkipsGarbage(t *testing.T) {
	dev := newScript(t, append(ins([]byte{1, 2, 3}), typed(t, "12\r", "us")...)...)
	var mu sync.Mutex
	var skipped []error
	d, _ := New("desk", dev, Opts{OnSkip: func(err error) { mu.Lock(); skipped = append(skipped, err); mu.Unlock() }})
	out := make(chan drivers.Read)
	d.Start(context.Background(), out)
	if r := recv(t, out); r.Code != "12" {
		t.Errorf("read %q after garbage", r.Code)
	}
	<-dev.Done() // the Enter key's release too, or Stop may come before it is read
	d.Stop()
	mu.Lock()
	defer mu.Unlock()
	if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), `hidscanner "desk": keyboard report byte 0: 3 bytes`) {
		t.Errorf("skipped %v", skipped)
	}
}

// Stop waits for a Read already decoded to be delivered, and after Stop
// returns nothing more is sent.
func TestDevStopDeliversInFlight(t *testing.T) {
	ops := typed(t, "7\r", "us")
	dev := newScript(t, ops[:3]...) // up to the Enter key-down that completes the code
	d, _ := New("desk", dev, Opts{})
	out := make(chan drivers.Read)
	d.Start(context.Background(), out)
	// Wait until the script is used up: the Read is decoded and its send is pending.
	<-dev.Done()
	stopped := make(chan struct{})
	go func() { d.Stop(); close(stopped) }()
	if r := recv(t, out); r.Code != "7" {
		t.Errorf("in-flight read %q", r.Code)
	}
	<-stopped
	select {
	case r := <-out:
		t.Errorf("read %q after Stop", r.Code)
	default:
	}
	if err := recvErr(t, d); err != nil {
		t.Errorf("Err = %v after Stop", err)
	}
}

func TestDevContextCancel(t *testing.T) {
	dev := newScript(t)
	d, _ := New("desk", dev, Opts{})
	ctx, cancel := context.WithCancel(context.Background())
	d.Start(ctx, make(chan drivers.Read))
	cancel()
	if err := recvErr(t, d); err != nil {
		t.Errorf("Err = %v after cancel, want nil", err)
	}
	if !dev.Closed() {
		t.Error("device not closed on cancel")
	}
	d.Stop()
}

func TestDevStopBeforeStart(t *testing.T) {
	dev := newScript(t)
	d, _ := New("desk", dev, Opts{})
	d.Stop()
	if !dev.Closed() {
		t.Error("device not closed")
	}
	if err := d.Start(context.Background(), make(chan drivers.Read)); err == nil {
		t.Error("Start after Stop succeeded")
	}
}

func TestNewRejectsBadOpts(t *testing.T) {
	for _, tc := range []struct {
		o    Opts
		want string
	}{
		{Opts{Mode: "serial"}, `mode "serial"`},
		{Opts{Layout: "uk"}, `layout "uk": want one of de, fr, us`},
		{Opts{Terminator: "none"}, `terminator "none": a keyboard-mode scanner must end each code`},
		{Opts{Terminator: "cr"}, `terminator "cr"`},
		{Opts{Vendor: "acme"}, `vendor "acme"`},
		{Opts{ReportID: 300}, "report id 300"},
		{Opts{ReportSize: 4}, "report size 4"},
		{Opts{MaxCode: -1}, "max code -1"},
	} {
		_, err := New("x", newScript(t), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) error %v, want %q", tc.o, err, tc.want)
		}
	}
	if _, err := New("x", nil, Opts{}); err == nil {
		t.Error("New accepted a nil device")
	}
	if _, err := New("x", newScript(t), Opts{Mode: "HIDPOS", Layout: "DE"}); err != nil {
		t.Errorf("names are case-insensitive: %v", err)
	}
	// HID POS and SNAPI reports frame each code: their profiles say
	// terminator none, and the driver must take it.
	for _, m := range []string{ModeHIDPOS, ModeSNAPI} {
		if _, err := New("x", newScript(t), Opts{Mode: m, Terminator: TermNone}); err != nil {
			t.Errorf("mode %s, terminator none: %v", m, err)
		}
	}
}

func TestMatch(t *testing.T) {
	kbdIf := DeviceInfo{VID: 0x0c2e, PID: 0x0b61, UsagePage: 0x01, Usage: 0x06, Interface: 0, Serial: "A1", Path: "1-1:1.0"}
	posIf := DeviceInfo{VID: 0x0c2e, PID: 0x0b61, UsagePage: 0x8c, Usage: 0x02, Interface: 1, Serial: "A1", Path: "1-1:1.1"}
	for _, tc := range []struct {
		m        Match
		kbd, pos bool
	}{
		{Match{}, true, true},
		{Match{VID: 0x0c2e}, true, true},
		{Match{VID: 0x05e0}, false, false},
		{Match{VID: 0x0c2e, PID: 0x0b62}, false, false},
		{Match{UsagePage: 0x8c}, false, true},
		{Match{UsagePage: 0x07}, true, false},
		{Match{UsagePage: 0x01, Usage: 0x06}, true, false},
		{Match{MatchInterface: true, Interface: 0}, true, false},
		{Match{Serial: "A1"}, true, true},
		{Match{Serial: "B2"}, false, false},
		{Match{Path: "1-1:1.1"}, false, true},
	} {
		if got := tc.m.Matches(kbdIf); got != tc.kbd {
			t.Errorf("%+v matches keyboard interface = %v", tc.m, got)
		}
		if got := tc.m.Matches(posIf); got != tc.pos {
			t.Errorf("%+v matches HID POS interface = %v", tc.m, got)
		}
	}
}

// fakeBus is an Enumerator whose devices the test plugs and unplugs.
type fakeBus struct {
	mu      sync.Mutex
	plugged map[string]DeviceInfo
	devs    map[string]Device // what Open returns for a path
	opened  []string
}

func newFakeBus() *fakeBus {
	return &fakeBus{plugged: map[string]DeviceInfo{}, devs: map[string]Device{}}
}

func (b *fakeBus) plug(info DeviceInfo, dev Device) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.plugged[info.Path] = info
	b.devs[info.Path] = dev
}

func (b *fakeBus) unplug(path string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.plugged, path)
	delete(b.devs, path)
}

func (b *fakeBus) Enumerate(vid, pid uint16) ([]DeviceInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []DeviceInfo
	for _, i := range b.plugged {
		if (vid == 0 || i.VID == vid) && (pid == 0 || i.PID == pid) {
			out = append(out, i)
		}
	}
	return out, nil
}

func (b *fakeBus) Open(info DeviceInfo) (Device, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.devs[info.Path]
	if !ok {
		return nil, fmt.Errorf("open %s: no such device", info.Path)
	}
	b.opened = append(b.opened, info.Path)
	return d, nil
}

var honeywellPOS = DeviceInfo{VID: 0x0c2e, PID: 0x0b61, UsagePage: 0x8c, Usage: 0x02, Interface: 1,
	Serial: "17345B0123", Product: "Voyager 1450g", Path: "1-1.2:1.1"}

func posOps(t *testing.T, codes ...string) []transcript.Event {
	var ops []transcript.Event
	for _, c := range codes {
		rs, err := POSReports("]F0", []byte(c), VendorHoneywell)
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, ins(rs...)...)
	}
	return ops
}

// A scanner unplugged mid-session is reported disconnected, retried while
// absent, and read again once plugged back in — without a restart.
func TestHotPlug(t *testing.T) {
	bus := newFakeBus()
	match := Match{VID: 0x0c2e, UsagePage: 0x8c}
	opts := Opts{Mode: ModeHIDPOS}

	states := make(chan drivers.State, 16)
	var stateErrs []error
	var mu sync.Mutex
	tick := make(chan struct{})
	attempts := make(chan error, 16) // one per factory call, so the test knows it happened
	sup := drivers.NewSupervisor("desk", func(ctx context.Context) (drivers.Reader, error) {
		d, err := OpenWith(bus, "desk", match, opts)
		attempts <- err
		return d, err
	}, drivers.SupervisorOpts{
		OnState: func(name string, s drivers.State, err error) {
			mu.Lock()
			stateErrs = append(stateErrs, err)
			mu.Unlock()
			states <- s
		},
		Sleep: func(ctx context.Context, d time.Duration) error {
			select {
			case <-tick:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	attempt := func(wantErr bool) {
		t.Helper()
		select {
		case err := <-attempts:
			if (err != nil) != wantErr {
				t.Fatalf("open attempt error %v, want error %v", err, wantErr)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no open attempt")
		}
	}
	wantState := func(s drivers.State) {
		t.Helper()
		select {
		case got := <-states:
			if got != s {
				t.Fatalf("state %s, want %s", got, s)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no state change, want %s", s)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan drivers.Read)
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx, out) }()

	// Not plugged in.
	attempt(true)
	wantState(drivers.StateDisconnected)
	if _, err := sup.State(); err == nil || !strings.Contains(err.Error(), "no HID device with vendor 0c2e, usage page 008c is plugged in") {
		t.Fatalf("absent device error %v", err)
	}

	// Plugged in: the first code is read, then the cable is pulled.
	first := newScript(t, append(append([]transcript.Event{honeywellPOSOn}, posOps(t, "30234000517861")...), fail("hidapi: LIBUSB_ERROR_NO_DEVICE"))...)
	bus.plug(honeywellPOS, first)
	tick <- struct{}{}
	attempt(false)
	wantState(drivers.StateConnected)
	if r := recv(t, out); r.Code != "30234000517861" || r.Device != "desk" || r.Symbology != "]F0" {
		t.Fatalf("read %+v", r)
	}
	bus.unplug(honeywellPOS.Path)
	wantState(drivers.StateDisconnected)
	if _, err := sup.State(); !errors.Is(err, drivers.ErrDisconnected) {
		t.Fatalf("unplug error %v, want ErrDisconnected", err)
	}
	first.Check(t) // the Honeywell HID POS feature report included
	if !first.Closed() {
		t.Error("unplugged device not closed")
	}

	// Still away for one retry.
	tick <- struct{}{}
	attempt(true)
	// Back: a new device handle, read again.
	second := newScript(t, append([]transcript.Event{honeywellPOSOn}, posOps(t, "30234000517879")...)...)
	bus.plug(honeywellPOS, second)
	tick <- struct{}{}
	attempt(false)
	wantState(drivers.StateConnected)
	if r := recv(t, out); r.Code != "30234000517879" {
		t.Fatalf("read after re-plug %q", r.Code)
	}

	cancel()
	wantState(drivers.StateStopped)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if !second.Closed() {
		t.Error("device not closed when supervision stopped")
	}
	bus.mu.Lock()
	if len(bus.opened) != 2 {
		t.Errorf("opened %v, want two opens", bus.opened)
	}
	bus.mu.Unlock()
}

// Two scanners of the same model, told apart by serial number, read at
// once into one channel, each Read carrying its own device name.
func TestSeveralScanners(t *testing.T) {
	bus := newFakeBus()
	a, b := honeywellPOS, honeywellPOS
	a.Serial, a.Path = "AAA", "1-1.2:1.1"
	b.Serial, b.Path = "BBB", "1-1.3:1.1"
	devA := newScript(t, append([]transcript.Event{honeywellPOSOn}, posOps(t, "30234000000016", "30234000000024")...)...)
	devB := newScript(t, append([]transcript.Event{honeywellPOSOn}, posOps(t, "30234000000032")...)...)
	bus.plug(a, devA)
	bus.plug(b, devB)

	out := make(chan drivers.Read)
	var devs []*Dev
	for _, n := range []struct{ name, serial string }{{"left", "AAA"}, {"right", "BBB"}} {
		d, err := OpenWith(bus, n.name, Match{VID: 0x0c2e, UsagePage: 0x8c, Serial: n.serial}, Opts{Mode: ModeHIDPOS})
		if err != nil {
			t.Fatal(err)
		}
		d.Start(context.Background(), out)
		devs = append(devs, d)
	}
	got := map[string][]string{}
	for range 3 {
		r := recv(t, out)
		got[r.Device] = append(got[r.Device], r.Code)
	}
	if fmt.Sprint(got["left"]) != "[30234000000016 30234000000024]" || fmt.Sprint(got["right"]) != "[30234000000032]" {
		t.Errorf("reads by device %v", got)
	}
	for _, d := range devs {
		d.Stop()
	}
	devA.Check(t)
	devB.Check(t)

	// Without a serial the lowest path wins, every time.
	d, err := OpenWith(bus, "any", Match{VID: 0x0c2e}, Opts{Mode: ModeHIDPOS})
	if err != nil {
		t.Fatal(err)
	}
	d.Stop()
	bus.mu.Lock()
	defer bus.mu.Unlock()
	if last := bus.opened[len(bus.opened)-1]; last != a.Path {
		t.Errorf("opened %s, want the lowest path %s", last, a.Path)
	}
}

// An absent scanner is named by what the profile asks for, not by zeros
// it leaves open ("usage page 0000"), and is reported as unplugged, which
// a Supervisor retries.
func TestAbsentDeviceError(t *testing.T) {
	for _, tc := range []struct {
		m    Match
		want string
	}{
		{Match{VID: 0x0c2e}, "no HID device with vendor 0c2e is plugged in"},
		{Match{VID: 0x05e0, PID: 0x1900, UsagePage: 0x8c}, "no HID device with vendor 05e0, product 1900, usage page 008c is plugged in"},
		{Match{VID: 0x0c2e, UsagePage: 0x07}, "no HID device with vendor 0c2e, a keyboard collection is plugged in"},
		{Match{VID: 0x0c2e, MatchInterface: true, Serial: "17345B2F1C"}, `no HID device with vendor 0c2e, interface 0, serial "17345B2F1C" is plugged in`},
	} {
		_, err := OpenWith(newFakeBus(), "desk", tc.m, Opts{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, drivers.ErrDisconnected) {
			t.Errorf("%+v: error %v, want %q wrapping ErrDisconnected", tc.m, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "0000") {
			t.Errorf("%+v: error %v names a zero it does not match on", tc.m, err)
		}
	}
}
