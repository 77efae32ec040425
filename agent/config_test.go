package agent

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/drivers/profile"
)

func TestExampleConfigIsValid(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "tally.example.yaml")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	specs, err := DeviceSpecs(cfg, ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || specs[1].Normalize != nil && specs[1].Kind != "rfid" {
		t.Errorf("specs %+v", specs)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"databse: x.db\n", "line 1: field databse not found"},
		{"listen: 0.0.0.0:8080\n", "token_file is required"},
		{"listen: nonsense\n", "not host:port"},
		{"dedupe_window: soon\n", "not a duration"},
		{"barcodes:\n  item_prefix: X\n", "must be one digit"},
		{"barcodes:\n  institution: 12\n", "must be 4 digits"},
		{"barcodes:\n  asset_pattern: '['\n", "asset_pattern"},
		{"devices:\n  - name: a\n    profile: p\n  - name: a\n    profile: p\n", `name "a" is used twice`},
		{"devices:\n  - name: a\n", "profile is required"},
		{"sync:\n  webhook:\n    url: ftp://x\n", "not an http(s) URL"},
		{"devices:\n  - name: a\n    profil: x\n", "line 3: field profil not found"},
	}
	for _, tc := range tests {
		_, err := ParseConfig("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
	if c, err := ParseConfig("empty.yaml", nil); err != nil || c.Listen != "127.0.0.1:8080" {
		t.Errorf("empty config: %+v %v", c, err)
	}
	ps, _ := profile.Builtin()
	c, _ := ParseConfig("t.yaml", []byte("devices:\n  - name: a\n    profile: no-such-scanner\n"))
	if _, err := DeviceSpecs(c, ps); err == nil || !strings.Contains(err.Error(), "no-such-scanner") {
		t.Errorf("unknown profile: %v", err)
	}
	c, _ = ParseConfig("t.yaml", []byte("devices:\n  - name: w\n    profile: chafon-uhfreader288\n"))
	if _, err := DeviceSpecs(c, ps); err == nil || !strings.Contains(err.Error(), "serial port") {
		t.Errorf("reader without port: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	b, _ := os.ReadFile("../tally.example.yaml")
	f.Add(b)
	f.Add([]byte("devices: [{name: a, profile: b}]"))
	f.Add([]byte("a: &a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("fuzz.yaml", data)
		if err == nil && c.Database == "" {
			t.Fatal("accepted a config without a database")
		}
	})
}
