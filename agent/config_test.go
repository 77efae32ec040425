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
		{"databse: x.db\n", `t.yaml:1: unknown key "databse"`},
		{"listen: 0.0.0.0:8080\n", "token_file is required"},
		{"listen: nonsense\n", "not host:port"},
		{"dedupe_window: soon\n", "not a duration"},
		{"barcodes:\n  item_prefix: X\n", "must be one digit"},
		{"barcodes:\n  institution: 12\n", "must be 4 digits"},
		{"barcodes:\n  asset_pattern: '['\n", "asset_pattern"},
		{"devices:\n  - name: a\n    profile: p\n  - name: a\n    profile: p\n", `t.yaml:4: devices[1].name: "a" is used twice`},
		{"devices:\n  - name: a\n", "profile is required"},
		{"sync:\n  webhook:\n    url: ftp://x\n", "not an http(s) URL"},
		{"devices:\n  - name: a\n    profil: x\n", `t.yaml:3: unknown key "devices[0].profil"`},
		{"metrics:\n  listen: x\n  tls: y\n", `t.yaml:3: unknown key "metrics.tls"`},
		{"listen: 0.0.0.0:8080\n", "t.yaml:1: listen: 0.0.0.0:8080 is reachable from the network (not loopback)"},
		{"listen: '[::1]:8080'\nmetrics:\n  listen: localhost:99999\n", "t.yaml:3: metrics.listen: \"localhost:99999\": port"},
		{"dedupe_window: -1s\n", "t.yaml:1: dedupe_window: -1s is negative"},
		{"sync:\n  interval: 0s\n", "t.yaml:2: sync.interval: 0s"},
		{"sync:\n  koha:\n    url: koha.example.org\n", `t.yaml:3: sync.koha.url: "koha.example.org" is not an http(s) URL`},
		{"sync:\n  snipeit:\n    url: https://a.example\n    rate_per_minute: -5\n", "t.yaml:4: sync.snipeit.rate_per_minute: -5 is negative"},
		{"sync:\n  sip2:\n    addr: ils.example\n", "t.yaml:3: sync.sip2.addr"},
		{"devices:\n  - name: a\n    profile: p\n    baud: -9600\n", "t.yaml:4: devices[0].baud: -9600 is negative"},
		{"devices:\n  - name: a\n    baud: fast\n", `t.yaml:3: devices[0].baud: "fast" is not a whole number`},
		{"barcodes:\n  item_prefix: X\n", "t.yaml:2: barcodes.item_prefix"},
		{"dedupe_window: soon\n", "t.yaml:1: dedupe_window:"},
		{"tls_cert_file: ui.crt\n", "give both"},
		{"tls_cert_file: ui.crt\ntls_key_file: ui.key\nweb_config: web.yml\n", "not both"},
	}
	for _, tc := range tests {
		_, err := ParseConfig("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "agent.") {
			t.Errorf("%q: the message shows a Go type: %v", tc.yaml, err)
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
