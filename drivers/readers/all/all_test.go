package all_test

import (
	"slices"
	"testing"

	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	_ "github.com/tally-inventory/tally/drivers/readers/all"
)

// TestEveryProtocolHasAProfile: each registered protocol is shown by a
// shipped profile (firmware-configs, the protocols' worked examples), and
// each shipped profile's protocol or mode has a driver that builds its
// factory.
func TestEveryProtocolHasAProfile(t *testing.T) {
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	used := map[profile.Kind][]string{}
	for _, p := range ps {
		pl, err := readers.For(p)
		if err != nil {
			t.Errorf("%s: %v", p.File, err)
			continue
		}
		used[p.Kind] = append(used[p.Kind], pl.Name)
		d := readers.Device{Name: "dev", Profile: p, DeviceConfig: readers.DeviceConfig{Port: "/dev/null"}}
		if _, err := pl.New(d, readers.Env{}); err != nil {
			t.Errorf("%s: factory: %v", p.File, err)
		}
	}
	for _, kind := range []profile.Kind{profile.KindScanner, profile.KindRFID} {
		names := readers.Names(kind)
		if len(names) == 0 {
			t.Errorf("no %s protocol registered", kind)
		}
		for _, n := range names {
			if !slices.Contains(used[kind], n) {
				t.Errorf("%s protocol %s is registered but no shipped profile uses it: add one to firmware-configs", kind, n)
			}
		}
	}
}
