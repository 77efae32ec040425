package agent

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/drivers/profile"
	"github.com/tally-inventory/tally/drivers/readers"
	"github.com/tally-inventory/tally/sync/sinks"
)

var update = flag.Bool("update", false, "rewrite tally.example.yaml's sinks and devices from the registered plugins' example blocks")

// TestExampleSinkBlocks: the sinks under sync: in tally.example.yaml are
// each registered sink's own example block (sync/*/example.yaml), in name
// order, active or commented out — nothing else, nothing missing, no
// block that differs. -update rewrites them from the blocks, keeping
// which are active.
func TestExampleSinkBlocks(t *testing.T) {
	checkExample(t, "TestExampleSinkBlocks", func(text string) (string, error) {
		head, blocks, ok := strings.Cut(text, "\nsync:\n")
		if !ok {
			return "", errors.New("no sync: section")
		}
		// The section's own keys come first; the sinks follow.
		lines := strings.SplitAfter(blocks, "\n")
		n := 0
		for n < len(lines) && strings.HasPrefix(lines[n], "  ") && !strings.HasPrefix(lines[n], "  #") && !isSinkLine(lines[n]) {
			n++
		}
		return head + "\nsync:\n" + strings.Join(lines[:n], "") + exampleSinkBlocks(text), nil
	})
}

// checkExample compares tally.example.yaml with what want makes of it,
// and with -update writes that instead.
func checkExample(t *testing.T, test string, want func(text string) (string, error)) {
	t.Helper()
	path := filepath.Join("..", "tally.example.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := want(string(data))
	switch {
	case err != nil:
		t.Fatalf("tally.example.yaml: %v", err)
	case w == string(data):
	case *update:
		if err := os.WriteFile(path, []byte(w), 0o644); err != nil {
			t.Fatal(err)
		}
	default:
		have, want := strings.Split(string(data), "\n"), strings.Split(w, "\n")
		i := 0
		for i < len(have) && i < len(want) && have[i] == want[i] {
			i++
		}
		at := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end of file)"
		}
		t.Errorf("tally.example.yaml:%d differs from the registered plugins' example blocks:\nhave %s\nwant %s\nrun go test ./agent -run %s -update and check the diff", i+1, at(have), at(want), test)
	}
}

// isSinkLine is a sink's first line, "  NAME:" (its section starts there).
func isSinkLine(l string) bool {
	for _, name := range sinks.Names() {
		if strings.HasPrefix(l, "  "+name+":") {
			return true
		}
	}
	return false
}

var inlineComment = regexp.MustCompile(`(\S)   +# `)

// exampleSinkBlocks renders every registered sink's block under sync:,
// active where the example config has it active (its "  NAME:" line),
// commented out otherwise — with inline comments kept in their column.
func exampleSinkBlocks(current string) string {
	var b strings.Builder
	for _, p := range sinks.All() {
		active := strings.Contains(current, "\n  "+p.Name+":")
		for _, l := range strings.SplitAfter(strings.TrimRight(p.Example, "\n")+"\n", "\n") {
			if l == "" {
				continue
			}
			if active {
				b.WriteString("  " + l)
				continue
			}
			b.WriteString("  # " + inlineComment.ReplaceAllStringFunc(l, func(m string) string {
				return m[:1] + m[3:] // two spaces fewer: "# " took them
			}))
		}
	}
	return b.String()
}

// TestExampleEverySinkLoads: tally.example.yaml with every sink's block
// uncommented loads through the config loader, each sink decoded into its
// own config.
func TestExampleEverySinkLoads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "tally.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(data), "\nsync:\n")
	var b strings.Builder
	for _, p := range sinks.All() {
		b.WriteString(indent(p.Example))
	}
	c, err := ParseConfig("every-sink.yaml", []byte(head+"\nsync:\n  interval: 30s\n"+b.String()))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range sinks.All() {
		if _, ok := c.Sync.Sinks[p.Name]; !ok {
			t.Errorf("sync.%s: not decoded", p.Name)
		}
	}
}

// deviceExamples are the registered protocols' device entries, each once:
// scanners first, then RFID readers, by protocol name.
func deviceExamples() []readers.Plugin {
	var out []readers.Plugin
	seen := map[string]bool{}
	for _, kind := range []profile.Kind{profile.KindScanner, profile.KindRFID} {
		for _, name := range readers.Names(kind) {
			p, _ := readers.For(&profile.Profile{Kind: kind, Protocol: profile.Protocol(name), Mode: profile.Mode(name)})
			if !seen[p.Example] {
				seen[p.Example] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// TestExampleDeviceBlocks: the devices: section of tally.example.yaml is
// the registered protocols' example entries (drivers/hidscanner's,
// drivers/readers' serial one), nothing else. -update rewrites it.
func TestExampleDeviceBlocks(t *testing.T) {
	checkExample(t, "TestExampleDeviceBlocks", func(text string) (string, error) {
		head, rest, ok := strings.Cut(text, "\ndevices:\n")
		if !ok {
			return "", errors.New("no devices: section")
		}
		end := strings.Index(rest, "\n\n") // the section ends at a blank line
		if end < 0 {
			return "", errors.New("no blank line after devices:")
		}
		var b strings.Builder
		for _, p := range deviceExamples() {
			b.WriteString(indent(p.Example))
		}
		return head + "\ndevices:\n" + b.String() + rest[end+1:], nil
	})
}

// indent is block indented by two spaces, ending in a newline.
func indent(block string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(strings.TrimRight(block, "\n")+"\n", "\n") {
		if l != "" {
			b.WriteString("  " + l)
		}
	}
	return b.String()
}

// TestDeviceExamplesParse: each protocol's example entry loads through the
// config loader and the factory, naming a shipped profile of its kind.
func TestDeviceExamplesParse(t *testing.T) {
	ps, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []profile.Kind{profile.KindScanner, profile.KindRFID} {
		for _, name := range readers.Names(kind) {
			pl, _ := readers.For(&profile.Profile{Kind: kind, Protocol: profile.Protocol(name), Mode: profile.Mode(name)})
			cfg, err := ParseConfig(name+".yaml", []byte("devices:\n"+pl.Example))
			if err != nil {
				t.Errorf("%s %s: example:\n%s%v", kind, name, pl.Example, err)
				continue
			}
			if len(cfg.Devices) != 1 {
				t.Errorf("%s %s: example has %d device entries, want 1", kind, name, len(cfg.Devices))
				continue
			}
			p, err := profile.Find(ps, cfg.Devices[0].Profile)
			if err != nil || p.Kind != kind {
				t.Errorf("%s %s: example's profile: %v (kind %v)", kind, name, err, p)
				continue
			}
			if _, err := DeviceSpecs(cfg, ps); err != nil {
				t.Errorf("%s %s: %v", kind, name, err)
			}
		}
	}
}
