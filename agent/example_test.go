package agent

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/sync/sinks"
)

var update = flag.Bool("update", false, "rewrite tally.example.yaml's sync blocks from the registered sinks' examples")

// TestExampleSinkBlocks: the sinks under sync: in tally.example.yaml are
// each registered sink's own example block (sync/*/example.yaml), in name
// order, active or commented out — nothing else, nothing missing, no
// block that differs. -update rewrites them from the blocks, keeping
// which are active.
func TestExampleSinkBlocks(t *testing.T) {
	path := filepath.Join("..", "tally.example.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	head, blocks, ok := strings.Cut(text, "\nsync:\n")
	if !ok {
		t.Fatal("tally.example.yaml has no sync: section")
	}
	// The section's own keys come first; the sinks follow.
	lines := strings.SplitAfter(blocks, "\n")
	n := 0
	for n < len(lines) && strings.HasPrefix(lines[n], "  ") && !strings.HasPrefix(lines[n], "  #") && !isSinkLine(lines[n]) {
		n++
	}
	want := head + "\nsync:\n" + strings.Join(lines[:n], "") + exampleSinkBlocks(text)
	if text == want {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("tally.example.yaml's sinks differ from the registered sinks' example blocks; run\n  go test ./agent -run TestExampleSinkBlocks -update\nand check the diff. Want the sync section:\n%s", want[len(head):])
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
		for _, l := range strings.SplitAfter(strings.TrimRight(p.Example, "\n")+"\n", "\n") {
			if l != "" {
				b.WriteString("  " + l)
			}
		}
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
