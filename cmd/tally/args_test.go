package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Flags go anywhere, in every command: each row puts a flag after a
// positional argument (or, for commands that take none, a stray word that
// must be refused rather than ignored). --db comes last everywhere, in a
// working directory with no tally.db, so a command that took it for an
// argument fails or leaves ./tally.db behind.
func TestFlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "cwd")
	os.Mkdir(work, 0o755)
	t.Chdir(work)
	t.Setenv("TALLY_DB", "")
	db := filepath.Join(dir, "tally.db")
	p := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(p("bad.csv"), []byte("barcode,title,status\n1,ok,available\n2,bad,borrowed\n"), 0o644)
	os.WriteFile(p("tally.yaml"), []byte("database: "+db+"\n"), 0o644)
	os.WriteFile(p("pull.csv"), []byte("barcode,reason\nX1,hold for Ana\n"), 0o644)
	var walk string

	type row struct {
		args    []string
		stdin   func() string
		wantOut string // in stdout
		wantErr string // in stderr; the command must fail
		check   func(t *testing.T, out string)
	}
	rows := []row{
		{args: []string{"sample", "collection", "--books", "300"}, check: func(t *testing.T, out string) {
			os.WriteFile(p("collection.csv"), []byte(out), 0o644)
		}, wantOut: "barcode,title"},
		{args: []string{"sample", "collection", "300"}, wantErr: `unexpected argument "300"`},
		{args: []string{"import", p("collection.csv"), "--db", db}, wantOut: "added"},
		{args: []string{"import", p("bad.csv"), "--skip-invalid", p("rej.txt"), "--db", db}, wantOut: "1 added", check: func(t *testing.T, _ string) {
			if b, err := os.ReadFile(p("rej.txt")); err != nil || !strings.Contains(string(b), "bad.csv:3") {
				t.Errorf("rejects file: %q %v", b, err)
			}
		}},
		{args: []string{"import", "--from", "koha", p("collection.csv"), "--config", p("tally.yaml")}, wantErr: "--from koha fetches the catalog from koha, not from"},
		{args: []string{"inventory", "create", "--name", "Fiction", "--location", "Fiction", "--db", db}, wantOut: "inventory 1 created"},
		{args: []string{"inventory", "create", "--name", "Fiction", "Fiction", "--db", db}, wantErr: `unexpected argument "Fiction"`},
		{args: []string{"inventory", "--db", db, "list"}, wantOut: "Fiction"},
		{args: []string{"--db", db, "inventory", "list", "--json"}, wantOut: `"name":"Fiction"`},
		{args: []string{"inventory", "show", "1", "--json", "--db", db}, wantOut: `"summary"`},
		{args: []string{"inventory", "pull", "1", p("pull.csv"), "--db", db}, wantOut: "pull list of 1 items"},
		{args: []string{"inventory", "pull", "1", p("pull.csv"), "3", "--db", db}, wantErr: `unexpected argument "3"`},
		{args: []string{"inventory", "weed", "1", "--older-than", "5", "--db", db}, wantOut: "dry run: nothing attached"},
		{args: []string{"inventory", "weed", "1", "2", "--older-than", "5", "--db", db}, wantErr: `unexpected argument "2"`},
		{args: []string{"holds", "import", p("pull.csv"), "--db", db}, wantOut: "holds to pull: 1 from"},
		{args: []string{"holds", "import", p("pull.csv"), "x", "--db", db}, wantErr: `unexpected argument "x"`},
		{args: []string{"holds", "list", "--db", db}, wantOut: "X1"},
		{args: []string{"holds", "fetch", "now", "--config", p("tally.yaml"), "--db", db}, wantErr: `unexpected argument "now"`},
		{args: []string{"inventory", "show", "1", "2", "--db", db}, wantErr: `unexpected argument "2": usage is ` + "`tally inventory show ID [--json]`"},
		{args: []string{"session", "start", "--inventory", "1", "ana", "--db", db}, wantErr: `unexpected argument "ana"`},
		{args: []string{"session", "start", "--inventory", "1", "--operator", "ana", "--db", db}, wantOut: "session 1 started"},
		{args: []string{"sample", "walk", "--location", "Fiction", "--db", db}, check: func(t *testing.T, out string) { walk = out }},
		{args: []string{"scan", "--session", "1", "--json", "--db", db}, stdin: func() string { return walk }, wantOut: `"outcome":"ok"`},
		{args: []string{"scan", "1", "--session", "1", "--db", db}, wantErr: `unexpected argument "1"`},
		{args: []string{"session", "pause", "1", "--db", db}, wantOut: "session 1 is paused"},
		{args: []string{"session", "resume", "1", "--db", db}, wantOut: "session 1 is open"},
		{args: []string{"session", "end", "1", "--db", db}, wantOut: "session 1 ended"},
		{args: []string{"inventory", "finalize", "1", "--dry-run", "--db", db}, wantOut: "would finalize inventory 1"},
		{args: []string{"report", "--inventory", "1", "summary", "--format", "json", "--db", db}, wantOut: `"items expected"`},
		{args: []string{"report", "--inventory", "1", "missing", "--out", p("missing.csv"), "--db", db}, check: func(t *testing.T, _ string) {
			if b, err := os.ReadFile(p("missing.csv")); err != nil || !strings.HasPrefix(string(b), "barcode,") {
				t.Errorf("--out after the report name: %q %v", b, err)
			}
		}},
		{args: []string{"inventory", "finalize", "1", "--json", "--db", db}, wantOut: `"missing":[`},
		{args: []string{"callnumber", "sort", "FIC"}, wantErr: `unexpected argument "FIC"`},
		{args: []string{"version"}, wantOut: "tally "},
		{args: []string{"decode", "11", "01", "01", "31", "31", "32", "32", "33", "33", "34", "34", "00", "00", "00", "00", "00", "00", "00", "00", "51", "3E", "44", "45", "37", "30", "35", "00", "00", "00", "00", "00", "00", "--json"}, wantOut: `"fields"`},
		{args: []string{"devices", "usb", "--json"}, wantErr: `unexpected argument "usb"`},
		{args: []string{"profiles", "rfid", "--json"}, wantErr: `unexpected argument "rfid"`},
		{args: []string{"sheet", "honeywell-voyager-1250g-hidpos", "--out", p("sheet.html")}, check: func(t *testing.T, _ string) {
			if b, err := os.ReadFile(p("sheet.html")); err != nil || !bytes.Contains(b, []byte("<svg")) {
				t.Errorf("sheet --out after the profile: %.100q %v", b, err)
			}
		}},
		{args: []string{"run", "tally.yaml", "--config", p("tally.yaml")}, wantErr: `unexpected argument "tally.yaml"`},
		{args: []string{"config", "check", p("tally.yaml"), "other.yaml"}, wantErr: `unexpected argument "other.yaml"`},
		{args: []string{"config", "check", p("tally.yaml"), "--help"}, wantOut: "Usage: tally config check"},
		{args: []string{"demo", "fast", "--books", "10"}, wantErr: `unexpected argument "fast"`},
		{args: []string{"sync", "status", "--json", "--db", db}, wantOut: `"outbox"`},
		{args: []string{"sync", "retry", "12345", "--db", db}, wantOut: "0 of 1 rows"},
		{args: []string{"sync", "once", "--export-dir", p("exports"), "--db", db}, wantOut: "delivered"},
		{args: []string{"sync", "run", "now", "--db", db}, wantErr: "unexpected argument"},
		{args: []string{"capture", "now", "--profile", "rdm6300", "--port", p("nosuch")}, wantErr: `unexpected argument "now"`},
		{args: []string{"replay", p("kbd.txt"), "--speed", "0"}, wantOut: "read      1"},
		{args: []string{"replay", p("kbd.txt"), p("kbd.txt")}, wantErr: `unexpected argument`},
	}
	os.WriteFile(p("kbd.txt"), []byte("tally-transcript 1\nprofile generic-keyboard-wedge\n< 00 00 1E 00 00 00 00 00\n< 00 00 28 00 00 00 00 00\n"), 0o644)

	// Every command and subcommand has a row.
	var missing []string
	for _, c := range commands {
		if subs := subcommands[c.name]; len(subs) > 0 {
			for _, s := range subs {
				if !slices.ContainsFunc(rows, func(r row) bool { return hasWords(r.args, c.name, s) }) {
					missing = append(missing, c.name+" "+s)
				}
			}
		} else if !slices.ContainsFunc(rows, func(r row) bool { return hasWords(r.args, c.name) }) {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("no flags-anywhere row for: %s", strings.Join(missing, ", "))
	}

	for _, r := range rows {
		var out, errb bytes.Buffer
		in := ""
		if r.stdin != nil {
			in = r.stdin()
		}
		stdin = strings.NewReader(in)
		code := runMain(context.Background(), r.args, &out, &errb)
		stdin = os.Stdin
		name := strings.Join(r.args, " ")
		switch {
		case r.wantErr != "" && code == 0:
			t.Errorf("tally %s: succeeded, want an error with %q\n%s", name, r.wantErr, out.String())
		case r.wantErr != "" && !strings.Contains(errb.String(), r.wantErr):
			t.Errorf("tally %s: error %q, want %q", name, errb.String(), r.wantErr)
		case r.wantErr == "" && code != 0:
			t.Errorf("tally %s: exit %d: %s", name, code, errb.String())
		case r.wantOut != "" && !strings.Contains(out.String(), r.wantOut):
			t.Errorf("tally %s: output lacks %q:\n%.500s", name, r.wantOut, out.String())
		}
		if r.check != nil {
			r.check(t, out.String())
		}
	}
	if _, err := os.Stat(filepath.Join(work, "tally.db")); err == nil {
		t.Error("a command ignored --db and wrote ./tally.db")
	}
	var inv []map[string]any
	if out := tally(t, "", "inventory", "list", "--json", "--db", db); json.Unmarshal([]byte(out), &inv) != nil || len(inv) != 1 {
		t.Errorf("inventories after the table: %s", out)
	}
}

