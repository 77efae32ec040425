package agent_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tally-inventory/tally/agent"
)

// TestRunServesUIOverTLS: the config's tls_cert_file/tls_key_file reach
// the UI the way `tally run` starts it, which answers over HTTPS with
// Secure cookies; a UI on the network without TLS is warned about.
func TestRunServesUIOverTLS(t *testing.T) {
	dir := t.TempDir()
	// A certificate for 127.0.0.1: net/http/httptest's own test one.
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	client := ts.Client()
	cert := ts.TLS.Certificates[0]
	ts.Close()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, tokenFile := filepath.Join(dir, "ui.crt"), filepath.Join(dir, "ui.key"), filepath.Join(dir, "token")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	os.WriteFile(tokenFile, []byte("a-long-enough-ui-token\n"), 0o600)

	for _, tc := range []struct {
		name        string
		listen      string
		tls         bool
		wantScheme  string
		wantWarning bool
	}{
		{"tls on the network", "0.0.0.0:0", true, "https://", false},
		{"plain on the network", "0.0.0.0:0", false, "http://", true},
		{"plain on loopback", "127.0.0.1:0", false, "http://", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := agent.ParseConfig("t.yaml", nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Database, cfg.Listen, cfg.TokenFile = filepath.Join(t.TempDir(), "tally.db"), tc.listen, tokenFile
			cfg.Metrics.Listen = ""
			if tc.tls {
				cfg.TLSCertFile, cfg.TLSKeyFile = certFile, keyFile
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var log bytes.Buffer
			a, err := agent.New(ctx, cfg, agent.Opts{Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if err := a.Start(ctx); err != nil {
				t.Fatal(err)
			}
			url := a.UIURL()
			if !strings.HasPrefix(url, tc.wantScheme) {
				t.Fatalf("UI at %s, want %s", url, tc.wantScheme)
			}
			if got := strings.Contains(log.String(), "plain HTTP"); got != tc.wantWarning {
				t.Errorf("warning %v, want %v: %q", got, tc.wantWarning, log.String())
			}
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()
			defer func() { cancel(); <-done }()
			res, err := client.Get(url + "login")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("GET %slogin: %d", url, res.StatusCode)
			}
			for _, c := range res.Cookies() {
				if c.Secure != tc.tls {
					t.Errorf("cookie %s Secure %v over %s", c.Name, c.Secure, tc.wantScheme)
				}
			}
		})
	}
}
