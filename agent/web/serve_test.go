package web

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tally-inventory/tally/agent/internal/testcert"
)

// serve runs the server on a loopback port until the test ends.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// TestTLS serves the UI over HTTPS from certificate files and from an
// exporter-toolkit web config (the same format as metrics.web_config, see
// github.com/prometheus/exporter-toolkit docs/web-configuration.md), with
// Secure cookies, and refuses plain HTTP on that port.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := testcert.Write(t, dir, "ui")
	webConfig := filepath.Join(dir, "web.yml")
	// Relative paths: resolved against the config's directory, as the toolkit does.
	if err := os.WriteFile(webConfig, []byte("tls_server_config:\n  cert_file: ui.crt\n  key_file: ui.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Opts{
		{Addr: "0.0.0.0:8443", Token: secretTok, TLSCertFile: cert, TLSKeyFile: key},
		{Addr: "0.0.0.0:8443", Token: secretTok, WebConfigFile: webConfig},
	} {
		e := newEnv(t, o)
		if !e.s.TLS() {
			t.Fatalf("%+v: no TLS", o)
		}
		addr := serve(t, e.s)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		res, err := c.Get("https://" + addr + "/login")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.TLS == nil {
			t.Fatalf("GET /login over TLS: %d", res.StatusCode)
		}
		cookies := res.Cookies()
		if len(cookies) == 0 {
			t.Fatal("no session cookie")
		}
		for _, ck := range cookies {
			if !ck.Secure || !ck.HttpOnly {
				t.Errorf("cookie %s: Secure %v HttpOnly %v", ck.Name, ck.Secure, ck.HttpOnly)
			}
		}
		if res, err := http.Get("http://" + addr + "/login"); err == nil {
			if res.StatusCode == 200 {
				t.Errorf("plain HTTP on the TLS port: %d", res.StatusCode)
			}
			res.Body.Close()
		}
	}
	// Mistakes are refused before anything listens.
	users := filepath.Join(dir, "users.yml")
	os.WriteFile(users, []byte("tls_server_config:\n  cert_file: ui.crt\n  key_file: ui.key\nbasic_auth_users:\n  a: $2y$10$x\n"), 0o600)
	typo := filepath.Join(dir, "typo.yml")
	os.WriteFile(typo, []byte("tls_server_config:\n  cert_fil: ui.crt\n"), 0o600)
	for _, o := range []Opts{
		{TLSCertFile: cert},
		{TLSCertFile: cert, TLSKeyFile: filepath.Join(dir, "nope.key")},
		{TLSCertFile: cert, TLSKeyFile: key, WebConfigFile: webConfig},
		{WebConfigFile: users},
		{WebConfigFile: typo},
		{WebConfigFile: filepath.Join(dir, "none.yml")},
	} {
		o.Addr, o.Token = "0.0.0.0:8443", secretTok
		if _, err := New(newBackend(t, fixture()), nil, o); err == nil {
			t.Errorf("New(%+v): no error", o)
		}
	}
}

// TestConnectionLimits: one address gets MaxConnsPerAddr connections,
// the rest are closed at once; a connection that sends nothing is closed
// after ReadHeaderTimeout; an idle keep-alive one after IdleTimeout; the
// live stream outlives the read and write timeouts.
func TestConnectionLimits(t *testing.T) {
	e := newEnv(t, Opts{MaxConnsPerAddr: 8, ReadHeaderTimeout: time.Hour, IdleTimeout: time.Hour})
	addr := serve(t, e.s)
	var held []net.Conn
	refused := 0
	for i := 0; i < 30; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A refused connection is closed by the server: EOF. A held one
		// has nothing to say: the read times out on our side.
		c.SetReadDeadline(time.Now().Add(time.Second))
		var b [1]byte
		_, err = c.Read(b[:])
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			held = append(held, c)
		case errors.Is(err, io.EOF) || err != nil:
			refused++
		default:
			t.Fatalf("connection %d: server sent something", i)
		}
	}
	if len(held) != 8 || refused != 22 {
		t.Fatalf("30 idle connections from one address: %d held, %d refused, want 8 and 22", len(held), refused)
	}
	// A held one still works.
	c := held[0]
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "GET /static/app.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("request on a held connection: %q %v", line, err)
	}
	// Closing frees a place.
	for _, c := range held {
		c.Close()
	}
	var c2 net.Conn
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		c2, _ = net.Dial("tcp", addr)
		c2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var b [1]byte
		_, err := c2.Read(b[:])
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			break
		}
		c2.Close()
		c2 = nil
	}
	if c2 == nil {
		t.Fatal("no place freed after closing the held connections")
	}
	c2.Close()

	// Timeouts end silent and idle connections.
	e = newEnv(t, Opts{ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 100 * time.Millisecond,
		ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond})
	addr = serve(t, e.s)
	silent, _ := net.Dial("tcp", addr)
	defer silent.Close()
	silent.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("a connection that sends nothing: %v, want closed by the server", err)
	}
	idle, _ := net.Dial("tcp", addr)
	defer idle.Close()
	idle.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(idle, "GET /static/favicon.svg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	if _, err := io.ReadAll(idle); err != nil { // read until the server closes the idle connection
		t.Fatalf("idle keep-alive connection: %v, want closed by the server", err)
	}
	// The live stream is not cut by the read or write timeout.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	count, evc := liveStream(t, ctx, "http://"+addr+"/sessions/1/events")
	if <-evc != "state" {
		t.Fatal("no state")
	}
	time.Sleep(500 * time.Millisecond) // beyond every timeout above
	e.read(t, e.sess, "F1")
	select {
	case ev := <-evc:
		if ev != "read" {
			t.Fatalf("event %q after the timeouts", ev)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the live stream was cut by the timeouts (events so far: read %d)", count("read"))
	}
}
