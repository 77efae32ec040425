package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tally-inventory/tally/agent/web"
	"github.com/tally-inventory/tally/drivers/barcode"
	"github.com/tally-inventory/tally/drivers/readers"
	"github.com/tally-inventory/tally/sync/sinks"
)

// Config is tally.yaml: one file, strictly decoded — an unknown key is an
// error naming its line — with every key documented in tally.example.yaml.
type Config struct {
	// Database is the SQLite file.
	Database string `yaml:"database"`
	// Listen is the UI and JSON API address; loopback by default.
	Listen string `yaml:"listen"`
	// TokenFile holds the login token or PIN; required when Listen is not loopback.
	TokenFile string `yaml:"token_file"`
	// TLSCertFile and TLSKeyFile serve the UI over HTTPS (PEM files);
	// WebConfig is the alternative, an exporter-toolkit web config file
	// (its tls_server_config), as for metrics.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	WebConfig   string `yaml:"web_config"`
	// Metrics is the Prometheus listener.
	Metrics MetricsConfig `yaml:"metrics"`
	// Barcodes says how this library numbers its barcodes.
	Barcodes BarcodeConfig `yaml:"barcodes"`
	// DedupeWindow merges repeated RFID reads of one tag on one device.
	DedupeWindow Duration `yaml:"dedupe_window"`
	// Devices are the scanners and readers to run.
	Devices []DeviceConfig `yaml:"devices"`
	// ProfilesDir holds the school's own device profiles (*.yaml, checked
	// as strictly as the built-in ones); relative to the config file.
	ProfilesDir string `yaml:"profiles_dir"`
	// Feedback is the buzzer and LEDs.
	Feedback FeedbackConfig `yaml:"feedback"`
	// Sync is where the outbox goes.
	Sync SyncConfig `yaml:"sync"`
	// MemoryLimitMB is Go's soft memory limit in MiB: 0 follows the live
	// heap plus a margin, -1 sets none (GOMEMLIMIT, when set, wins).
	MemoryLimitMB int `yaml:"memory_limit_mb"`

	file string     // the file it was read from, for messages
	root *yaml.Node // its YAML tree, for the line of each key
}

// MetricsConfig is the metrics listener.
type MetricsConfig struct {
	Listen    string `yaml:"listen"`     // "" disables it
	WebConfig string `yaml:"web_config"` // exporter-toolkit web config file (TLS, basic auth)
}

// BarcodeConfig maps onto drivers/barcode.Opts.
type BarcodeConfig struct {
	ItemPrefix    string `yaml:"item_prefix"`
	PatronPrefix  string `yaml:"patron_prefix"`
	Institution   string `yaml:"institution"`
	AssetPattern  string `yaml:"asset_pattern"`
	PatronPattern string `yaml:"patron_pattern"`
	EAN8          bool   `yaml:"ean8"`
}

// DeviceConfig is one device: its name, profile and session here, where it
// is (port, USB ids, …) in the reader registry's own struct.
type DeviceConfig struct {
	Name    string `yaml:"name"`
	Profile string `yaml:"profile"`
	// Session binds the device to a session at start (0: bind later).
	Session              int64 `yaml:"session"`
	readers.DeviceConfig `yaml:",inline"`
}

// FeedbackConfig names GPIO pins (periph.io names such as GPIO18).
type FeedbackConfig struct {
	Buzzer string `yaml:"buzzer"`
	Green  string `yaml:"green"`
	Red    string `yaml:"red"`
	PWM    bool   `yaml:"pwm"`
}

// SyncConfig configures the relay and its sinks.
type SyncConfig struct {
	Interval Duration
	// Sinks are the configured sinks by their key under sync:, each
	// decoded into its own package's config struct (sync/sinks registry).
	Sinks map[string]sinks.Config
}

// Duration is a time.Duration written as "2s" or "500ms" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration such as 2s or 500ms", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// DefaultConfig is what an empty file means.
func DefaultConfig() Config {
	return Config{
		Database:     "tally.db",
		Listen:       "127.0.0.1:8080",
		Metrics:      MetricsConfig{Listen: "127.0.0.1:9464"},
		Barcodes:     BarcodeConfig{ItemPrefix: "3", PatronPrefix: "2"},
		DedupeWindow: Duration(2 * time.Second),
		Sync:         SyncConfig{Interval: Duration(30 * time.Second)},
	}
}