// hasWords reports whether args hold the words in order, flags aside.
func hasWords(args []string, words ...string) bool {
	i := 0
	for _, a := range args {
		if i < len(words) && a == words[i] {
			i++
		}
	}
	return i == len(words)
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		max      int
		wantPos  []string
		wantJSON bool
		wantOut  string
		wantErr  string
	}{
		{args: []string{"2", "--json"}, max: 1, wantPos: []string{"2"}, wantJSON: true},
		{args: []string{"--json", "2"}, max: 1, wantPos: []string{"2"}, wantJSON: true},
		{args: []string{"a", "--out", "x", "b"}, max: -1, wantPos: []string{"a", "b"}, wantOut: "x"},
		{args: []string{"a", "--", "--json", "-b"}, max: -1, wantPos: []string{"a", "--json", "-b"}},
		{args: []string{"-", "--json"}, max: 1, wantPos: []string{"-"}, wantJSON: true},
		{args: []string{"a", "b"}, max: 1, wantErr: `unexpected argument "b"`},
		{args: []string{"a", "--nope"}, max: -1, wantErr: "flag provided but not defined: -nope"},
		{args: []string{"a", "--out"}, max: -1, wantErr: "flag needs an argument: -out"},
	} {
		fs := flag.NewFlagSet("tally x", flag.ContinueOnError)
		fs.SetOutput(new(bytes.Buffer))
		j := fs.Bool("json", false, "")
		o := fs.String("out", "", "")
		err := parseArgs(fs, tc.args, tc.max)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(fs.Args(), tc.wantPos) || *j != tc.wantJSON || *o != tc.wantOut {
			t.Errorf("%q: args %q json %v out %q err %v", tc.args, fs.Args(), *j, *o, err)
		}
	}
}
