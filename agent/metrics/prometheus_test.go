package metrics

// Tests against the real Prometheus and promtool (Debian package
// "prometheus"). Skipped when they are missing, unless CI=true.

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needTool finds a Prometheus binary: skipped locally when absent, fatal in CI.
func needTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found in PATH (apt-get install -y prometheus)", name)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func TestAlertRulesCheck(t *testing.T) {
	promtool := needTool(t, "promtool")
	out, err := exec.Command(promtool, "check", "rules", "tally-alerts.yml").CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules tally-alerts.yml: %v\n%s", err, out)
	}
}

func TestAlertRulesUnit(t *testing.T) {
	promtool := needTool(t, "promtool")
	out, err := exec.Command(promtool, "test", "rules", filepath.Join("testdata", "alerts_test.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules testdata/alerts_test.yml: %v\n%s", err, out)
	}
}

// promtool's own linter over a real scrape, Go and process metrics included.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := needTool(t, "promtool")
	m := newFixed()
	m.ObserveRead("ok", "scanner", time.Microsecond)
	addr, _ := serve(t, m, "")
	body := get(t, http.DefaultClient, "http://"+addr+"/metrics", http.StatusOK)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader([]byte(body))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestPrometheusScrapes runs the real Prometheus against two listeners —
// one plain, one with TLS and basic auth from a web config — and reads the
// agent's metrics back through Prometheus's HTTP API.
func TestPrometheusScrapes(t *testing.T) {
	prom := needTool(t, "prometheus")

	plain := newFixed()
	for range 7 {
		plain.ObserveRead("ok", "scanner", 2*time.Microsecond)
	}
	plainAddr, _ := serve(t, plain, "")

	secure := newFixed()
	for range 3 {
		secure.ObserveRead("unknown", "rfid", 2*time.Microsecond)
	}
	sec := newSecureSetup(t)
	secureAddr, _ := serve(t, secure, sec.webConfig)

	// Without credentials the secure listener refuses to scrape.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig(sec)}}
	waitListening(t, secureAddr)
	get(t, client, "https://"+secureAddr+"/metrics", http.StatusUnauthorized)

	dir := t.TempDir()
	rules, err := filepath.Abs("tally-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "password"), sec.password)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %q
scrape_configs:
  - job_name: tally
    static_configs:
      - targets: [%q]
  - job_name: tally-secure
    scheme: https
    basic_auth:
      username: %q
      password_file: %q
    tls_config:
      ca_file: %q
    static_configs:
      - targets: [%q]
  - job_name: tally-noauth
    scheme: https
    tls_config:
      insecure_skip_verify: true
    static_configs:
      - targets: [%q]
`, rules, plainAddr, sec.user, filepath.Join(dir, "password"), sec.certFile, secureAddr, secureAddr)
	cfgFile := filepath.Join(dir, "prometheus.yml")
	write(t, cfgFile, cfg)

	promAddr := freeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(prom,
		"--config.file="+cfgFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+promAddr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", logs.String())
		}
	})

	api := &promAPI{t: t, base: "http://" + promAddr, exited: exited}
	api.waitFor(`tally_reads_total{job="tally",outcome="ok",kind="scanner"}`, 7)
	api.waitFor(`tally_inventory_items_seen{job="tally",inventory="7"}`, 1200)
	api.waitFor(`tally_outbox_rows{job="tally",sink="koha",state="pending"}`, 12)
	api.waitFor(`up{job="tally-secure"}`, 1)
	api.waitFor(`tally_reads_total{job="tally-secure",outcome="unknown",kind="rfid"}`, 3)
	api.waitFor(`up{job="tally-noauth"}`, 0)

	// Live: new reads show up in the next scrapes.
	for range 5 {
		plain.ObserveRead("ok", "scanner", 2*time.Microsecond)
	}
	api.waitFor(`tally_reads_total{job="tally",outcome="ok",kind="scanner"}`, 12)

	// The dashboard's progress join, as Grafana runs it.
	api.waitFor(`tally_inventory_items_seen{job="tally"} / tally_inventory_items_expected{job="tally"}
		* on (job, instance, inventory) group_left (name) tally_inventory_info{name="Carts"}`, 30.0/36.0)

	// Every dashboard query parses and evaluates on the real server.
	for _, q := range dashboardQueries(t) {
		if _, err := api.query(q); err != nil {
			t.Errorf("dashboard query %s: %v", q, err)
		}
	}

	// The rules file loaded into the running server.
	api.waitForRules(10)
}

// dashboardQueries returns the dashboard's PromQL with Grafana's variables
// replaced as Grafana would for "all agents".
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	var d struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(Dashboard, &d); err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("$instance", ".+", "$__rate_interval", "1m")
	var qs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			qs = append(qs, r.Replace(tg.Expr))
		}
	}
	if len(qs) < 10 {
		t.Fatalf("only %d dashboard queries", len(qs))
	}
	return qs
}

func tlsConfig(s secureSetup) *tls.Config { return &tls.Config{RootCAs: s.pool} }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// promAPI polls Prometheus's HTTP API.
type promAPI struct {
	t      *testing.T
	base   string
	exited chan error
}

// deadline bounds every wait: Prometheus needs a few seconds to start and
// scrape every second; a minute means something is wrong.
const promWait = 60 * time.Second

func (p *promAPI) waitFor(query string, want float64) {
	p.t.Helper()
	deadline := time.Now().Add(promWait)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case err := <-p.exited:
			p.exited <- err
			p.t.Fatalf("prometheus exited: %v", err)
		default:
		}
		vals, err := p.query(query)
		switch {
		case err != nil:
			last = err.Error()
		case len(vals) != 1:
			last = fmt.Sprintf("%d series", len(vals))
		case vals[0] == want:
			return
		default:
			last = fmt.Sprintf("value %v", vals[0])
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.t.Fatalf("query %s: want %v within %v, last: %s", query, want, promWait, last)
}

func (p *promAPI) query(q string) ([]float64, error) {
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode %q: %w", body, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("status %s: %s", r.Status, r.Error)
	}
	var out []float64
	for _, s := range r.Data.Result {
		str, ok := s.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("value %v is not a string", s.Value)
		}
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (p *promAPI) waitForRules(want int) {
	p.t.Helper()
	deadline := time.Now().Add(promWait)
	got := -1
	for time.Now().Before(deadline) {
		resp, err := http.Get(p.base + "/api/v1/rules?type=alert")
		if err == nil {
			var r struct {
				Data struct {
					Groups []struct {
						Rules []struct {
							Name   string `json:"name"`
							Health string `json:"health"`
						} `json:"rules"`
					} `json:"groups"`
				} `json:"data"`
			}
			err = json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if err == nil {
				got = 0
				for _, g := range r.Data.Groups {
					for _, rule := range g.Rules {
						if rule.Health == "err" {
							p.t.Errorf("rule %s: health %s", rule.Name, rule.Health)
						}
						got++
					}
				}
				if got == want {
					return
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.t.Fatalf("prometheus loaded %d alert rules, want %d", got, want)
}
