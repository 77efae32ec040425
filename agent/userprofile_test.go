package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.bug.st/serial/enumerator"

	"github.com/tally-inventory/tally/drivers/hidscanner"
	"github.com/tally-inventory/tally/drivers/profile"
)

// userSetup copies testdata/profiles into a fresh directory beside a
// config that names it (relatively) and picks both devices by USB ids.
func userSetup(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	pdir := filepath.Join(dir, "profiles")
	if err := os.Mkdir(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"acme-ls100-hidpos.yaml", "acme-uhf-desk.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "profiles", name))
		if err != nil {
			t.Fatal(err)
		}
		extra[name] = string(b)
	}
	for name, text := range extra {
		if err := os.WriteFile(filepath.Join(pdir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `database: tally.db
profiles_dir: profiles
devices:
  - name: front-desk
    profile: acme-ls100-hidpos
    vid: "0x1a2b"
    pid: "0x3c4d"
  - name: desk-pad
    profile: acme-uhf-desk
    vid: "1a86"
    pid: "7523"
`
	path := filepath.Join(dir, "tally.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestUserProfilesRun: profiles of the school's own devices, loaded from
// the config's profiles_dir, open through the factory `tally run` uses: a
// scanner picked by vid/pid on the HID bus, a reader whose serial port is
// found by its USB-serial bridge's vid/pid.
func TestUserProfilesRun(t *testing.T) {
	cfg, err := LoadConfig(userSetup(t, map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Profiles(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	scanner, err := profile.Find(ps, "acme-ls100-hidpos")
	if err != nil {
		t.Fatal(err)
	}
	bus := &hidBus{}
	// Another vendor's scanner on the bus must not be picked.
	bus.plug(hidscanner.DeviceInfo{Path: "1-1:1.0", VID: 0x0c2e, PID: 0x0b61}, nil)
	bus.plug(hidscanner.DeviceInfo{Path: "1-2:1.0", VID: 0x1a2b, PID: 0x3c4d}, scannerEvents(t, scanner))
	reader, err := profile.Find(ps, "acme-uhf-desk")
	if err != nil {
		t.Fatal(err)
	}
	port, _ := readerSim(t, ctx, reader)
	ports := func() ([]*enumerator.PortDetails, error) {
		return []*enumerator.PortDetails{
			{Name: "/dev/ttyS0"},
			{Name: "/dev/ttyACM0", IsUSB: true, VID: "2341", PID: "0043"},
			{Name: port, IsUSB: true, VID: "1A86", PID: "7523", SerialNumber: "X1"},
		}, nil
	}
	specs, err := DeviceSpecsEnv(cfg, ps, OpenEnv{HID: bus, SerialPorts: ports})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		r, err := s.Open(ctx)
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		rd := firstRead(t, ctx, r)
		if s.Normalize != nil {
			rd = s.Normalize(rd)
		}
		want := libraryCode
		if s.Name == "desk-pad" {
			want = sgtinURN
		}
		if rd.Code != want {
			t.Errorf("%s: read %q, want %q", s.Name, rd.Code, want)
		}
	}
	// Two bridges with the same ids: the config must say which.
	twice := func() ([]*enumerator.PortDetails, error) {
		return []*enumerator.PortDetails{{Name: "/dev/ttyUSB0", IsUSB: true, VID: "1a86", PID: "7523"}, {Name: "/dev/ttyUSB1", IsUSB: true, VID: "1a86", PID: "7523"}}, nil
	}
	specs, err = DeviceSpecsEnv(cfg, ps, OpenEnv{HID: bus, SerialPorts: twice})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := specs[1].Open(ctx); err == nil || !strings.Contains(err.Error(), "2 serial ports on USB device 1a86:7523") {
		t.Errorf("ambiguous bridge: %v", err)
	}
}

// TestUserProfileErrors: a user profile is held to the built-in rules,
// and its errors name its file and line.
func TestUserProfileErrors(t *testing.T) {
	for _, tc := range []struct {
		file, text, want string
	}{
		{"acme-bad.yaml", "name: acme-bad\nvendor: Acme\nmodel: X\nkind: scanner\nmode: keyboard\ndecode:\n  terminator: none\n",
			"profiles/acme-bad.yaml:7: decode.terminator: none: a keyboard-mode scanner must end each code"},
		{"acme-typo.yaml", "name: acme-typo\nvendor: Acme\nmodel: X\nkind: scanner\nmode: hidpos\nmatchs: []\n",
			`profiles/acme-typo.yaml:6: matchs: unknown field "matchs"`},
		{"generic-keyboard-wedge.yaml", "# mine\nname: generic-keyboard-wedge\nvendor: Acme\nmodel: X\nkind: scanner\nmode: keyboard\n",
			`generic-keyboard-wedge.yaml:2: name: "generic-keyboard-wedge" is a built-in profile`},
	} {
		cfg, err := LoadConfig(userSetup(t, map[string]string{tc.file: tc.text}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Profiles(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.file, err, tc.want)
		}
	}
	cfg, err := ParseConfig("t.yaml", []byte("profiles_dir: /nonexistent/profiles\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Profiles(cfg); err == nil || !strings.Contains(err.Error(), "profiles_dir") {
		t.Errorf("missing dir: %v", err)
	}
	for _, y := range []string{"vid: 12", "vid: \"0xzz12\"", "pid: \"0x1234\""} {
		_, err := ParseConfig("t.yaml", []byte("devices:\n  - name: a\n    profile: p\n    "+y+"\n"))
		if err == nil || !strings.Contains(err.Error(), "t.yaml:4: devices[0].") {
			t.Errorf("%s: %v", y, err)
		}
	}
}
