package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/drivers/hidscanner"
)

// A school's own scanner and reader, from profile files: `tally profiles
// check`, `tally sheet FILE`, and `tally config check` of a config whose
// profiles_dir holds them and whose devices are chosen by USB ids. (That
// they read through the factory `tally run` uses is agent's
// TestUserProfilesRun.)
func TestUserProfileCLI(t *testing.T) {
	src := filepath.Join("..", "..", "agent", "testdata", "profiles")
	dir := t.TempDir()
	pdir := filepath.Join(dir, "profiles")
	if err := os.Mkdir(pdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"acme-ls100-hidpos.yaml", "acme-uhf-desk.yaml"} {
		b, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pdir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	scanner := filepath.Join(pdir, "acme-ls100-hidpos.yaml")
	out := tally(t, "", "profiles", "check", scanner, filepath.Join(pdir, "acme-uhf-desk.yaml"))
	if !strings.Contains(out, scanner+": ok: acme-ls100-hidpos") || !strings.Contains(out, "acme-uhf-desk.yaml: ok: acme-uhf-desk") {
		t.Errorf("profiles check:\n%s", out)
	}
	bad := filepath.Join(dir, "acme-bad.yaml")
	if err := os.WriteFile(bad, []byte("name: acme-bad\nvendor: Acme\nmodel: X\nkind: scanner\nmode: hidpos\ndecode:\n  terminator: enter\n  sufix: cr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs := tallyFail(t, "", "profiles", "check", scanner, bad)
	for _, want := range []string{bad + `:8: decode.sufix: unknown field "sufix"`, "1 of 2 profile files have problems"} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("profiles check of a bad file lacks %q:\n%s%s", want, out, errs)
		}
	}

	taken := filepath.Join(dir, "generic-keyboard-wedge.yaml")
	if err := os.WriteFile(taken, []byte("# a copy\nname: generic-keyboard-wedge\nvendor: Acme\nmodel: X\nkind: scanner\nmode: keyboard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errs := tallyFail(t, "", "profiles", "check", taken); !strings.Contains(out+errs, taken+`:2: name: "generic-keyboard-wedge" is a built-in profile`) {
		t.Errorf("profiles check of a built-in name:\n%s%s", out, errs)
	}

	html := filepath.Join(dir, "sheet.html")
	out = tally(t, "", "sheet", scanner, "--out", html)
	b, err := os.ReadFile(html)
	if err != nil || !strings.Contains(out, "2 barcodes for Acme LS100") || !strings.Contains(string(b), "$CODABAR-ON") {
		t.Errorf("sheet: %s %v\n%.300s", out, err, b)
	}

	cfg := filepath.Join(dir, "tally.yaml")
	text := "database: " + filepath.Join(dir, "tally.db") + "\nprofiles_dir: profiles\ndevices:\n" +
		"  - name: front-desk\n    profile: acme-ls100-hidpos\n    vid: \"0x1a2b\"\n    pid: \"0x3c4d\"\n" +
		"  - name: desk-pad\n    profile: acme-uhf-desk\n    vid: \"0x1a86\"\n    pid: \"0x7523\"\n"
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := tally(t, "", "config", "check", cfg); !strings.Contains(out, "ok (2 devices") {
		t.Errorf("config check: %s", out)
	}

	// With --config, the listing, the sheet and `tally devices` know them.
	if out := tally(t, "", "profiles", "--config", cfg, "--kind", "scanner"); !strings.Contains(out, "acme-ls100-hidpos") || !strings.Contains(out, "generic-keyboard-wedge") {
		t.Errorf("profiles --config:\n%s", out)
	}
	if out := tally(t, "", "sheet", "--config", cfg, "acme-ls100-hidpos"); !strings.Contains(out, "$IF-HIDPOS") {
		t.Errorf("sheet --config NAME:\n%.300s", out)
	}
	withDevices(t, fakeBus{devs: []hidscanner.DeviceInfo{{Path: "0001:0007:00", VID: 0x1a2b, PID: 0x3c4d, Product: "LS100"}}}, nil, nil, nil)
	if out := tally(t, "", "devices", "--config", cfg); !strings.Contains(out, "profile: acme-ls100-hidpos") {
		t.Errorf("devices --config:\n%s", out)
	}
	if out := tally(t, "", "devices"); strings.Contains(out, "acme-ls100-hidpos") {
		t.Errorf("devices without --config matched a user profile:\n%s", out)
	}
}
