package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tally-inventory/tally/drivers/barcode"
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
	// Metrics is the Prometheus listener.
	Metrics MetricsConfig `yaml:"metrics"`
	// Barcodes says how this library numbers its barcodes.
	Barcodes BarcodeConfig `yaml:"barcodes"`
	// DedupeWindow merges repeated RFID reads of one tag on one device.
	DedupeWindow Duration `yaml:"dedupe_window"`
	// Devices are the scanners and readers to run.
	Devices []DeviceConfig `yaml:"devices"`
	// Feedback is the buzzer and LEDs.
	Feedback FeedbackConfig `yaml:"feedback"`
	// Sync is where the outbox goes.
	Sync SyncConfig `yaml:"sync"`
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

// DeviceConfig is one device.
type DeviceConfig struct {
	Name    string `yaml:"name"`
	Profile string `yaml:"profile"`
	// Port is the serial port of an RFID reader (overrides the profile).
	Port string `yaml:"port"`
	// Baud overrides the profile's serial speed.
	Baud int `yaml:"baud"`
	// Serial picks one scanner by its USB serial number when several of
	// one model are plugged in.
	Serial string `yaml:"serial"`
	// Path picks a scanner by its HID path.
	Path string `yaml:"path"`
	// Session binds the device to a session at start (0: bind later).
	Session int64 `yaml:"session"`
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
	Interval Duration       `yaml:"interval"`
	Export   *ExportConfig  `yaml:"export"`
	Webhook  *WebhookConfig `yaml:"webhook"`
	Koha     *KohaConfig    `yaml:"koha"`
	SIP2     *SIP2Config    `yaml:"sip2"`
	SnipeIT  *SnipeITConfig `yaml:"snipeit"`
}

// ExportConfig writes files a person can carry.
type ExportConfig struct {
	Dir string `yaml:"dir"`
}

// WebhookConfig posts signed JSON.
type WebhookConfig struct {
	URL        string `yaml:"url"`
	SecretFile string `yaml:"secret_file"`
	InFlight   int    `yaml:"in_flight"` // requests at once; 0: 4
}

// KohaConfig reaches Koha's REST API.
type KohaConfig struct {
	URL              string `yaml:"url"`
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
	User             string `yaml:"user"`
	PasswordFile     string `yaml:"password_file"`
	InFlight         int    `yaml:"in_flight"` // items worked on at once; 0: 4
}

// SIP2Config reaches an ILS over SIP2.
type SIP2Config struct {
	Addr         string `yaml:"addr"`
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	Location     string `yaml:"location"`
	Institution  string `yaml:"institution"`
}

// SnipeITConfig reaches Snipe-IT.
type SnipeITConfig struct {
	URL            string `yaml:"url"`
	TokenFile      string `yaml:"token_file"`
	RatePerMinute  int    `yaml:"rate_per_minute"`
	UpdateLocation bool   `yaml:"update_location"`
	LocationID     int    `yaml:"location_id"`
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
// each with the file and line.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes config text strictly.
func ParseConfig(name string, data []byte) (*Config, error) {
	c := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty file means the defaults
		return nil, fmt.Errorf("%s: %s (see tally.example.yaml for every key)", name, yamlMsg(err))
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &c, nil
}

func yamlMsg(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n")
	s = strings.ReplaceAll(s, "\n  ", "; ")
	return strings.TrimSpace(s)
}

// Validate checks what decoding cannot: addresses, names, patterns.
func (c *Config) Validate() error {
	var errs []error
	if c.Database == "" {
		errs = append(errs, errors.New("database: give the SQLite file, e.g. /var/lib/tally/tally.db"))
	}
	if c.Listen != "" {
		host, _, err := net.SplitHostPort(c.Listen)
		if err != nil {
			errs = append(errs, fmt.Errorf("listen: %q is not host:port", c.Listen))
		} else if !IsLoopback(host) && c.TokenFile == "" {
			errs = append(errs, fmt.Errorf("listen: %s is reachable from the network, so token_file is required (a file holding the login token or PIN)", c.Listen))
		}
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			errs = append(errs, fmt.Errorf("metrics.listen: %q is not host:port", c.Metrics.Listen))
		}
	}
	if _, err := c.Barcodes.Opts(); err != nil {
		errs = append(errs, err)
	}
	seen := map[string]bool{}
	for i, d := range c.Devices {
		switch {
		case d.Name == "":
			errs = append(errs, fmt.Errorf("devices[%d]: name is required", i))
		case seen[d.Name]:
			errs = append(errs, fmt.Errorf("devices[%d]: name %q is used twice", i, d.Name))
		}
		seen[d.Name] = true
		if d.Profile == "" {
			errs = append(errs, fmt.Errorf("devices[%d] (%s): profile is required (list them with `tally profiles`)", i, d.Name))
		}
	}
	if s := c.Sync.Webhook; s != nil && !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
		errs = append(errs, fmt.Errorf("sync.webhook.url: %q is not an http(s) URL", s.URL))
	}
	if s := c.Sync.Export; s != nil && s.Dir == "" {
		errs = append(errs, errors.New("sync.export.dir: name the folder to write into"))
	}
	return errors.Join(errs...)
}

// IsLoopback reports whether host (from host:port) is reachable only from
// this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

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
func ReadSecret(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
