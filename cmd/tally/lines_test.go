package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
)

// splitModel is the line rule written plainly: CRLF, CR and LF end lines;
// a last line without a terminator counts.
func splitModel(in string) []string {
	if in == "" {
		return nil
	}
	lines := regexp.MustCompile(`\r\n|\r|\n`).Split(in, -1)
	if last := lines[len(lines)-1]; last == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func readAllLines(t *testing.T, r io.Reader, max int) (lines []string, longs map[int]int) {
	t.Helper()
	lr := newLineReader(r, max)
	longs = map[int]int{}
	for {
		b, n, long, err := lr.Next()
		if err == io.EOF {
			return lines, longs
		}
		if err != nil {
			t.Fatal(err)
		}
		if n != len(lines)+1 {
			t.Fatalf("line number %d after %d lines", n, len(lines))
		}
		if long > 0 {
			longs[n] = long
			if len(b) != max {
				t.Fatalf("line %d: long line kept %d bytes, want %d", n, len(b), max)
			}
		}
		lines = append(lines, string(b))
	}
}

func TestLineReader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a\rb\rc\r", []string{"a", "b", "c"}},
		{"a\r\nb\nc", []string{"a", "b", "c"}},
		{"a\n\rb", []string{"a", "", "b"}},
		{"a\r\r\nb", []string{"a", "", "b"}},
		{"\r\n", []string{""}},
		{"", nil},
	} {
		got, _ := readAllLines(t, iotest.OneByteReader(strings.NewReader(tc.in)), 100)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The splitter against the plain model, on any input, with a small limit
// so long lines happen.
func FuzzLineReader(f *testing.F) {
	for _, s := range []string{"30234000000017\r30234000000025\r", "a\r\nb\n", "\r\r\n\n", strings.Repeat("x", 40) + "\ny"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const max = 16
		got, longs := readAllLines(t, iotest.HalfReader(bytes.NewReader(data)), max)
		want := splitModel(string(data))
		if len(got) != len(want) {
			t.Fatalf("%q: %d lines, want %d (%q)", data, len(got), len(want), want)
		}
		for i, w := range want {
			if len(w) > max {
				if longs[i+1] != len(w) || got[i] != w[:max] {
					t.Fatalf("%q: line %d: long %d head %q, want %d %q", data, i+1, longs[i+1], got[i], len(w), w[:max])
				}
				continue
			}
			if got[i] != w || longs[i+1] != 0 {
				t.Fatalf("%q: line %d: %q, want %q", data, i+1, got[i], w)
			}
		}
	})
}

// tally scan at its input edges: a line over 1 MiB is refused and the
// reads after it are kept; CR-only terminators separate codes; a code with
// an escape sequence is shown quoted, never sent raw to the terminal.
func TestScanInputEdges(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	os.WriteFile(filepath.Join(dir, "c.csv"), []byte(tally(t, "", "sample", "collection", "--books", "200")), 0o644)
	tally(t, "", "import", filepath.Join(dir, "c.csv"))
	tally(t, "", "inventory", "create", "--name", "All")
	tally(t, "", "session", "start", "--inventory", "1")

	in := "30234000000017\r30234000000025\r" + strings.Repeat("9", 2<<20) + "\r\n30234000000033\n\x1b[2J\x1b]0;owned\x07\r\n"
	var out, errb bytes.Buffer
	stdin = strings.NewReader(in)
	code := runMain(context.Background(), []string{"scan", "--session", "1"}, &out, &errb)
	stdin = os.Stdin
	if code != 0 {
		t.Fatalf("scan: exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d results, want 4 (three codes and the escape sequence):\n%s", len(lines), out.String())
	}
	for i, bc := range []string{"30234000000017", "30234000000025", "30234000000033"} {
		if !strings.Contains(lines[i], bc) {
			t.Errorf("result %d: %q, want %s", i, lines[i], bc)
		}
	}
	if strings.ContainsAny(out.String(), "\x1b\x07") || !strings.Contains(strings.ToLower(lines[3]), `"\x1b[2j\x1b]0;owned\a"`) {
		t.Errorf("escape sequence not shown safely: %q", lines[3])
	}
	if e := errb.String(); !strings.Contains(e, "line 3: 2097152 bytes, longer than any code") || len(e) > 1000 {
		t.Errorf("stderr: %.300q", e)
	}
}

// An error that quotes a huge field prints a line, not the field.
func TestErrorsAreClipped(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	bad := filepath.Join(dir, "big.csv")
	os.WriteFile(bad, []byte("barcode,title,status\n30234000000017,x,"+strings.Repeat("b", 2<<20)+"\n"), 0o644)
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"import", bad}, &out, &errb); code == 0 {
		t.Fatal("a bad status was imported")
	}
	if e := errb.String(); len(e) > 10000 || !strings.Contains(e, "bytes in all") || !strings.Contains(e, "big.csv:2") {
		t.Errorf("error output is %d bytes: %.300q", len(e), e)
	}
}
