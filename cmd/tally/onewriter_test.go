package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/store"
)

// runBin runs the built binary and returns its exit code, stdout and stderr.
func runBin(t *testing.T, bin string, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return runCmd(t, exec.Command(bin, args...), env, stdin)
}

func runCmd(t *testing.T, cmd *exec.Cmd, env []string, stdin string) (int, string, string) {
	t.Helper()
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", strings.Join(cmd.Args, " "), err)
	}
	return code, out.String(), errb.String()
}

// quietAgent starts the demo agent in dir (its simulated scanner reading
// every 50 ms), drains what it prints and stops it when the test ends; env
// points CLI commands at its database.
func quietAgent(t *testing.T, bin, dir string) (*agentProc, []string) {
	t.Helper()
	p := startAgent(t, bin, dir, "--scan-every", "50ms")
	t.Cleanup(func() { p.cmd.Process.Signal(syscall.SIGTERM); p.cmd.Wait() })
	go func() {
		for range p.lines {
		}
	}()
	return p, append(os.Environ(), "TALLY_DB="+p.db)
}

// csrfToken is what GET /api/csrf answers: the header to send and its value.
type csrfToken struct{ CSRF, Header string }

// apiClient is a client of the agent's UI at ui with its session cookie,
// and the CSRF token its state changes carry, as a browser has them.
func apiClient(t *testing.T, ui string) (*http.Client, csrfToken) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(ui + "api/csrf")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok csrfToken
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.CSRF == "" {
		t.Fatalf("GET %sapi/csrf: %v %+v", ui, err, tok)
	}
	return c, tok
}

// waitHolder waits until some process holds the writer lock of db.
func waitHolder(t *testing.T, db string) store.Holder {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if h, ok := store.WriteHolder(db); ok && h.PID != 0 {
			return h
		}
	}
	t.Fatal("no process took the writer lock")
	return store.Holder{}
}

