package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAgentRSS runs the real agent as its own process — `tally demo`
// on a 100k-book library — and reads its resident memory from /proc after
// an hour's worth of reads at 5 a second (18,000), by default and with
// GOMAXPROCS=1. Its simulated scanner reads every 0.25 ms on average, so
// the hour takes seconds (at 1 ms it took minutes on a loaded machine). The
// measured runs are restarts from the index snapshot, as each school day
// is.
func BenchmarkAgentRSS(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "tally")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build tally: %v\n%s", err, out)
	}
	dir := b.TempDir()
	// The first run makes the library and the database; the second
	// catches its index up with the import and writes the snapshot, so
	// the measured runs start from it, as each school day does.
	agentReads(b, bin, dir, nil, 10)
	agentReads(b, bin, dir, nil, 10)
	// Each measured run starts from this same state.
	day := b.TempDir()
	if err := os.CopyFS(day, os.DirFS(dir)); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  []string
	}{{"default", nil}, {"gomaxprocs=1", []string{"GOMAXPROCS=1"}}} {
		b.Run("items=100000/reads=18000/"+c.name, func(b *testing.B) {
			var rss, peak float64
			for i := 0; i < b.N; i++ {
				run := filepath.Join(b.TempDir(), "day")
				if err := os.CopyFS(run, os.DirFS(day)); err != nil {
					b.Fatal(err)
				}
				st := agentReads(b, bin, run, c.env, 18_000)
				rss, peak = st["VmRSS"]/1024, st["VmHWM"]/1024
			}
			b.ReportMetric(rss, "MB-rss")
			b.ReportMetric(peak, "MB-peak-rss")
			b.ReportMetric(80, "goal-MB-rss")
		})
	}
}

// agentReads starts the agent, waits for n committed reads and returns its
// /proc status figures (kB) read at that moment; then stops it (SIGTERM).
func agentReads(b *testing.B, bin, dir string, env []string, n int) map[string]float64 {
	cmd := exec.Command(bin, "demo", "--dir", dir, "--books", "100000", "--json", "--quiet",
		"--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--scan-every", "250us", "--cart-dwell", "1s")
	cmd.Env = append(os.Environ(), env...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, stdout); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
		cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	reads := 0
	deadline := time.Now().Add(10 * time.Minute)
	for reads < n && sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			if _, ok := m["read_id"]; ok {
				reads++
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d reads in 10 minutes", reads)
		}
	}
	if reads < n {
		b.Fatalf("the agent stopped after %d reads", reads)
	}
	return procStatus(b, cmd.Process.Pid)
}

// procStatus reads the kB figures of /proc/PID/status.
func procStatus(b *testing.B, pid int) map[string]float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ":")
		f := strings.Fields(v)
		if ok && len(f) == 2 && f[1] == "kB" {
			out[k], _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return out
}
