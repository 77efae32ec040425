package main

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/tally-inventory/tally/agent"
	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/reconcile"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/agent/web"
)

func init() { startWeb = serveWeb }

// serveWeb starts the live UI and JSON API on the configured address.
func serveWeb(ctx context.Context, rt *runtime, fallback int) (string, error) {
	token, err := agent.ReadSecret(rt.cfg.TokenFile)
	if err != nil {
		return "", fmt.Errorf("token_file: %w", err)
	}
	l, err := listen(rt.cfg.Listen, fallback)
	if err != nil {
		return "", fmt.Errorf("UI listener: %w", err)
	}
	o := web.DefaultOpts
	o.Addr, o.Token, o.Title = l.Addr().String(), token, "tally"
	o.TLSCertFile, o.TLSKeyFile, o.WebConfigFile = rt.cfg.TLSCertFile, rt.cfg.TLSKeyFile, rt.cfg.WebConfig
	srv, err := web.New(webBackend{Engine: rt.e, rt: rt}, rt.hub, o)
	if err != nil {
		l.Close()
		return "", err
	}
	scheme := "http"
	if srv.TLS() {
		scheme = "https"
	} else if !web.IsLoopback(o.Addr) {
		fmt.Fprintf(rt.log, "warning: the UI on %s is plain HTTP: the login token crosses the network unencrypted (set tls_cert_file and tls_key_file, or web_config)\n", o.Addr)
	}
	rt.uiControls = srv
	rt.loops = append(rt.loops, func(ctx context.Context) error { return srv.Serve(ctx, l) })
	host, port, _ := net.SplitHostPort(l.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/", nil
}

// webBackend adapts the runtime to what the UI consumes.
type webBackend struct {
	*engine.Engine
	rt *runtime
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
	if b.rt.devs == nil {
		return nil
	}
	var out []web.DeviceStatus
	for _, d := range b.rt.devs.Status() {
		out = append(out, web.DeviceStatus{Name: d.Name, Kind: string(d.Kind), State: d.State, Error: d.Error,
			LastRead: d.LastRead, LastCode: d.LastCode, SessionID: d.Session})
	}
	return out
}

func (b webBackend) Bind(device string, sessionID int64) error {
	if b.rt.devs == nil {
		return fmt.Errorf("device %q: %w", device, store.ErrNotFound)
	}
	if err := b.rt.devs.Bind(context.Background(), device, sessionID); err != nil {
		if errors.Is(err, engine.ErrNoDevice) {
			return fmt.Errorf("%v: %w", err, store.ErrNotFound)
		}
		return err
	}
	return nil
}

func (b webBackend) Sinks() []web.SinkStatus {
	if b.rt.relay == nil {
		return nil
	}
	st, err := b.rt.relay.Status(context.Background())
	if err != nil {
		return nil
	}
	var out []web.SinkStatus
	for _, s := range st.Sinks {
		out = append(out, web.SinkStatus{Name: s.Sink, LastSuccess: s.LastOK, LastError: s.LastError, Backoff: !s.BackoffUntil.IsZero()})
	}
	return out
}
