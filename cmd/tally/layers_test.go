package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers: the folders layer as cmd → agent → {sync, drivers}: nothing
// imports upward. sync/ and drivers/ import nothing from agent/ (the
// relay declares the store it consumes and agent/store implements it; the
// importers return their own records, which the catalog maps), drivers/
// nothing from sync/, and agent/ nothing from cmd/. Test files may reach
// up to exercise the real thing; the packages themselves may not.
func TestLayers(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool on PATH")
	}
	const mod = "github.com/tally-inventory/tally/"
	rules := []struct{ pkgs, banned string }{
		{"sync/", "agent/"},
		{"sync/", "cmd/"},
		{"drivers/", "agent/"},
		{"drivers/", "sync/"},
		{"drivers/", "cmd/"},
		{"agent/", "cmd/"},
	}
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		for _, r := range rules {
			if !strings.HasPrefix(pkg, r.pkgs) {
				continue
			}
			n++
			for _, dep := range f[1:] {
				if strings.HasPrefix(dep, mod+r.banned) {
					t.Errorf("%s depends on %s: %s must not import from %s", pkg, strings.TrimPrefix(dep, mod), r.pkgs, r.banned)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("checked only %d packages: go list did not list the tree", n)
	}
}
