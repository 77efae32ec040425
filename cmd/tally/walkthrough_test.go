package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/sync/koha/kohatest"
)

// tally runs the CLI in-process with the given stdin and returns stdout.
func tally(t *testing.T, in string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	stdin = strings.NewReader(in)
	defer func() { stdin = os.Stdin }()
	if code := runMain(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("tally %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// The README walkthrough, step by step: a realistic shelf inventory from
// import to report.
func TestREADMEWalkthrough(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	csv := tally(t, "", "sample", "collection", "--books", "4000")
	os.WriteFile(filepath.Join(dir, "collection.csv"), []byte(csv), 0o644)

	if out := tally(t, "", "import", filepath.Join(dir, "collection.csv")); !strings.Contains(out, "4360 added") {
		t.Fatalf("import: %s", out)
	}
	if out := tally(t, "", "import", filepath.Join(dir, "collection.csv")); !strings.Contains(out, "4360 unchanged") {
		t.Fatalf("re-import: %s", out)
	}
	out := tally(t, "", "inventory", "create", "--name", "Fall 2026 — Fiction", "--location", "Fiction")
	if !strings.Contains(out, "inventory 1 created") {
		t.Fatalf("create: %s", out)
	}
	tally(t, "", "session", "start", "--inventory", "1", "--operator", "ana")
	walk := tally(t, "", "sample", "walk", "--location", "Fiction")
	lines := strings.Split(strings.TrimSpace(walk), "\n")
	// Day one: half the shelf, then pause; day two: a new session does the rest.
	half := len(lines) / 2
	res := tally(t, strings.Join(lines[:half], "\n"), "scan", "--session", "1", "--json")
	tally(t, "", "session", "end", "1")
	tally(t, "", "session", "start", "--inventory", "1", "--operator", "ben")
	res += tally(t, strings.Join(lines[half:], "\n"), "scan", "--session", "2", "--json")
	outcomes := map[string]int{}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(res), "\n") {
		var s scanLine
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("scan output %q: %v", l, err)
		}
		if s.Barcode == "" || s.Outcome == "" || s.Flags == nil {
			t.Fatalf("scan line lacks barcode/outcome/flags: %s", l)
		}
		outcomes[s.Outcome]++
		n++
	}
	if n != len(lines) {
		t.Fatalf("%d results for %d reads", n, len(lines))
	}
	for _, o := range []string{"ok", "duplicate", "unknown", "invalid", "wrong_location", "out_of_order"} {
		if outcomes[o] == 0 {
			t.Errorf("the walk produced no %s read (outcomes %v)", o, outcomes)
		}
	}
	if out := tally(t, "", "inventory", "finalize", "--dry-run", "1"); !strings.Contains(out, "would finalize") {
		t.Fatalf("dry run: %s", out)
	}
	if out := tally(t, "", "inventory", "finalize", "1"); !strings.Contains(out, "finalized inventory 1") {
		t.Fatalf("finalize: %s", out)
	}
	csvOut := tally(t, "", "report", "--inventory", "1", "missing")
	if !strings.HasPrefix(csvOut, "barcode,title,call_number") || strings.Count(csvOut, "\n") < 2 {
		t.Fatalf("missing report: %.300s", csvOut)
	}
	html := filepath.Join(dir, "report.html")
	tally(t, "", "report", "--inventory", "1", "--format", "html", "--out", html)
	b, _ := os.ReadFile(html)
	for _, want := range []string{"<h2>Missing", "Out of shelf order", "Misplaced"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	js := tally(t, "", "report", "--inventory", "1", "--format", "json", "summary")
	if !strings.Contains(js, `"items expected"`) {
		t.Errorf("json summary: %s", js)
	}
}

func TestCLIErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("barcode,title,status\n1,ok,available\n2,bad,borrowed\n"), 0o644)
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"import", bad}, &out, &errb); code == 0 {
		t.Fatal("a file with a bad row was imported")
	}
	if !strings.Contains(errb.String(), "nothing was imported") || !strings.Contains(errb.String(), "--skip-invalid") {
		t.Errorf("import error does not say what to do: %s", errb.String())
	}
	rej := filepath.Join(dir, "rejects.txt")
	if out := tally(t, "", "import", "--skip-invalid", rej, bad); !strings.Contains(out, "1 added") {
		t.Errorf("--skip-invalid: %s", out)
	}
	if b, _ := os.ReadFile(rej); !strings.Contains(string(b), "bad.csv:3: status") {
		t.Errorf("rejects file: %q", b)
	}
	errb.Reset()
	if code := runMain(context.Background(), []string{"scan"}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "tally session start") {
		t.Errorf("scan without a session: %q", errb.String())
	}
	errb.Reset()
	if code := runMain(context.Background(), []string{"frobnicate"}, &out, &errb); code != 2 {
		t.Errorf("unknown command exit %d", code)
	}
	for _, c := range []string{"import", "scan", "report", "inventory", "session"} {
		out.Reset()
		runMain(context.Background(), []string{c, "--help"}, &out, &errb)
		if !strings.Contains(out.String(), "Usage: tally "+c) {
			t.Errorf("%s --help: %q", c, out.String())
		}
	}
}

// `tally import --from koha` pages the catalog out of a Koha REST API (the
// loopback Koha of sync/koha/kohatest) and imports it in one transaction.
func TestImportFromKoha(t *testing.T) {
	srv := kohatest.New(kohatest.Opts{})
	defer srv.Close()
	for i := range 25 {
		srv.AddItem(kohatest.Item{Barcode: fmt.Sprintf("3023400000%04d", i), Title: "Book", CallNumber: "FIC X", HomeLibrary: "MAIN", Location: "FIC"})
	}
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	os.WriteFile(filepath.Join(dir, "pw"), []byte("password\n"), 0o600)
	cfg := filepath.Join(dir, "tally.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("sync:\n  koha:\n    url: %s/api/v1\n    user: tally\n    password_file: %s\n", srv.URL, filepath.Join(dir, "pw"))), 0o644)
	out := tally(t, "", "import", "--from", "koha", "--config", cfg)
	if !strings.Contains(out, "25 added") {
		t.Fatalf("import --from koha: %s", out)
	}
	if out := tally(t, "", "import", "--from", "koha", "--config", cfg); !strings.Contains(out, "25 unchanged") {
		t.Fatalf("again: %s", out)
	}
}

// A Koha that refuses the credentials imports nothing and says so.
func TestImportFromKohaFailure(t *testing.T) {
	srv := kohatest.New(kohatest.Opts{})
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	os.WriteFile(filepath.Join(dir, "pw"), []byte("wrong\n"), 0o600)
	cfg := filepath.Join(dir, "tally.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("sync:\n  koha:\n    url: %s/api/v1\n    user: tally\n    password_file: %s\n", srv.URL, filepath.Join(dir, "pw"))), 0o644)
	var out, errb bytes.Buffer
	if code := runMain(context.Background(), []string{"import", "--from", "koha", "--config", cfg}, &out, &errb); code == 0 {
		t.Fatalf("import with refused credentials succeeded: %s", out.String())
	}
	if !strings.Contains(errb.String(), "nothing was imported") {
		t.Errorf("error does not say nothing was imported: %s", errb.String())
	}
}
