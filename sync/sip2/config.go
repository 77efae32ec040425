package sip2

import (
	_ "embed"

	"github.com/tally-inventory/tally/sync/relay"
	"github.com/tally-inventory/tally/sync/sinks"
)

// Config is the sync.sip2 section of tally.yaml.
type Config struct {
	Addr         string `yaml:"addr"` // host:port of the ACS's raw TCP SIP service
	User         string `yaml:"user"`
	PasswordFile string `yaml:"password_file"`
	Location     string `yaml:"location"`
	Institution  string `yaml:"institution"`
}

//go:embed example.yaml
var example string

func init() { sinks.Add("sip2", example, build) }

// Validate implements sinks.Config.
func (c *Config) Validate() error {
	if _, err := sinks.HostPort(c.Addr); err != nil {
		return &sinks.FieldError{Field: "addr", Err: err}
	}
	return nil
}

func build(c *Config, _ sinks.Env) (relay.Sink, error) {
	o := DefaultOpts
	o.Addr, o.User, o.Location, o.Institution = c.Addr, c.User, c.Location, c.Institution
	var err error
	if o.Password, err = sinks.ReadSecret(c.PasswordFile); err != nil {
		return nil, &sinks.FieldError{Field: "password_file", Err: err}
	}
	s, err := NewSink("sip2", o)
	if err != nil {
		return nil, err
	}
	return s, nil
}
