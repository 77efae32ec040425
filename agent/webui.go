package agent

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/agent/web"
)

// startUI opens the live UI's listener and builds its server: the loop
// that serves it, and what closes the listener when the loop never runs.
func (a *Agent) startUI() (serve func(context.Context) error, closeUI func(), err error) {
	token, err := ReadSecret(a.cfg.TokenFile)
	if err != nil {
		return nil, nil, fmt.Errorf("token_file: %w", err)
	}
	l, err := listen(a.cfg.Listen, a.opts.PortFallback)
	if err != nil {
		return nil, nil, fmt.Errorf("UI listener: %w", err)
	}
	o := web.DefaultOpts
	o.Addr, o.Token, o.Title = l.Addr().String(), token, "tally"
	o.TLSCertFile, o.TLSKeyFile, o.WebConfigFile = a.cfg.TLSCertFile, a.cfg.TLSKeyFile, a.cfg.WebConfig
	srv, err := web.New(webBackend{Engine: a.e, a: a}, a.hub, o)
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	scheme := "http"
	if srv.TLS() {
		scheme = "https"
	} else if !web.IsLoopback(o.Addr) {
		fmt.Fprintf(a.log, "warning: the UI on %s is plain HTTP: the login token crosses the network unencrypted (set tls_cert_file and tls_key_file, or web_config)\n", o.Addr)
	}
	a.ui = srv
	host, port, _ := net.SplitHostPort(l.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	a.uiURL = scheme + "://" + net.JoinHostPort(host, port) + "/"
	return func(ctx context.Context) error { return srv.Serve(ctx, l) }, func() { l.Close() }, nil
}

// listen opens a TCP listener, trying the next ports when addr's is taken
// and fallback is set.
func listen(addr string, fallback int) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err == nil || fallback == 0 {
		return l, err
	}
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	for i := 1; i <= fallback; i++ {
		if l, err2 := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(p+i))); err2 == nil {
			return l, nil
		}
	}
	return nil, err
}

// webBackend is what the UI consumes of the agent.
type webBackend struct {
	*engine.Engine
	a *Agent
}

var _ web.Backend = webBackend{}

func (b webBackend) Store() *store.DB        { return b.DB }
func (b webBackend) Catalog() *catalog.Index { return b.Index }

// Undo takes back the last read and reports it as a result.
func (b webBackend) Undo(ctx context.Context, sessionID int64) (*engine.Result, error) {
	row, err := b.Engine.Undo(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	o := reconcile.Outcome(row.Outcome)
	return &engine.Result{ReadID: row.ID, SessionID: row.SessionID, InventoryID: row.InventoryID, At: row.At,
		Code: row.Code, Barcode: row.Barcode, Outcome: o, Flags: reconcile.ParseFlags(row.Flags), Meaning: reconcile.Meaning(o)}, nil
}

func (b webBackend) Devices() []web.DeviceStatus {
	var out []web.DeviceStatus
	for _, d := range b.a.devs.Status() {
		out = append(out, web.DeviceStatus{Name: d.Name, Kind: string(d.Kind), State: d.State, Error: d.Error,
			LastRead: d.LastRead, LastCode: d.LastCode, SessionID: d.Session})
	}
	return out
}

func (b webBackend) Bind(device string, sessionID int64) error {
	if err := b.a.devs.Bind(context.Background(), device, sessionID); err != nil {
		if errors.Is(err, engine.ErrNoDevice) {
			return fmt.Errorf("%v: %w", err, store.ErrNotFound)
		}
		return err
	}
	return nil
}

func (b webBackend) Sinks() []web.SinkStatus {
	if b.a.relay == nil {
		return nil
	}
	st, err := b.a.relay.Status(context.Background())
	if err != nil {
		return nil
	}
	var out []web.SinkStatus
	for _, s := range st.Sinks {
		out = append(out, web.SinkStatus{Name: s.Sink, LastSuccess: s.LastOK, LastError: s.LastError, Backoff: !s.BackoffUntil.IsZero()})
	}
	return out
}
