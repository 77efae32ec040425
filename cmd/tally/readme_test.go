package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// README's walkthrough is run as written, and every output line it shows
// ("#   …" under a command) must be a line the command printed, in order.
// So the README cannot drift from the program: change either and this
// test says which line differs.
func TestREADMEShowsWhatTallyPrints(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	steps := walkthroughSteps(t, string(readme))
	if len(steps) < 10 {
		t.Fatalf("found %d commands in README's walkthrough", len(steps))
	}
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("TALLY_DB", "")
	shown := 0
	for _, st := range steps {
		var in string
		args := st.args
		if args[0] != "tally" {
			// head -N FILE | tally …, or tail -n +N FILE | tally …
			i := indexOf(args, "|")
			if i < 0 {
				t.Fatalf("README line %d: not a tally command: %s", st.line, st.text)
			}
			in = shellFilter(t, st, args[:i])
			args = args[i+1:]
		}
		var outFile string
		if i := indexOf(args, ">"); i >= 0 {
			outFile, args = args[i+1], args[:i]
		}
		var out, errb bytes.Buffer
		stdin = strings.NewReader(in)
		code := runMain(context.Background(), args[1:], &out, &errb)
		stdin = os.Stdin
		if code != 0 {
			t.Fatalf("README line %d: %s: exit %d\n%s", st.line, st.text, code, errb.String())
		}
		if outFile != "" {
			os.WriteFile(outFile, out.Bytes(), 0o644)
		}
		got := strings.Split(out.String()+errb.String(), "\n")
		j := 0
		for _, want := range st.want {
			if want == "…" {
				continue
			}
			shown++
			// CSV reports end their lines with CRLF (RFC 4180).
			for j < len(got) && strings.TrimRight(got[j], " \r") != want {
				j++
			}
			if j == len(got) {
				t.Errorf("README line %d shows, under `%s`:\n  %s\nbut tally printed no such line (after the ones matched before it). Nearest lines:\n  %s",
					st.line, st.text, want, strings.Join(nearest(got, want), "\n  "))
				break
			}
			j++
		}
	}
	if shown < 10 {
		t.Errorf("only %d output lines checked", shown)
	}
}

type readmeStep struct {
	line int
	text string
	args []string
	want []string // the "#   " lines shown under it
}

// walkthroughSteps reads the commands of README's walkthrough block and
// the output lines shown under each. A "# …" comment that does not follow
// a command (and its continuation lines) is prose.
func walkthroughSteps(t *testing.T, readme string) []readmeStep {
	lines := strings.Split(readme, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "## Walkthrough") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("README has no Walkthrough section")
	}
	var steps []readmeStep
	in, afterCmd := false, false
	for i := start; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "```") {
			if in {
				break
			}
			in = true
			continue
		}
		if !in {
			continue
		}
		switch {
		case strings.HasPrefix(l, "#   ") && afterCmd:
			s := &steps[len(steps)-1]
			s.want = append(s.want, strings.TrimRight(strings.TrimPrefix(l, "#   "), " "))
		case strings.HasPrefix(l, "#"), strings.TrimSpace(l) == "":
			afterCmd = false
		default:
			text := stripComment(l)
			steps = append(steps, readmeStep{line: i + 1, text: text, args: shellWords(t, text)})
			afterCmd = true
		}
	}
	return steps
}

// stripComment drops a trailing "  # comment" outside quotes.
func stripComment(l string) string {
	q := false
	for i, r := range l {
		switch {
		case r == '"':
			q = !q
		case r == '#' && !q && i > 0 && l[i-1] == ' ':
			return strings.TrimSpace(l[:i])
		}
	}
	return strings.TrimSpace(l)
}

// shellWords splits a command line as a shell would for the quoting used
// in README and in the CLI's advice: "double" or 'single' quoted words.
func shellWords(t *testing.T, s string) []string {
	var words []string
	var cur strings.Builder
	var q rune // the open quote, 0 outside quotes
	any := false
	for _, r := range s {
		switch {
		case (r == '"' || r == '\'') && (q == 0 || q == r):
			if q == 0 {
				q = r
			} else {
				q = 0
			}
			any = true
		case r == ' ' && q == 0:
			if any {
				words = append(words, cur.String())
				cur.Reset()
				any = false
			}
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if q != 0 {
		t.Fatalf("unbalanced quote: %s", s)
	}
	if any {
		words = append(words, cur.String())
	}
	return words
}

// shellFilter runs the head/tail in front of a pipe.
func shellFilter(t *testing.T, st readmeStep, cmd []string) string {
	b, err := os.ReadFile(cmd[len(cmd)-1])
	if err != nil {
		t.Fatalf("README line %d: %v", st.line, err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	switch {
	case cmd[0] == "head" && len(cmd) == 3 && strings.HasPrefix(cmd[1], "-"):
		n, _ := strconv.Atoi(cmd[1][1:])
		return strings.Join(lines[:min(n, len(lines))], "")
	case cmd[0] == "tail" && len(cmd) == 4 && cmd[1] == "-n" && strings.HasPrefix(cmd[2], "+"):
		n, _ := strconv.Atoi(cmd[2][1:])
		return strings.Join(lines[min(n-1, len(lines)):], "")
	}
	t.Fatalf("README line %d: the test runs only `head -N FILE |` and `tail -n +N FILE |`: %s", st.line, st.text)
	return ""
}

func indexOf(s []string, w string) int {
	for i, x := range s {
		if x == w {
			return i
		}
	}
	return -1
}

// nearest lists printed lines sharing the first word of want.
func nearest(got []string, want string) []string {
	first, _, _ := strings.Cut(want, " ")
	var out []string
	for _, g := range got {
		if strings.HasPrefix(g, first) && len(out) < 3 {
			out = append(out, g)
		}
	}
	return out
}

// Every README "Section" that tally.example.yaml points to exists.
func TestExampleConfigPointsIntoREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join("..", "..", "tally.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`README "([^"]+)"`).FindAllStringSubmatch(string(example), -1)
	if len(refs) == 0 {
		t.Skip("tally.example.yaml points to no README section")
	}
	for _, m := range refs {
		if !regexp.MustCompile(`(?m)^#+ ` + regexp.QuoteMeta(m[1]) + `\b`).Match(readme) {
			t.Errorf("tally.example.yaml points to README %q, which has no such section", m[1])
		}
	}
}
