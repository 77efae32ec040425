package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tally-inventory/tally/agent"
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
	cfg, err := agent.CheckConfig(*path)
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
	fmt.Fprintf(stderr, "tally %s: %d items indexed%s, %d devices; UI %s, metrics %s\n", version, n, empty, len(cfg.Devices), orNone(a.UIURL()), orNone(a.MetricsURL()))
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
	cfg, err := agent.CheckConfig(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok (%d devices, database %s, UI %s)\n", fs.Arg(0), len(cfg.Devices), cfg.Database, cfg.Listen)
	return nil
}
