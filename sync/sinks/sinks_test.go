package sinks

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/sync/outbox"
	"github.com/tally-inventory/tally/sync/relay"
)

type testConfig struct {
	URL string `yaml:"url"`
}

func (c *testConfig) Validate() error {
	if c.URL == "" {
		return Field("url", "give the URL")
	}
	return nil
}

type testSink struct{ name string }

func (s testSink) Name() string                                            { return s.name }
func (s testSink) Deliver(context.Context, []outbox.Event) []relay.Outcome { return nil }

// register adds a plugin for one test and takes it out again.
func register(t *testing.T, name string, build func(*testConfig, Env) (relay.Sink, error)) {
	t.Helper()
	Add(name, name+":\n  url: https://example.org\n", build)
	t.Cleanup(func() { mu.Lock(); delete(plugins, name); mu.Unlock() })
}

func TestAddTwicePanics(t *testing.T) {
	build := func(*testConfig, Env) (relay.Sink, error) { return testSink{"t"}, nil }
	register(t, "regtest", build)
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), "regtest registered twice") {
			t.Errorf("second Add of regtest: recovered %v, want a panic naming it", r)
		}
	}()
	Add("regtest", "", build)
}

func TestAddRefusesBadNames(t *testing.T) {
	build := func(*testConfig, Env) (relay.Sink, error) { return testSink{"t"}, nil }
	for _, name := range []string{"", "Koha", "sync.koha", "interval", "1koha", "ko ha"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Add(%q) did not panic", name)
					mu.Lock()
					delete(plugins, name)
					mu.Unlock()
				}
			}()
			Add(name, "", build)
		}()
	}
}

func TestLookupUnknownListsRegistered(t *testing.T) {
	build := func(*testConfig, Env) (relay.Sink, error) { return testSink{"t"}, nil }
	register(t, "regtest_b", build)
	register(t, "regtest_a", build)
	_, err := Lookup("regtest_c")
	if err == nil {
		t.Fatal("Lookup of an unregistered sink: no error")
	}
	if want := `no sink "regtest_c": the sinks are ` + strings.Join(Names(), ", "); err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if !strings.Contains(err.Error(), "regtest_a, regtest_b") {
		t.Errorf("%q does not list the registered sinks in order", err)
	}
}

func TestBuildNamesTheKey(t *testing.T) {
	register(t, "regtest", func(c *testConfig, env Env) (relay.Sink, error) {
		switch c.URL {
		case "field":
			return nil, Field("secret_file", "read secret: no such file")
		case "other":
			return nil, errors.New("upstream said no")
		}
		return testSink{"regtest"}, nil
	})
	p, err := Lookup("regtest")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"field", "sync.regtest.secret_file: read secret: no such file"},
		{"other", "sync.regtest: upstream said no"},
	} {
		if _, err := p.Build(&testConfig{URL: tc.url}, Env{}); err == nil || err.Error() != tc.want {
			t.Errorf("Build(%q): %v, want %q", tc.url, err, tc.want)
		}
	}
	if errs := p.Validate(&testConfig{}); len(errs) != 1 || errs[0].Error() != "sync.regtest.url: give the URL" {
		t.Errorf("Validate: %v", errs)
	}
	if _, err := p.Build(&otherConfig{}, Env{}); err == nil || !strings.Contains(err.Error(), "*sinks.otherConfig") {
		t.Errorf("Build with another sink's config: %v", err)
	}
	if s, err := p.Build(p.NewConfig(), Env{}); err != nil || s.Name() != "regtest" {
		t.Errorf("Build(NewConfig()): %v, %v", s, err)
	}
}

type otherConfig struct{}

func (*otherConfig) Validate() error { return nil }
