package koha

import (
	_ "embed"

	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
)

// Config is the sync.koha section of tally.yaml: Koha's REST API with
// OAuth2 client credentials or basic auth, secrets read from files.
type Config struct {
	URL              string `yaml:"url"`
	ClientID         string `yaml:"client_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
	User             string `yaml:"user"`
	PasswordFile     string `yaml:"password_file"`
	InFlight         int    `yaml:"in_flight"` // items worked on at once; 0: 4
}

//go:embed example.yaml
var example string

func init() { sinks.Add("koha", example, build) }

// Validate implements sinks.Config.
func (c *Config) Validate() error {
	if err := sinks.CheckURL(c.URL, "https://koha-staff.example.org"); err != nil {
		return &sinks.FieldError{Field: "url", Err: err}
	}
	if c.InFlight < 0 || c.InFlight > 64 {
		return sinks.Field("in_flight", "%d: give 1 to 64 items at once, or 0 for 4", c.InFlight)
	}
	return nil
}

// Opts turns the section into the client's options, reading the secret
// files (for the sink and for tally import --from koha).
func (c *Config) Opts() (Opts, error) {
	o := DefaultOpts
	o.BaseURL, o.ClientID, o.User = c.URL, c.ClientID, c.User
	if c.InFlight != 0 {
		o.Concurrency = c.InFlight
	}
	var err error
	if o.ClientSecret, err = sinks.ReadSecret(c.ClientSecretFile); err != nil {
		return o, &sinks.FieldError{Field: "client_secret_file", Err: err}
	}
	if o.Password, err = sinks.ReadSecret(c.PasswordFile); err != nil {
		return o, &sinks.FieldError{Field: "password_file", Err: err}
	}
	return o, nil
}

func build(c *Config, _ sinks.Env) (relay.Sink, error) {
	o, err := c.Opts()
	if err != nil {
		return nil, err
	}
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	return s, nil
}
