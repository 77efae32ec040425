package metrics

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tally-inventory/tally/agent/internal/testcert"
)

func TestHandlerServesMetrics(t *testing.T) {
	m := newFixed()
	m.ObserveRead("found", "rfid", time.Microsecond)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	body := get(t, srv.Client(), srv.URL+"/metrics", http.StatusOK)
	for _, want := range []string{
		`tally_reads_total{kind="rfid",outcome="found"} 1`,
		`tally_sessions_open 2`,
		`tally_build_info{`,
		`go_goroutines `,
		`promhttp_metric_handler_requests_total{code="200"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if page := get(t, srv.Client(), srv.URL+"/", http.StatusOK); !strings.Contains(page, `href="metrics"`) && !strings.Contains(page, `/metrics`) {
		t.Errorf("landing page does not link to /metrics:\n%s", page)
	}
}

// Serve on two listeners (or a Handler in a test beside Serve) must not
// trip over the handler's own metrics being registered twice.
func TestHandlerTwice(t *testing.T) {
	m := newFixed()
	a, b := httptest.NewServer(m.Handler()), httptest.NewServer(m.Handler())
	defer a.Close()
	defer b.Close()
	get(t, a.Client(), a.URL+"/metrics", http.StatusOK)
	body := get(t, b.Client(), b.URL+"/metrics", http.StatusOK)
	if !strings.Contains(body, `promhttp_metric_handler_requests_total{code="200"} 1`) {
		t.Error("second handler does not share the scrape counter")
	}
}

func get(t *testing.T, c *http.Client, url string, wantCode int) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != wantCode {
		t.Fatalf("GET %s: status %d, want %d\n%s", url, resp.StatusCode, wantCode, b)
	}
	return string(b)
}

// serve starts ServeListener on 127.0.0.1:0 and returns its address and a
// stop function that cancels it and returns Serve's error.
func serve(t *testing.T, m *Metrics, webConfig string) (addr string, stop func() error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.ServeListener(ctx, l, webConfig) }()
	var once bool
	var serr error
	stop = func() error {
		if once {
			return serr
		}
		once = true
		cancel()
		select {
		case serr = <-errc:
		case <-time.After(2 * ShutdownTimeout):
			t.Error("Serve did not return after its context ended")
		}
		return serr
	}
	t.Cleanup(func() { stop() })
	return l.Addr().String(), stop
}

func TestServeShutsDownOnContext(t *testing.T) {
	addr, stop := serve(t, newFixed(), "")
	get(t, http.DefaultClient, "http://"+addr+"/metrics", http.StatusOK)
	if err := stop(); err != nil {
		t.Errorf("Serve returned %v after cancel, want nil", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("listener still accepts connections after shutdown")
	}
}

func TestServeBadAddrAndConfig(t *testing.T) {
	m := New(Opts{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := m.Serve(context.Background(), l.Addr().String(), ""); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Serve on a busy address: %v, want a listen error", err)
	}
	bad := filepath.Join(t.TempDir(), "web.yml")
	os.WriteFile(bad, []byte("basic_auth_users:\n  tally: not-a-bcrypt-hash\n"), 0o600)
	if err := m.Serve(context.Background(), "127.0.0.1:0", bad); err == nil || !strings.Contains(err.Error(), "web config") {
		t.Errorf("Serve with a bad web config: %v, want a web config error", err)
	}
	if err := m.Serve(context.Background(), "127.0.0.1:0", filepath.Join(t.TempDir(), "missing.yml")); err == nil {
		t.Error("Serve with a missing web config file succeeded")
	}
}

// secureSetup is a web config with TLS (a self-signed certificate for
// 127.0.0.1) and basic auth (bcrypt), as a district would deploy it.
type secureSetup struct {
	dir, webConfig, certFile string
	user, password           string
	pool                     *x509.CertPool
}

func newSecureSetup(t *testing.T) secureSetup {
	t.Helper()
	dir := t.TempDir()
	certFile, _, pool := testcert.Write(t, dir, "tls")
	s := secureSetup{dir: dir, user: "prometheus", password: "correct horse battery staple",
		certFile: certFile, webConfig: filepath.Join(dir, "web.yml"), pool: pool}
	hash, err := bcrypt.GenerateFromPassword([]byte(s.password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// Relative paths: exporter-toolkit resolves them against the config's directory.
	write(t, s.webConfig, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n"+
		"basic_auth_users:\n  "+s.user+": "+string(hash)+"\n")
	return s
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeTLSAndBasicAuth(t *testing.T) {
	sec := newSecureSetup(t)
	addr, stop := serve(t, newFixed(), sec.webConfig)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sec.pool}}}
	url := "https://" + addr + "/metrics"

	waitListening(t, addr)
	get(t, client, url, http.StatusUnauthorized)

	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth(sec.user, "wrong")
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %v %v, want 401", resp.Status, err)
	} else {
		resp.Body.Close()
	}

	req.SetBasicAuth(sec.user, sec.password)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "tally_items_indexed 41234") {
		t.Errorf("authenticated scrape: %s\n%.300s", resp.Status, b)
	}

	// Plain HTTP to the TLS listener must not yield metrics.
	if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), "tally_") {
			t.Error("metrics served over plain HTTP on a TLS listener")
		}
	}
	if err := stop(); err != nil {
		t.Errorf("Serve returned %v after cancel, want nil", err)
	}
}

// waitListening waits until addr accepts connections (ServeListener's
// listener is open before Serve starts, so this is quick).
func waitListening(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}
