package agent

import (
	"fmt"

	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	_ "github.com/tally-inventory/tally/drivers/readers/all" // every protocol's registration
)

// OpenEnv is what the device factories reach the hardware through. The
// zero value is the real machine; tests put a fake HID bus here (a
// hidscanner.Enumerator) and so open every profile through the very
// factory `tally run` uses; `tally capture` and `replay` open serial ports
// through its Serial.
type OpenEnv = readers.Env

// Profiles returns the profiles a config can name: the built-in ones and
// those in its profiles_dir.
func Profiles(cfg *Config) ([]*profile.Profile, error) {
	return profile.WithUser(cfg.ProfilesDir)
}

// DeviceSpecs turns the configured devices into specs the Devices runner
// opens, each through its profile.
func DeviceSpecs(cfg *Config, profiles []*profile.Profile) ([]engine.DeviceSpec, error) {
	return DeviceSpecsEnv(cfg, profiles, OpenEnv{})
}

// DeviceSpecsEnv is DeviceSpecs opening devices through env. Each device
// opens through the driver its profile's protocol (or scanner mode)
// registered (drivers/readers), and its reads go through that driver's
// decoding stage, if it has one.
func DeviceSpecsEnv(cfg *Config, profiles []*profile.Profile, env OpenEnv) ([]engine.DeviceSpec, error) {
	var specs []engine.DeviceSpec
	for _, d := range cfg.Devices {
		p, err := profile.Find(profiles, d.Profile)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", d.Name, err)
		}
		pl, err := readers.For(p)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", d.Name, err)
		}
		s := engine.DeviceSpec{Name: d.Name, Profile: p.Name, Session: d.Session, Kind: drivers.KindScanner}
		if p.Kind == profile.KindRFID {
			s.Kind = drivers.KindRFID
		}
		if pl.Normalize != nil {
			s.Normalize = pl.Normalize(p)
		}
		s.Open, err = pl.New(readers.Device{Name: d.Name, Profile: p, DeviceConfig: d.DeviceConfig}, env)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", d.Name, err)
		}
		specs = append(specs, s)
	}
	return specs, nil
}
