package webhook

import (
	_ "embed"
	"os"

	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
)

// Config is the sync.webhook section of tally.yaml.
type Config struct {
	URL        string `yaml:"url"`
	SecretFile string `yaml:"secret_file"` // the HMAC key; "" reads TALLY_WEBHOOK_SECRET
	InFlight   int    `yaml:"in_flight"`   // requests at once; 0: 4
}

//go:embed example.yaml
var example string

func init() { sinks.Add("webhook", example, build) }

// Validate implements sinks.Config.
func (c *Config) Validate() error {
	if err := sinks.CheckURL(c.URL, "https://example.org/tally"); err != nil {
		return &sinks.FieldError{Field: "url", Err: err}
	}
	if c.InFlight < 0 {
		return sinks.Field("in_flight", "%d is negative: give requests at once, or 0 for 4", c.InFlight)
	}
	return nil
}

func build(c *Config, _ sinks.Env) (relay.Sink, error) {
	secret, err := sinks.ReadSecret(c.SecretFile)
	if err != nil {
		return nil, &sinks.FieldError{Field: "secret_file", Err: err}
	}
	if secret == "" {
		secret = os.Getenv("TALLY_WEBHOOK_SECRET")
	}
	s, err := New(c.URL, Opts{Secret: []byte(secret), InFlight: c.InFlight})
	if err != nil {
		return nil, err
	}
	return s, nil
}
