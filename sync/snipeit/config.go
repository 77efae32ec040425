package snipeit

import (
	_ "embed"

	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
)

// Config is the sync.snipeit section of tally.yaml.
type Config struct {
	URL            string `yaml:"url"`
	TokenFile      string `yaml:"token_file"`
	RatePerMinute  int    `yaml:"rate_per_minute"` // 0: 120
	UpdateLocation bool   `yaml:"update_location"`
	LocationID     int    `yaml:"location_id"`
}

//go:embed example.yaml
var example string

func init() { sinks.Add("snipeit", example, build) }

// Validate implements sinks.Config.
func (c *Config) Validate() error {
	if err := sinks.CheckURL(c.URL, "https://assets.example.org"); err != nil {
		return &sinks.FieldError{Field: "url", Err: err}
	}
	if c.RatePerMinute < 0 {
		return sinks.Field("rate_per_minute", "%d is negative: give requests a minute, or 0 for 120", c.RatePerMinute)
	}
	if c.LocationID < 0 {
		return sinks.Field("location_id", "%d is negative: give the Snipe-IT location id, or 0 for none", c.LocationID)
	}
	return nil
}

// Opts turns the section into the client's options (for the sink and for
// tally import --from snipeit).
func (c *Config) Opts() Opts {
	o := DefaultOpts
	o.BaseURL, o.TokenFile, o.UpdateLocation, o.LocationID = c.URL, c.TokenFile, c.UpdateLocation, c.LocationID
	if c.RatePerMinute > 0 {
		o.RatePerMinute = c.RatePerMinute
	}
	return o
}

func build(c *Config, env sinks.Env) (relay.Sink, error) {
	o := c.Opts()
	if l := env.Lookup; l != nil {
		// Only equipment goes to Snipe-IT; a book's sighting is not an asset audit.
		o.Equipment = func(bc string) bool { it, ok := l(bc); return ok && it.Equipment }
	}
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	return s, nil
}
