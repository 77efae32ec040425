package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/store"
)

// Files written with --out are 0644, like the sync exports: they are for
// people to open and share.
func TestOutFilesAre0644(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TALLY_DB", filepath.Join(dir, "tally.db"))
	os.WriteFile(filepath.Join(dir, "c.csv"), []byte("barcode,title\n30234000000017,A\n"), 0o644)
	tally(t, "", "import", filepath.Join(dir, "c.csv"))
	tally(t, "", "inventory", "create", "--name", "All")
	for _, args := range [][]string{
		{"report", "--inventory", "1", "--out", filepath.Join(dir, "r.csv")},
		{"sheet", "honeywell-voyager-1250g-hidpos", "--out", filepath.Join(dir, "s.html")},
	} {
		tally(t, "", args...)
		st, err := os.Stat(args[len(args)-1])
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("tally %s: mode %v %v, want 0644", args[0], st.Mode().Perm(), err)
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// `tally run` on an empty database says what to do first.
func TestRunOnEmptyCatalogSaysImport(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tally.yaml")
	os.WriteFile(cfg, []byte("database: "+filepath.Join(dir, "tally.db")+"\nlisten: 127.0.0.1:0\nmetrics:\n  listen: \"\"\n"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int)
	go func() { done <- runMain(ctx, []string{"run", "--config", cfg}, &out, &errb) }()
	for !strings.Contains(errb.String(), "indexed") {
		select {
		case code := <-done:
			t.Fatalf("run ended (exit %d): %s", code, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if !strings.Contains(errb.String(), "0 items indexed — the catalog is empty: import a catalog first: tally import FILE") {
		t.Errorf("start-up line: %s", errb.String())
	}
}

// The demo says when it took another port than the one asked for, and ends
// its sessions when it stops.
func TestDemoPortAndSessionsOnExit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb lockedBuffer
	done := make(chan int)
	go func() {
		done <- runMain(ctx, []string{"demo", "--dir", dir, "--books", "400", "--quiet", "--listen", "127.0.0.1:" + port,
			"--metrics", "", "--scan-every", "2ms", "--cart-dwell", "100ms"}, &out, &errb)
	}()
	guard := time.After(60 * time.Second) // a hang guard, not a timing assertion
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		select {
		case code := <-done:
			t.Fatalf("demo ended (exit %d): %s%s", code, out.String(), errb.String())
		case <-guard:
			t.Fatalf("the demo did not start:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if !strings.Contains(out.String(), "(port "+port+" was in use, so the UI is on port ") {
		t.Errorf("the demo does not say it took another port:\n%s", out.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("demo exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "open sessions are ended") {
		t.Errorf("stop message: %s", out.String())
	}
	d, err := store.Open(context.Background(), filepath.Join(dir, "tally.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var open int
	d.SQL.QueryRow("SELECT count(*) FROM sessions WHERE state != 'ended'").Scan(&open)
	if open != 0 {
		t.Errorf("%d sessions left open by the demo", open)
	}
}
