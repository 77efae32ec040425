package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/tally-inventory/tally/agent/web"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/sync/sinks"
)

// CheckConfig is everything `tally run` refuses before it starts, and all
// of what `tally config check` checks: the file (LoadConfig), then what
// needs this machine — secret files, the token's length, the metrics web
// config, GPIO pins, device profiles, the sync targets. It touches nothing:
// no database is opened, no folder made, no pin driven, no request sent.
// Every problem is reported, each located at its key's line.
func CheckConfig(path string) (*Config, error) {
	cfg, err := LoadConfig(path)
	if cfg == nil {
		return nil, err
	}
	fileErr := err
	errs := []error{fileErr} // what the file alone shows; then what needs this machine
	bad := func(key string, err error) { errs = append(errs, cfg.KeyError(key, err)) }

	if dir := filepath.Dir(cfg.Database); !isDir(dir) {
		bad("database", fmt.Errorf("folder %s does not exist: create it, or name another file", dir))
	}
	token, err := ReadSecret(cfg.TokenFile)
	if err != nil {
		bad("token_file", err)
	} else if cfg.Listen != "" {
		if err := web.CheckToken(cfg.Listen, token); err != nil {
			key := "token_file"
			if cfg.TokenFile == "" {
				key = "listen"
			}
			bad(key, errors.New(strings.TrimPrefix(err.Error(), "web: ")))
		}
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") || cfg.TLSCertFile != "" && cfg.WebConfig != "" {
		// Validate has said so.
	} else if err := web.CheckTLS(cfg.TLSCertFile, cfg.TLSKeyFile, cfg.WebConfig); err != nil {
		key := "tls_cert_file"
		if cfg.WebConfig != "" {
			key = "web_config"
		}
		bad(key, errors.New(strings.TrimPrefix(err.Error(), "web: ")))
	}
	if wc := cfg.Metrics.WebConfig; wc != "" {
		if err := toolkitweb.Validate(wc); err != nil {
			bad("metrics.web_config", fmt.Errorf("%s: %w", wc, err))
		}
	}
	if fc := cfg.Feedback; fc.Buzzer != "" || fc.Green != "" || fc.Red != "" {
		if _, err := GPIOPins(fc); err != nil {
			for _, e := range unjoin(err) {
				key, _, _ := strings.Cut(e.Error(), ":")
				bad(key, e)
			}
		}
	}

	profiles, err := Profiles(cfg) // built-in and profiles_dir
	if err != nil {
		bad("profiles_dir", err)
		if profiles, err = profile.Builtin(); err != nil {
			return nil, fmt.Errorf("built-in profiles: %w", err)
		}
	}
	for i, d := range cfg.Devices {
		at := fmt.Sprintf("devices[%d]", i)
		if _, err := profile.Find(profiles, d.Profile); err != nil {
			bad(at+".profile", fmt.Errorf("device %s: %w", d.Name, err))
			continue
		}
		one := *cfg
		one.Devices = []DeviceConfig{d}
		if _, err := DeviceSpecs(&one, profiles); err != nil {
			bad(at, err)
		}
	}

	// Each sync target as the relay builds it, but nothing made: the
	// export folder is only looked at (a check run as root must not
	// create it).
	for _, p := range sinks.All() {
		c, ok := cfg.Sync.Sinks[p.Name]
		key := "sync." + p.Name
		if !ok || (fileErr != nil && strings.Contains(fileErr.Error(), ": "+key+".")) {
			continue // not configured, or already found wrong in the file
		}
		for _, err := range p.Check(c) {
			bad(key, err)
		}
	}
	// One list in the file's order.
	var all []error
	for _, e := range errs {
		if e != nil {
			all = append(all, unjoin(e)...)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return errLine(all[i]) < errLine(all[j]) })
	if err := errors.Join(all...); err != nil {
		return nil, err
	}
	return cfg, nil
}

// errLine is N of "FILE:N: …", 0 when there is none.
func errLine(err error) int {
	_, rest, ok := strings.Cut(err.Error(), ":")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(strings.SplitN(rest, ":", 2)[0])
	return n
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// unjoin lists the errors an errors.Join holds (or err alone).
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