// TestOneWriterTwoScans: a second `tally scan` on a database another `tally
// scan` is recording into is refused with a message naming the first (it
// used to run, and both ended in "UNIQUE constraint failed"); the first
// records every line.
func TestOneWriterTwoScans(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildTally(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "tally.db")
	env := append(os.Environ(), "TALLY_DB="+db)
	mustRun := func(stdin string, args ...string) string {
		code, out, errs := runBin(t, bin, env, stdin, args...)
		if code != 0 {
			t.Fatalf("tally %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
		}
		return out
	}
	csv := mustRun("", "sample", "collection", "--books", "300")
	os.WriteFile(filepath.Join(dir, "c.csv"), []byte(csv), 0o644)
	mustRun("", "import", filepath.Join(dir, "c.csv"))
	mustRun("", "inventory", "create", "--name", "Fiction", "--location", "Fiction")
	mustRun("", "session", "start", "--inventory", "1")
	mustRun("", "session", "start", "--inventory", "1")
	walk := strings.Split(strings.TrimSpace(mustRun("", "sample", "walk", "--location", "Fiction")), "\n")

	first := exec.Command(bin, "scan", "--session", "1")
	first.Env = env
	in, _ := first.StdinPipe()
	var firstOut, firstErr bytes.Buffer
	first.Stdout, first.Stderr = &firstOut, &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	h := waitHolder(t, db)
	if h.PID != first.Process.Pid || h.Agent {
		t.Fatalf("lock holder %+v, want the first scan (pid %d)", h, first.Process.Pid)
	}
	// The same session and another session of the same inventory: both refused.
	for _, sid := range []string{"1", "2"} {
		code, out, errs := runBin(t, bin, env, strings.Join(walk, "\n"), "scan", "--session", sid)
		if code == 0 {
			t.Fatalf("a second scan into session %s ran beside the first:\n%s", sid, out)
		}
		for _, want := range []string{"in use by `tally scan --session 1`", fmt.Sprintf("pid %d", first.Process.Pid), "tally run"} {
			if !strings.Contains(errs, want) {
				t.Errorf("second scan's error lacks %q:\n%s", want, errs)
			}
		}
	}
	// Reading still works beside the writer.
	if code, out, errs := runBin(t, bin, env, "", "report", "--inventory", "1", "summary"); code != 0 || !strings.Contains(out, "items expected") {
		t.Errorf("report beside a scan: exit %d\n%s%s", code, out, errs)
	}
	io.WriteString(in, strings.Join(walk, "\n")+"\n")
	in.Close()
	if err := first.Wait(); err != nil {
		t.Fatalf("first scan: %v\n%s", err, firstErr.String())
	}
	if got := strings.Count(firstOut.String(), "\n"); got < len(walk) {
		t.Errorf("the first scan printed %d results for %d lines", got, len(walk))
	}
	if _, ok := store.WriteHolder(db); ok {
		t.Error("the lock is still held after the scan exited")
	}
	// Once it is done, the next writer gets in.
	mustRun("30234000000017\n", "scan", "--session", "2")
}

// TestOneWriterBesideAgent: while the agent runs, CLI commands that would
// record are refused with a message naming the agent (pid, UI) and what to
// do; reports work; an import made beside it is picked up by the running
// agent at once (a typed read of a new barcode is known).
func TestOneWriterBesideAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin, dir := buildTally(t), t.TempDir()
	p, env := quietAgent(t, bin, dir)
	pid := fmt.Sprint(p.cmd.Process.Pid)
	for _, args := range [][]string{
		{"scan", "--session", "1"},
		{"session", "start", "--inventory", "1"},
		{"session", "pause", "1"},
		{"inventory", "create", "--name", "Beside"},
		{"inventory", "finalize", "1"},
	} {
		code, _, errs := runBin(t, bin, env, "30234000000017\n", args...)
		if code == 0 {
			t.Errorf("tally %s ran beside the agent", strings.Join(args, " "))
			continue
		}
		for _, want := range []string{"running agent", "pid " + pid, "UI " + p.ui, "stop the agent"} {
			if !strings.Contains(errs, want) {
				t.Errorf("tally %s: error lacks %q:\n%s", strings.Join(args, " "), want, errs)
			}
		}
	}
	for _, args := range [][]string{
		{"report", "--inventory", "1", "summary"},
		{"inventory", "list"},
		{"inventory", "show", "1"},
		{"inventory", "finalize", "--dry-run", "1"},
		{"sync", "status"},
	} {
		if code, out, errs := runBin(t, bin, env, "", args...); code != 0 {
			t.Errorf("tally %s beside the agent: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
		}
	}

	// An import beside the agent: the agent knows the new book without a restart.
	csv := filepath.Join(dir, "new.csv")
	os.WriteFile(csv, []byte("barcode,title,call_number,location\nBESIDE0001,Imported Beside The Agent,FIC ZZZ,Fiction\n"), 0o644)
	if code, out, errs := runBin(t, bin, env, "", "import", csv); code != 0 || !strings.Contains(out, "1 added") {
		t.Fatalf("import beside the agent: exit %d\n%s%s", code, out, errs)
	}
	c, tok := apiClient(t, p.ui)
	req, _ := http.NewRequestWithContext(context.Background(), "POST", p.ui+"api/sessions/1/reads", strings.NewReader(`{"code":"BESIDE0001"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(tok.Header, tok.CSRF)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct {
		Result struct {
			Outcome string `json:"outcome"`
			Title   string `json:"title"`
		} `json:"result"`
	}
	json.Unmarshal(body, &got)
	if resp.StatusCode != http.StatusCreated || got.Result.Outcome == "unknown" || got.Result.Title != "Imported Beside The Agent" {
		t.Errorf("a read of the book imported beside the agent: HTTP %d %s", resp.StatusCode, body)
	}
}

// TestRunLogsDeviceStateChanges: `tally run` with two configured devices
// that cannot open (a serial port that does not exist, a USB scanner that
// is not plugged in) says so in its log — each change of state once, with
// the reason, not once per retry. It used to print only its start-up line.
func TestRunLogsDeviceStateChanges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildTally(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tally.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`database: %s
listen: 127.0.0.1:0
metrics:
  listen: ""
devices:
  - name: desk-scanner
    profile: honeywell-voyager-1250g-hidpos
  - name: cart-wand
    profile: chafon-uhfreader288
    port: %s
`, filepath.Join(dir, "tally.db"), filepath.Join(dir, "no-such-port"))), 0o644)
	cmd := exec.Command(bin, "run", "--config", cfg)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var log []string
	failing := 0
	// Both devices reach "failing" after several retries each.
	timeout := time.After(60 * time.Second)
	for failing < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("tally run exited:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			if strings.Contains(l, ": failing: ") {
				failing++
			}
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("no 'failing' line for both devices:\n%s", strings.Join(log, "\n"))
		}
	}
	// A few more retries go by (the backoff is 2 s and more by now), then stop.
	time.Sleep(3 * time.Second)
	cmd.Process.Signal(syscall.SIGTERM)
	for l := range lines {
		log = append(log, l)
	}
	cmd.Wait()
	all := strings.Join(log, "\n")
	for _, c := range []struct{ dev, state, why string }{
		{"cart-wand", "disconnected", "no-such-port"},
		{"cart-wand", "failing", "no-such-port"},
		{"desk-scanner", "disconnected", "no HID device"},
		{"desk-scanner", "failing", "no HID device"},
	} {
		n := 0
		for _, l := range log {
			if strings.Contains(l, "device "+c.dev+": "+c.state+": ") {
				n++
				if !strings.Contains(l, c.why) {
					t.Errorf("%s %s without the reason %q: %s", c.dev, c.state, c.why, l)
				}
			}
		}
		if n != 1 {
			t.Errorf("%d lines saying %s is %s, want exactly 1:\n%s", n, c.dev, c.state, all)
		}
	}
}

// TestReportOnReadOnlyFile: `tally report` works on a database this user
// may not write (in a directory it may not write either); it used to fail
// opening the file for writing.
func TestReportOnReadOnlyFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	dir, err := os.MkdirTemp("", "tally-ro-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { os.Chmod(dir, 0o755); os.RemoveAll(dir) }()
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "tally")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "tally.db")
	env := append(os.Environ(), "TALLY_DB="+db)
	csv := filepath.Join(dir, "c.csv")
	os.WriteFile(csv, []byte("barcode,title,location\nRO0001,A Book,Fiction\n"), 0o644)
	for _, args := range [][]string{{"import", csv}, {"inventory", "create", "--name", "Fiction", "--location", "Fiction"}} {
		if code, out, errs := runBin(t, bin, env, "", args...); code != 0 {
			t.Fatalf("tally %v: %d\n%s%s", args, code, out, errs)
		}
	}
	os.Chmod(db, 0o444)
	os.Chmod(dir, 0o555)
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		if os.Geteuid() == 0 { // root writes anything: run as nobody
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		return runCmd(t, cmd, env, "")
	}
	if code, out, errs := run("report", "--inventory", "1", "summary"); code != 0 || !strings.Contains(out, "items expected") {
		t.Errorf("report on a read-only database: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := run("inventory", "list"); code != 0 || !strings.Contains(out, "Fiction") {
		t.Errorf("inventory list on a read-only database: exit %d\n%s%s", code, out, errs)
	}
	if code, _, errs := run("session", "start", "--inventory", "1"); code == 0 {
		t.Error("a session started in a database this user may not write")
	} else if strings.Contains(errs, "is the directory writable") {
		t.Logf("refused: %s", errs)
	}
}
