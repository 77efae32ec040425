// Package sinks is the registry of upstream sinks, the way Telegraf's
// outputs.Add is: each sink package registers, from its own init, the
// section it reads under sync: in tally.yaml (its config struct), the
// factory that turns that section into a relay.Sink, and an annotated
// example block for tally.example.yaml. The config loader and the runtime
// look sinks up here by name; package all links every sink in.
//
// Adding a sink is its package (a Config, a factory, an example block and
// one Add call in an init) plus one import line in sinks/all; then
// `go test ./agent -run TestExampleSinkBlocks -update` puts its example
// block, commented out, into tally.example.yaml.
package sinks

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tally-inventory/tally/sync/relay"
)

// Config is a sink's section of the config file (sync.NAME), decoded
// strictly into the sink's own struct: an unknown key is an error naming
// its line.
type Config interface {
	// Validate checks what needs nothing outside the file (URLs, ranges).
	// A problem with one key is a *FieldError, so the message names it.
	Validate() error
}

// FieldError is a problem with one key of a sink's section.
type FieldError struct {
	Field string // the key within the section, e.g. "url" or "password_file"
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Field returns a *FieldError for field.
func Field(field string, format string, a ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, a...)}
}

// Item is what a sink may know of a catalog item at delivery: the columns
// an export fills in, and whether it is equipment (Snipe-IT audits only
// that).
type Item struct {
	Title, Author, CallNumber     string
	Library, Location, Collection string
	Status                        string // catalog status, e.g. "available", "lost"
	Equipment                     bool
}

// Env is what a factory gets from the runtime besides its config.
type Env struct {
	// Lookup finds a barcode in the agent's catalog; nil when there is
	// none at hand (a config check, tally sync without an index).
	Lookup func(barcode string) (Item, bool)
}

// Plugin is one registered sink.
type Plugin struct {
	// Name is its key under sync: and its name in status and metrics.
	Name string
	// Example is the annotated YAML block of its section, starting with
	// "NAME:", as tally.example.yaml shows it (indented under sync:).
	Example string

	config func() Config
	build  func(Config, Env) (relay.Sink, error)
}

// NewConfig returns a fresh config of the plugin's type (a pointer to its
// struct), ready to decode a section into.
func (p Plugin) NewConfig() Config { return p.config() }

// Build makes the sink of a decoded, valid config. Errors name the key:
// "sync.koha.password_file: …" or "sync.koha: …".
func (p Plugin) Build(c Config, env Env) (relay.Sink, error) {
	if reflect.TypeOf(c) != reflect.TypeOf(p.config()) {
		return nil, fmt.Errorf("sync.%s: config is a %T, want %T", p.Name, c, p.config())
	}
	s, err := p.build(c, env)
	if err != nil {
		return nil, errors.Join(p.keyed(err)...)
	}
	return s, nil
}

// Validate runs c's Validate, each problem named by its key as Build's are.
func (p Plugin) Validate(c Config) []error { return p.keyed(c.Validate()) }

// Checker is a Config that checks what needs the machine without changing
// it; the export checks that its folder can be made, and does not make it.
type Checker interface {
	Check() error
}

// Check checks c as Build would, without keeping anything: a Checker's
// Check, or else Build with the sink dropped (the sinks make no request
// until they deliver). Errors are named by key as Build's are.
func (p Plugin) Check(c Config) []error {
	if ch, ok := c.(Checker); ok {
		return p.keyed(ch.Check())
	}
	if _, err := p.Build(c, Env{}); err != nil {
		return []error{err}
	}
	return nil
}

// KeyError names each of err's errors, from sink name's factory or
// config, by its key: "sync.NAME: …", or "sync.NAME.FIELD: …" for a
// *FieldError.
func KeyError(name string, err error) error {
	return errors.Join(Plugin{Name: name}.keyed(err)...)
}

func (p Plugin) keyed(err error) []error {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		if fe, ok := errors.AsType[*FieldError](e); ok {
			out = append(out, fmt.Errorf("sync.%s.%s: %w", p.Name, fe.Field, fe.Err))
			continue
		}
		out = append(out, fmt.Errorf("sync.%s: %w", p.Name, e))
	}
	return out
}

var (
	mu      sync.RWMutex
	plugins = map[string]Plugin{}
)

// Add registers a sink: name is its key under sync:, example its annotated
// section, build its factory (given the section decoded into a new C). It
// is meant for init functions and panics when a name is taken or not a
// plain lower-case key, as registering two sinks under one key is a
// programming error.
func Add[C any, PC interface {
	*C
	Config
}](name, example string, build func(PC, Env) (relay.Sink, error)) {
	if !validName(name) {
		panic(fmt.Sprintf("sinks: name %q: want a lower-case YAML key (a-z, 0-9, _)", name))
	}
	if name == "interval" {
		panic("sinks: name \"interval\" is the relay's own setting under sync:")
	}
	if build == nil {
		panic("sinks: " + name + ": nil factory")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := plugins[name]; dup {
		panic("sinks: " + name + " registered twice")
	}
	plugins[name] = Plugin{
		Name:    name,
		Example: example,
		config:  func() Config { return PC(new(C)) },
		build:   func(c Config, env Env) (relay.Sink, error) { return build(c.(PC), env) },
	}
}

func validName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// Lookup returns the sink registered as name.
func Lookup(name string) (Plugin, error) {
	mu.RLock()
	p, ok := plugins[name]
	mu.RUnlock()
	if !ok {
		return Plugin{}, fmt.Errorf("no sink %q: the sinks are %s", name, strings.Join(Names(), ", "))
	}
	return p, nil
}

// Names lists the registered sinks, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(plugins))
	for n := range plugins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// All returns the registered sinks sorted by name.
func All() []Plugin {
	var all []Plugin
	for _, n := range Names() {
		p, _ := Lookup(n)
		all = append(all, p)
	}
	return all
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

// CheckURL checks an http(s) URL with a host; example is one to suggest.
func CheckURL(s, example string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL such as %s", s, example)
	}
	return nil
}

// HostPort checks a host:port address and returns the host.
func HostPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q is not host:port, e.g. 127.0.0.1:8080", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return host, nil
}
