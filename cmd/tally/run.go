package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	toolkitweb "github.com/prometheus/exporter-toolkit/web"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/web"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/sync/sinks"
)

func init() {
	register("run", "run the agent: devices, live UI, metrics and sync, from a config file", cmdRun)
	register("config", "check a config file", sub("config", map[string]func(context.Context, []string) error{
		"check": cmdConfigCheck,
	}, "Config tools. `tally config check FILE` decodes the file strictly, checks every device's profile, and says what is wrong where."))
}

func cmdRun(ctx context.Context, args []string) error {
	fs := newFlags("run", "--config FILE", `
Runs the agent all day: the devices in the config (each supervised: unplugged
devices are picked up again when they come back), the live UI and JSON API,
the metrics listener and the upstream sync. SIGTERM or Ctrl-C drains reads in
flight and exits within 5 seconds. See tally.example.yaml for every key.`)
	path := fs.String("config", "tally.yaml", "config `file`")
	verbose := fs.Bool("v", false, "print every read")
	if err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	cfg, specs, err := checkConfig(*path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: copy tally.example.yaml to %s and edit it, or try `tally demo`", err, *path)
		}
		return err
	}
	a, err := agent.New(ctx, cfg, agentOpts(os.Stderr, &outcomePrinter{log: os.Stderr, verbose: *verbose}))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		return err
	}
	n := a.Engine().Index.Len()
	empty := ""
	if n == 0 {
		empty = " — the catalog is empty: import a catalog first: tally import FILE (or tally import --from koha)"
	}
	fmt.Fprintf(stderr, "tally %s: %d items indexed%s, %d devices; UI %s, metrics %s\n", version, n, empty, len(specs), orNone(a.UIURL()), orNone(a.MetricsURL()))
	err = a.Run(ctx)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func cmdConfigCheck(ctx context.Context, args []string) error {
	fs := newFlags("config check", "FILE", `
Checks a config file as `+"`tally run`"+` does before it starts, without starting
anything: strict decoding (unknown keys are errors), addresses, URLs and
ranges, the secret files and the login token's length, the metrics web
config, the GPIO pins, every device's profile and each sync target. Every
problem is listed as FILE:LINE: key: what is wrong.`)
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("name the config file, e.g. `tally config check /etc/tally/tally.yaml`")
	}
	cfg, specs, err := checkConfig(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d devices, database %s, UI %s)\n", fs.Arg(0), len(specs), cfg.Database, cfg.Listen)
	return nil
}

// checkConfig is everything `tally run` refuses before it starts, and all of
// what `tally config check` checks: the file (agent.LoadConfig), then what
// needs this machine — secret files, the token's length, the metrics web
// config, GPIO pins, device profiles, the sync targets. It touches nothing:
// no database is opened, no folder made, no pin driven, no request sent.
// Every problem is reported, each located at its key's line.
func checkConfig(path string) (*agent.Config, []engine.DeviceSpec, error) {
	cfg, err := agent.LoadConfig(path)
	if cfg == nil {
		return nil, nil, err
	}
	fileErr := err
	errs := []error{fileErr} // what the file alone shows; then what needs this machine
	bad := func(key string, err error) { errs = append(errs, cfg.KeyError(key, err)) }

	if dir := filepath.Dir(cfg.Database); !isDir(dir) {
		bad("database", fmt.Errorf("folder %s does not exist: create it, or name another file", dir))
	}
	token, err := agent.ReadSecret(cfg.TokenFile)
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
		if _, err := agent.GPIOPins(fc); err != nil {
			for _, e := range unjoin(err) {
				key, _, _ := strings.Cut(e.Error(), ":")
				bad(key, e)
			}
		}
	}

	profiles, err := agent.Profiles(cfg) // built-in and profiles_dir
	if err != nil {
		bad("profiles_dir", err)
		if profiles, err = profile.Builtin(); err != nil {
			return nil, nil, fmt.Errorf("built-in profiles: %w", err)
		}
	}
	var specs []engine.DeviceSpec
	for i, d := range cfg.Devices {
		at := fmt.Sprintf("devices[%d]", i)
		if _, err := profile.Find(profiles, d.Profile); err != nil {
			bad(at+".profile", fmt.Errorf("device %s: %w", d.Name, err))
			continue
		}
		one := *cfg
		one.Devices = []agent.DeviceConfig{d}
		s, err := agent.DeviceSpecs(&one, profiles)
		if err != nil {
			bad(at, err)
			continue
		}
		specs = append(specs, s...)
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
		return nil, nil, err
	}
	return cfg, specs, nil
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
