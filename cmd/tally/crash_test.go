package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/store"
)

// buildTally builds the real binary once per test run.
func buildTally(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tally")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tally: %v\n%s", err, out)
	}
	return bin
}

// TestCrashLosesNoCommittedRead runs `tally scan` as a real process, feeds
// it reads, SIGKILLs it at a random point, and checks after a restart that
// every read it printed — printing happens only after commit — is in the
// store exactly once. Several rounds, each killed at another moment.
func TestCrashLosesNoCommittedRead(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real binary")
	}
	bin := buildTally(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "tally.db")
	env := append(os.Environ(), "TALLY_DB="+db)
	run := func(args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tally %v: %v\n%s", args, err, out)
		}
	}
	csvPath := filepath.Join(dir, "c.csv")
	cmd := exec.Command(bin, "sample", "collection", "--books", "3000", "--carts", "0")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(csvPath, out, 0o644)
	run("import", csvPath)
	run("inventory", "create", "--name", "crash", "--shelf-order=false")

	r := rand.New(rand.NewPCG(42, 1))
	confirmed := map[int64]string{} // read id → code, as printed by the killed processes
	sent := 0
	for round := 0; round < 5; round++ {
		run("session", "start", "--inventory", "1")
		sid := round + 1
		cmd := exec.Command(bin, "scan", "--session", fmt.Sprint(sid), "--json")
		cmd.Env = env
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan scanLine, 10000)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				var l scanLine
				if json.Unmarshal(sc.Bytes(), &l) == nil {
					lines <- l
				}
			}
			close(lines)
		}()
		// Write reads steadily; kill after a random number of confirmations.
		killAt := 50 + r.IntN(400)
		go func() {
			for i := 0; ; i++ {
				code := fmt.Sprintf("R%d-%05d", round, i) // unknown codes: each is journaled
				if _, err := fmt.Fprintln(stdin, code); err != nil {
					return
				}
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}()
		got := 0
		for l := range lines {
			confirmed[l.ReadID] = l.Code
			got++
			if got == killAt {
				cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		cmd.Wait()
		sent += got
		if got < killAt {
			t.Fatalf("round %d: process printed only %d reads before exiting", round, got)
		}
	}
	// Restart: open the store and check.
	d, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	stored := map[int64]string{}
	count := map[string]int{}
	rows, err := d.SQL.Query("SELECT id, code FROM reads")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var code string
		rows.Scan(&id, &code)
		stored[id] = code
		count[code]++
	}
	rows.Close()
	for id, code := range confirmed {
		if stored[id] != code {
			t.Errorf("read %d (%s) was confirmed but is not in the store after the crash", id, code)
		}
	}
	for code, n := range count {
		if n != 1 {
			t.Errorf("code %s stored %d times", code, n)
		}
	}
	t.Logf("%d confirmed reads across 5 SIGKILLs, %d rows stored (the rest were committed but not yet printed)", len(confirmed), len(stored))
}