// LoadConfig reads and validates a config file. Every problem is reported,
// each with the file and line. When the file decodes but is not valid the
// config comes back beside the error (for `tally config check` to go on);
// it must not be used to run.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes config text strictly. Every message names the file
// and the line: "tally.yaml:12: sync.koha.url: …".
func ParseConfig(name string, data []byte) (*Config, error) {
	c := DefaultConfig()
	c.file = name
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file means the defaults
		var root yaml.Node
		if yaml.Unmarshal(data, &root) == nil {
			c.root = &root
		}
		return nil, c.yamlError(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil {
		c.root = &root
	}
	if c.ProfilesDir != "" && !filepath.IsAbs(c.ProfilesDir) {
		c.ProfilesDir = filepath.Join(filepath.Dir(name), c.ProfilesDir)
	}
	if err := c.Validate(); err != nil {
		return &c, err // decoded but not valid: a checker can go on to list the rest
	}
	return &c, nil
}

var (
	yamlLine     = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type .+$`)
	cannotDecode = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
)

// yamlError turns the YAML decoder's messages into ones about the file: the
// line, the key, and what to do — without the Go types behind them.
func (c *Config) yamlError(err error) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	var errs []error
	for _, m := range msgs {
		sm := yamlLine.FindStringSubmatch(m)
		if sm == nil {
			errs = append(errs, fmt.Errorf("%s: %s", c.file, m))
			continue
		}
		line, text := sm[1], sm[2]
		n, _ := strconv.Atoi(line)
		key := c.keyAt(n)
		if u := unknownField.FindStringSubmatch(text); u != nil {
			if key == "" {
				key = u[1]
			}
			text = fmt.Sprintf("unknown key %q (see tally.example.yaml for every key; a typo?)", key)
			if name, ok := strings.CutPrefix(key, "sync."); ok && !strings.Contains(name, ".") {
				text = fmt.Sprintf("unknown key %q: sync takes interval and the sinks %s (see tally.example.yaml; a typo?)", key, strings.Join(sinks.Names(), ", "))
			}
			errs = append(errs, fmt.Errorf("%s:%s: %s", c.file, line, text))
			continue
		}
		if d := cannotDecode.FindStringSubmatch(text); d != nil {
			text = fmt.Sprintf("%q is not %s", d[2], kindName(d[3]))
		}
		if key != "" && !strings.HasPrefix(text, key+":") {
			text = key + ": " + text
		}
		errs = append(errs, fmt.Errorf("%s:%s: %s", c.file, line, text))
	}
	return errors.Join(errs...)
}

// kindName says in words what a Go type of the config holds.
func kindName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list (lines starting with \"- \")"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "text"
	}
	return "a section of key: value lines"
}

// Line is the line of key ("sync.koha.url", "devices[1].profile") in the
// file, or of its nearest parent that is there; 0 if none is.
func (c *Config) Line(key string) int {
	if c.root == nil || len(c.root.Content) == 0 {
		return 0
	}
	n := c.root.Content[0]
	line := 0
	for _, part := range keyParts(key) {
		next := (*yaml.Node)(nil)
		switch {
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					line = n.Content[i].Line
					next = n.Content[i+1]
				}
			}
		case n.Kind == yaml.SequenceNode && strings.HasPrefix(part, "["):
			if i, err := strconv.Atoi(strings.Trim(part, "[]")); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}

func keyParts(key string) []string {
	var parts []string
	for _, p := range strings.Split(key, ".") {
		if i := strings.Index(p, "["); i > 0 {
			parts = append(parts, p[:i], p[i:])
			continue
		}
		parts = append(parts, p)
	}
	return parts
}

// keyAt is the dotted key whose name stands on line, "" if none.
func (c *Config) keyAt(line int) string {
	if c.root == nil || len(c.root.Content) == 0 {
		return ""
	}
	var walk func(n *yaml.Node, path string) string
	walk = func(n *yaml.Node, path string) string {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if path != "" {
					k = path + "." + k
				}
				if n.Content[i].Line == line {
					return k
				}
				if r := walk(n.Content[i+1], k); r != "" {
					return r
				}
			}
		case yaml.SequenceNode:
			for i, e := range n.Content {
				if r := walk(e, fmt.Sprintf("%s[%d]", path, i)); r != "" {
					return r
				}
			}
		}
		return ""
	}
	return walk(c.root.Content[0], "")
}

// KeyError locates err at key: "tally.yaml:12: sync.koha.url: err". When
// err already starts with a longer key under this one
// ("sync.koha.password_file: …") it is located there instead.
func (c *Config) KeyError(key string, err error) error {
	msg := err.Error()
	if strings.HasPrefix(msg, key+".") || strings.HasPrefix(msg, key+"[") {
		if i := strings.Index(msg, ": "); i > 0 && !strings.ContainsAny(msg[:i], " \t") {
			key, msg = msg[:i], msg[i+2:]
		}
	} else if strings.HasPrefix(msg, key+": ") {
		msg = strings.TrimPrefix(msg, key+": ")
	}
	switch line := c.Line(key); {
	case c.file == "":
		return fmt.Errorf("%s: %s", key, msg)
	case line == 0:
		return fmt.Errorf("%s: %s: %s", c.file, key, msg)
	default:
		return fmt.Errorf("%s:%d: %s: %s", c.file, line, key, msg)
	}
}

// Validate checks what decoding cannot and needs nothing outside the file:
// addresses, URLs, ranges, names, patterns. (What needs the machine — that
// secret files exist, pins, profiles — is checked by the command that
// runs the agent, and by `tally config check` with it.)
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) { errs = append(errs, c.KeyError(key, fmt.Errorf(format, a...))) }
	if c.Database == "" {
		bad("database", "give the SQLite file, e.g. /var/lib/tally/tally.db")
	}
	if c.Listen != "" {
		if host, err := hostPort(c.Listen); err != nil {
			bad("listen", "%v", err)
		} else if !web.IsLoopback(host) && c.TokenFile == "" {
			bad("listen", "%s is reachable from the network (not loopback), so token_file is required (a file holding a login token of 12 characters or more), or listen on 127.0.0.1", c.Listen)
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		key := "tls_cert_file"
		if c.TLSCertFile == "" {
			key = "tls_key_file"
		}
		bad(key, "give both tls_cert_file and tls_key_file (HTTPS for the UI) or neither")
	}
	if c.TLSCertFile != "" && c.WebConfig != "" {
		bad("web_config", "give either tls_cert_file/tls_key_file or web_config for the UI, not both")
	}
	if c.Metrics.Listen != "" {
		if _, err := hostPort(c.Metrics.Listen); err != nil {
			bad("metrics.listen", "%v", err)
		}
	}
	if _, err := c.Barcodes.Opts(); err != nil {
		key := "barcodes"
		if i := strings.Index(err.Error(), ":"); i > 0 {
			key = err.Error()[:i]
		}
		errs = append(errs, c.KeyError(key, err))
	}
	if c.DedupeWindow < 0 {
		bad("dedupe_window", "%v is negative: give a window such as 2s (0 keeps every read)", time.Duration(c.DedupeWindow))
	}
	if c.MemoryLimitMB < -1 {
		bad("memory_limit_mb", "%d: give a limit in MiB, 0 to follow the live heap, or -1 for none", c.MemoryLimitMB)
	}
	seen := map[string]bool{}
	for i, d := range c.Devices {
		at := fmt.Sprintf("devices[%d]", i)
		switch {
		case d.Name == "":
			bad(at+".name", "name is required")
		case seen[d.Name]:
			bad(at+".name", "%q is used twice", d.Name)
		}
		seen[d.Name] = true
		if d.Profile == "" {
			bad(at+".profile", "device %s: profile is required (list them with `tally profiles`)", d.Name)
		}
		if d.Session < 0 {
			bad(at+".session", "%d is negative: give a session id, or 0 to bind later", d.Session)
		}
		for _, fe := range d.DeviceConfig.Validate(d.Name) {
			errs = append(errs, c.KeyError(at+"."+fe.Field, fe.Err))
		}
	}
	if c.Sync.Interval <= 0 {
		bad("sync.interval", "%v: give how often the relay looks for due rows, e.g. 30s", time.Duration(c.Sync.Interval))
	}
	errs = append(errs, c.validateSinks()...)
	return errors.Join(errs...)
}

// hostPort checks a host:port address and returns the host.
func hostPort(addr string) (string, error) { return sinks.HostPort(addr) }

// Opts turns the barcode settings into drivers/barcode options.
func (b BarcodeConfig) Opts() (barcode.Opts, error) {
	o := barcode.DefaultOpts
	one := func(field, v string) (byte, error) {
		switch len(v) {
		case 0:
			return 0, nil
		case 1:
			if v[0] >= '0' && v[0] <= '9' {
				return v[0], nil
			}
		}
		return 0, fmt.Errorf("barcodes.%s: %q must be one digit (or empty to turn the rule off)", field, v)
	}
	var err error
	if o.ItemPrefix, err = one("item_prefix", b.ItemPrefix); err != nil {
		return o, err
	}
	if o.PatronPrefix, err = one("patron_prefix", b.PatronPrefix); err != nil {
		return o, err
	}
	if b.Institution != "" && !regexp.MustCompile(`^\d{4}$`).MatchString(b.Institution) {
		return o, fmt.Errorf("barcodes.institution: %q must be 4 digits", b.Institution)
	}
	o.Institution = b.Institution
	o.EAN8 = b.EAN8
	if b.AssetPattern != "" {
		if o.AssetPattern, err = regexp.Compile(b.AssetPattern); err != nil {
			return o, fmt.Errorf("barcodes.asset_pattern: %w", err)
		}
	}
	if b.PatronPattern != "" {
		if o.PatronPattern, err = regexp.Compile(b.PatronPattern); err != nil {
			return o, fmt.Errorf("barcodes.patron_pattern: %w", err)
		}
	}
	return o, nil
}

// ReadSecret reads a secret from a file, trimmed; "" when path is "".
func ReadSecret(path string) (string, error) { return sinks.ReadSecret(path) }
