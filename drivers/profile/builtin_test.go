package profile

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	firmwareconfigs "github.com/tally-inventory/tally/firmware-configs"
)

var update = flag.Bool("update", false, "rewrite golden files (setup sheet, udev rules)")

// TestBuiltin loads every shipped profile; any error fails.
func TestBuiltin(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatalf("shipped profiles do not load:\n%v", err)
	}
	want := []string{
		"generic-keyboard-wedge",
		"honeywell-voyager-1200g-keyboard", "honeywell-voyager-1200g-hidpos",
		"honeywell-voyager-1250g-keyboard", "honeywell-voyager-1250g-hidpos",
		"honeywell-voyager-1450g-keyboard", "honeywell-voyager-1450g-hidpos",
		"honeywell-xenon-1900-keyboard", "honeywell-xenon-1900-hidpos",
		"honeywell-xenon-1950-keyboard", "honeywell-xenon-1950-hidpos",
		"zebra-ds2208-keyboard", "zebra-ds2208-snapi", "zebra-ls2208-keyboard", "zebra-ls2208-snapi",
		"chafon-uhfreader18", "chafon-uhfreader288", "thingmagic-m6e-nano", "feig-id-isc-mr101",
		"ascii-hex-line", "rdm6300",
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("profile %s is not shipped", w)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Builtin not sorted by name: %v", names)
	}
	for _, p := range ps {
		var b bytes.Buffer
		if err := p.Sheet(&b); err != nil {
			t.Errorf("%s: sheet: %v", p.Name, err)
		}
	}
}

func TestMatches(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		vid, pid, page uint16
		first          string
		n              int
	}{
		{0x05e0, 0x1200, 0x0001, "zebra-ds2208-keyboard", 2},
		{0x05e0, 0x1900, 0xff00, "zebra-ds2208-snapi", 2},
		{0x05e0, 0x1200, 0x008c, "", 0}, // keyboard PID on the wrong usage page
		{0x0c2e, 0x0b81, 0x008c, "honeywell-voyager-1200g-hidpos", 5},
		{0x0c2e, 0x0b81, 0x0001, "honeywell-voyager-1200g-keyboard", 5},
		{0x046d, 0xc31c, 0x0001, "", 0}, // an ordinary keyboard: never claimed
	}
	for _, tt := range tests {
		got := MatchAll(ps, tt.vid, tt.pid, tt.page)
		if len(got) != tt.n || (tt.n > 0 && got[0].Name != tt.first) {
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			t.Errorf("MatchAll(%04x:%04x page %04x) = %v, want %d starting with %q", tt.vid, tt.pid, tt.page, names, tt.n, tt.first)
		}
		for _, p := range got {
			if !p.Matches(tt.vid, tt.pid, tt.page) {
				t.Errorf("%s in MatchAll but Matches false", p.Name)
			}
		}
	}
	// A PID rule outranks a VID-only rule.
	specific := &Profile{Name: "b", Kind: KindScanner, Match: []Match{{VID: 1, PID: 2}}}
	broad := &Profile{Name: "a", Kind: KindScanner, Match: []Match{{VID: 1}}}
	if got := MatchAll([]*Profile{broad, specific}, 1, 2, 0); len(got) != 2 || got[0] != specific {
		t.Errorf("specific rule not first: %v", got)
	}
	rfid, _ := Find(ps, "ascii-hex-line")
	if rfid.Matches(0x1a86, 0x7523, 0) {
		t.Error("an RFID profile matched a HID device")
	}
}

func TestFind(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Find(ps, "zebra-ds2208-snapi.yaml")
	if err != nil || p.Name != "zebra-ds2208-snapi" {
		t.Fatalf("Find = %v, %v", p, err)
	}
	_, err = Find(ps, "xenon-1900")
	if err == nil || !strings.Contains(err.Error(), "did you mean honeywell-xenon-1900-hidpos or honeywell-xenon-1900-keyboard?") {
		t.Errorf("Find(typo) error = %v", err)
	}
	_, err = Find(ps, "nope")
	if err == nil || !strings.Contains(err.Error(), "known profiles: ascii-hex-line, chafon-uhfreader18") {
		t.Errorf("Find(unknown) error = %v", err)
	}
}

// TestUdevRules: the shipped rules are exactly what the profiles generate,
// and every scanner profile's VID/PID is in them.
func TestUdevRules(t *testing.T) {
	ps, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	got := UdevRules(ps, "tally")
	path := filepath.Join("..", "..", "firmware-configs", firmwareconfigs.UdevRulesPath)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shipped, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, shipped) {
		t.Errorf("%s is stale; run `go generate ./firmware-configs` (or go test -update). Got:\n%s", path, got)
	}
	rules := string(shipped)
	for _, p := range ps {
		for _, m := range p.Match {
			if m.VID == 0 {
				continue
			}
			want := `ATTRS{idVendor}=="` + fmtID(m.VID)[2:] + `"`
			if m.PID != 0 {
				want += `, ATTRS{idProduct}=="` + fmtID(m.PID)[2:] + `"`
			}
			sub := `SUBSYSTEM=="hidraw"`
			if p.Kind == KindRFID {
				sub = `SUBSYSTEM=="tty"`
			}
			if !hasLine(rules, sub, want, `GROUP="tally"`) {
				t.Errorf("%s: no %s rule with %s", p.Name, sub, want)
			}
			if p.Kind == KindScanner && !hasLine(rules, `SUBSYSTEM=="usb"`, strings.ReplaceAll(want, "ATTRS", "ATTR"), `GROUP="tally"`) {
				t.Errorf("%s: no usb device rule with %s", p.Name, want)
			}
		}
	}
	if strings.Contains(rules, "generic-keyboard-wedge") {
		t.Error("the generic wedge got a rule; that would open every keyboard")
	}
}

func hasLine(text string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}
