package hidscanner

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/tally-inventory/tally/drivers"
	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
)

//go:embed example.yaml
var example string

func init() {
	for _, m := range []profile.Mode{profile.ModeKeyboard, profile.ModeHIDPOS, profile.ModeSNAPI} {
		readers.Add(readers.Plugin{Kind: profile.KindScanner, Name: string(m), Example: example, New: factory})
	}
}

// ProfileOpts are the driver's options for a scanner profile. They are
// checked as the driver checks them at every reconnect, so a profile and
// its driver must agree before anything runs.
func ProfileOpts(p *profile.Profile) (Opts, error) {
	o := DefaultOpts
	o.Mode = string(p.Mode)
	if p.Decode.Layout != "" {
		o.Layout = string(p.Decode.Layout)
	}
	switch p.Decode.Terminator {
	case profile.TermEnter:
		o.Terminator = TermEnter
	case profile.TermTab:
		o.Terminator = TermTab
	case profile.TermNone:
		o.Terminator = TermNone
	}
	if p.Mode == profile.ModeHIDPOS && strings.Contains(strings.ToLower(p.Vendor), "zebra") {
		o.Vendor = VendorZebra
	}
	if _, err := NewDecoder(o); err != nil {
		return o, err
	}
	return o, nil
}

func factory(d readers.Device, env readers.Env) (drivers.Factory, error) {
	p := d.Profile
	o, err := ProfileOpts(p)
	if err != nil {
		return nil, fmt.Errorf("profile %s (%s): %w", p.Name, p.File, err)
	}
	bus := Enumerator(HIDBus{})
	if env.HID != nil {
		b, ok := env.HID.(Enumerator)
		if !ok {
			return nil, fmt.Errorf("device %s: the HID bus is a %T, not a hidscanner.Enumerator", d.Name, env.HID)
		}
		bus = b
	}
	var m Match
	if len(p.Match) > 0 {
		// The usage page is not matched: on Linux the hidapi that
		// karalabe/hid bundles does not read report descriptors and reports
		// page 0 for every device. The profile chosen in the config says the
		// scanner's mode; VID/PID (and serial or path) pick the device.
		m.VID, m.PID = p.Match[0].VID, p.Match[0].PID
		if p.Match[0].Interface >= 0 {
			m.Interface, m.MatchInterface = p.Match[0].Interface, true
		}
	}
	if vid, pid := d.USBIDs(); vid != 0 {
		// The config names the device: its ids, not the profile's, pick it.
		m = Match{VID: vid, PID: pid}
	}
	m.Serial, m.Path = d.Serial, d.Path
	return func(ctx context.Context) (drivers.Reader, error) {
		return OpenWith(bus, d.Name, m, o)
	}, nil
}
