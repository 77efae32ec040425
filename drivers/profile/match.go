package profile

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	firmwareconfigs "github.com/tally-inventory/tally/firmware-configs"
)

// Matches reports whether a HID device with this VID, PID and usage page
// is one this profile describes. RFID profiles never match a HID device.
func (p *Profile) Matches(vid, pid, usagePage uint16) bool {
	return p.Kind == KindScanner && p.specificity(vid, pid, usagePage) > 0
}

// specificity scores the best rule that matches: a rule naming the PID
// beats one naming only the VID, which beats one naming only the usage
// page. 0 means no match.
func (p *Profile) specificity(vid, pid, usagePage uint16) int {
	best := 0
	for _, m := range p.Match {
		if (m.VID != 0 && m.VID != vid) || (m.PID != 0 && m.PID != pid) ||
			(m.UsagePage != 0 && m.UsagePage != usagePage) {
			continue
		}
		s := 1
		if m.VID != 0 {
			s += 4
		}
		if m.PID != 0 {
			s += 8
		}
		if m.UsagePage != 0 {
			s += 2
		}
		best = max(best, s)
	}
	return best
}

// MatchAll returns the scanner profiles matching a HID device, most
// specific first (then by name). Several Honeywell models share a VID and
// a PID per interface mode, so more than one profile may match: they then
// decode alike, and `tally devices` shows them all.
func MatchAll(profiles []*Profile, vid, pid, usagePage uint16) []*Profile {
	type scored struct {
		p *Profile
		s int
	}
	var hits []scored
	for _, p := range profiles {
		if p.Kind != KindScanner {
			continue
		}
		if s := p.specificity(vid, pid, usagePage); s > 0 {
			hits = append(hits, scored{p, s})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].s != hits[j].s {
			return hits[i].s > hits[j].s
		}
		return hits[i].p.Name < hits[j].p.Name
	})
	out := make([]*Profile, len(hits))
	for i, h := range hits {
		out[i] = h.p
	}
	return out
}

// Find returns the profile called name. The error lists the known names,
// and the close ones first, so a typo on the command line is easy to fix.
func Find(profiles []*Profile, name string) (*Profile, error) {
	want := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), ".yaml"))
	for _, p := range profiles {
		if p.Name == want {
			return p, nil
		}
	}
	var close, all []string
	for _, p := range profiles {
		all = append(all, p.Name)
		if want != "" && (strings.Contains(p.Name, want) || strings.Contains(want, p.Name)) {
			close = append(close, p.Name)
		}
	}
	sort.Strings(all)
	if len(close) > 0 {
		return nil, fmt.Errorf("no profile named %q; did you mean %s? (known profiles: %s)",
			name, strings.Join(close, " or "), strings.Join(all, ", "))
	}
	return nil, fmt.Errorf("no profile named %q; known profiles: %s", name, strings.Join(all, ", "))
}

var builtin struct {
	once     sync.Once
	profiles []*Profile
	err      error
}

// Builtin returns the profiles shipped in firmware-configs/, embedded in
// the binary. They are loaded once; callers must not modify them.
func Builtin() ([]*Profile, error) {
	builtin.once.Do(func() {
		builtin.profiles, builtin.err = LoadDir(builtinFS())
	})
	return builtin.profiles, builtin.err
}

// builtinFS is the embedded tree without the udev rules.
func builtinFS() fs.FS { return firmwareconfigs.FS }
