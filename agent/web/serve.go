package web

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	toolkit "github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
)

// tlsConfig builds the UI's TLS from certificate files or an
// exporter-toolkit web config file (its tls_server_config, the same file
// format as metrics.web_config); nil when neither is set.
func tlsConfig(o Opts) (*tls.Config, error) {
	files := o.TLSCertFile != "" || o.TLSKeyFile != ""
	switch {
	case files && o.WebConfigFile != "":
		return nil, errors.New("web: give either TLS certificate files or a web config file, not both")
	case files:
		if o.TLSCertFile == "" || o.TLSKeyFile == "" {
			return nil, errors.New("web: TLS needs both the certificate file and the key file")
		}
		cert, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("web: TLS certificate: %w (check tls_cert_file and tls_key_file)", err)
		}
		return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
	case o.WebConfigFile != "":
		b, err := os.ReadFile(o.WebConfigFile)
		if err != nil {
			return nil, fmt.Errorf("web: web config: %w", err)
		}
		// The toolkit's defaults, then the file, strictly.
		c := toolkit.Config{TLSConfig: toolkit.TLSConfig{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13}}
		if err := yaml.UnmarshalStrict(b, &c); err != nil {
			return nil, fmt.Errorf("web: web config %s: %w", o.WebConfigFile, err)
		}
		if len(c.Users) > 0 {
			return nil, fmt.Errorf("web: web config %s: basic_auth_users do not apply to the UI (it has its own login): remove them or use another file", o.WebConfigFile)
		}
		c.TLSConfig.SetDirectory(filepath.Dir(o.WebConfigFile))
		tc, err := toolkit.ConfigToTLSConfig(&c.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("web: web config %s: tls_server_config: %w", o.WebConfigFile, err)
		}
		return tc, nil
	}
	return nil, nil
}

// CheckTLS checks the UI's TLS settings as New would (`tally config
// check` runs it): the files exist and hold a certificate and its key.
func CheckTLS(certFile, keyFile, webConfigFile string) error {
	_, err := tlsConfig(Opts{TLSCertFile: certFile, TLSKeyFile: keyFile, WebConfigFile: webConfigFile})
	return err
}

// connLimit refuses connections beyond a total and a per-address cap, so
// a few hosts holding idle connections cannot starve everyone else. A
// refused connection is closed at once rather than left waiting.
type connLimit struct {
	net.Listener
	max, perAddr int

	mu     sync.Mutex
	n      int
	byAddr map[string]int
}

func limitConns(l net.Listener, max, perAddr int) *connLimit {
	return &connLimit{Listener: l, max: max, perAddr: perAddr, byAddr: map[string]int{}}
}

func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := addrKey(c.RemoteAddr().String())
		l.mu.Lock()
		if l.n >= l.max || l.byAddr[key] >= l.perAddr {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.n++
		l.byAddr[key]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, l: l, key: key}, nil
	}
}

type limitedConn struct {
	net.Conn
	l    *connLimit
	key  string
	once sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.n--
		if c.l.byAddr[c.key]--; c.l.byAddr[c.key] <= 0 {
			delete(c.l.byAddr, c.key)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
