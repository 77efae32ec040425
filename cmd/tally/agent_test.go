package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/store"
)

// agentProc is a running `tally demo --json`: the real binary with its
// simulated USB scanner and RFID wand.
type agentProc struct {
	cmd             *exec.Cmd
	lines           chan map[string]any
	ui, metrics, db string
}

func startAgent(t *testing.T, bin, dir string, extra ...string) *agentProc {
	t.Helper()
	args := append([]string{"demo", "--dir", dir, "--books", "1500", "--json", "--listen", "127.0.0.1:0",
		"--metrics", "127.0.0.1:0", "--scan-every", "4ms", "--cart-dwell", "400ms"}, extra...)
	cmd := exec.Command(bin, args...)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &agentProc{cmd: cmd, lines: make(chan map[string]any, 100000)}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines <- m
			}
		}
		close(p.lines)
	}()
	select {
	case m, ok := <-p.lines:
		if !ok {
			cmd.Wait()
			t.Fatal("the agent exited before it started")
		}
		p.ui, _ = m["ui"].(string)
		p.metrics, _ = m["metrics"].(string)
		p.db, _ = m["database"].(string)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the agent did not start")
	}
	return p
}

// confirmed is what the agent told its devices was accepted: read id → code.
type confirmed map[int64]string

func (c confirmed) take(m map[string]any) {
	if id, ok := m["read_id"].(float64); ok {
		c[int64(id)], _ = m["code"].(string)
	}
}

func (c confirmed) checkStored(t *testing.T, db string) {
	t.Helper()
	d, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for id, code := range c {
		var got string
		var n int
		d.SQL.QueryRow("SELECT code, count(*) FROM reads WHERE id = ?", id).Scan(&got, &n)
		if n != 1 || got != code {
			t.Errorf("read %d (%s) was confirmed to its device but the store has %d rows, code %q", id, code, n, got)
		}
	}
}

// TestAgentCrashLosesNoAcceptedRead runs the real agent with its simulated
// devices, SIGKILLs it at random points, restarts it on the same database,
// and checks that every read its devices were told was accepted is stored,
// exactly once.
func TestAgentCrashLosesNoAcceptedRead(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildTally(t)
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	all := confirmed{}
	var db string
	for round := 0; round < 4; round++ {
		p := startAgent(t, bin, dir)
		db = p.db
		killAt := 30 + r.IntN(250)
		n := 0
		for m := range p.lines {
			all.take(m)
			if n++; n == killAt {
				p.cmd.Process.Signal(syscall.SIGKILL)
			}
		}
		p.cmd.Wait()
		if n < killAt {
			t.Fatalf("round %d: the agent stopped by itself after %d reads", round, n)
		}
	}
	all.checkStored(t, db)
	t.Logf("%d accepted reads over 4 SIGKILLs, all stored", len(all))
}

// TestAgentSIGTERMDrains: SIGTERM stops the agent cleanly (exit 0), and the
// reads accepted up to then are stored.
func TestAgentSIGTERMDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	bin := buildTally(t)
	p := startAgent(t, bin, t.TempDir())
	got := confirmed{}
	for m := range p.lines {
		got.take(m)
		if len(got) == 100 {
			p.cmd.Process.Signal(syscall.SIGTERM)
			break
		}
	}
	done := make(chan error, 1)
	go func() {
		for m := range p.lines {
			got.take(m)
		}
		done <- p.cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent exited with %v after SIGTERM", err)
		}
	case <-time.After(60 * time.Second): // a hang guard, not a timing assertion
		p.cmd.Process.Kill()
		t.Fatal("agent did not exit after SIGTERM")
	}
	got.checkStored(t, p.db)
}

// TestPrometheusScrapesAgent starts a real Prometheus (Debian's package)
// scraping a running agent and reads a metric back through its HTTP API.
func TestPrometheusScrapesAgent(t *testing.T) {
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prometheus is not installed; .ci/run installs Debian's prometheus")
		}
		t.Skip("prometheus not installed")
	}
	bin := buildTally(t)
	p := startAgent(t, bin, t.TempDir(), "--scan-every", "20ms")
	defer func() { p.cmd.Process.Signal(syscall.SIGTERM); p.cmd.Wait() }()
	go func() {
		for range p.lines {
		}
	}()
	u, _ := url.Parse(p.metrics)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
scrape_configs:
  - job_name: tally
    static_configs:
      - targets: [%q]
`, u.Host)), 0o644)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(prom, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	query := func(q string) (float64, bool) {
		resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
		if err != nil {
			return 0, false
		}
		defer resp.Body.Close()
		var out struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&out) != nil || len(out.Data.Result) == 0 {
			return 0, false
		}
		s, _ := out.Data.Result[0].Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		reads, ok1 := query(`sum(tally_reads_total)`)
		items, ok2 := query(`tally_items_indexed`)
		if ok1 && ok2 && reads > 0 {
			if items != 1500+12*30 {
				t.Errorf("tally_items_indexed = %v through Prometheus, want %d", items, 1500+12*30)
			}
			t.Logf("Prometheus read back %v reads and %v items from the running agent", reads, items)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatal("Prometheus never returned tally_reads_total > 0 from the running agent")
}
