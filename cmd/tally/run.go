package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/drivers/profile"
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
	cfg, err := agent.LoadConfig(*path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: copy tally.example.yaml to %s and edit it, or try `tally demo`", err, *path)
		}
		return err
	}
	profiles, err := profile.Builtin()
	if err != nil {
		return err
	}
	specs, err := agent.DeviceSpecs(cfg, profiles)
	if err != nil {
		return err
	}
	rt, err := newRuntime(ctx, cfg, os.Stderr)
	if err != nil {
		return err
	}
	defer rt.close()
	rt.verbose = *verbose
	if err := rt.setDevices(specs); err != nil {
		return err
	}
	fb, err := gpioFeedback(cfg.Feedback)
	if err != nil {
		return err
	}
	if fb != nil {
		rt.signals = fb
	}
	ui, met, err := rt.listeners(ctx, 0)
	if err != nil {
		return err
	}
	if _, err := rt.startRelay(ctx); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "tally %s: %d items indexed, %d devices; UI %s, metrics %s\n", version, rt.e.Index.Len(), len(specs), orNone(ui), orNone(met))
	err = rt.serve(ctx, 5*time.Second)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func cmdConfigCheck(ctx context.Context, args []string) error {
	fs := newFlags("config check", "FILE", "Checks a config file: strict decoding (unknown keys are errors), addresses, barcode rules, device profiles.")
	if err := parseArgs(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("name the config file, e.g. `tally config check /etc/tally/tally.yaml`")
	}
	cfg, err := agent.LoadConfig(fs.Arg(0))
	if err != nil {
		return err
	}
	profiles, err := profile.Builtin()
	if err != nil {
		return err
	}
	if _, err := agent.DeviceSpecs(cfg, profiles); err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(stdout, "%s: ok (%d devices, database %s, UI %s)\n", fs.Arg(0), len(cfg.Devices), cfg.Database, cfg.Listen)
	return nil
}
