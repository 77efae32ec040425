// Package web is tally's live UI and JSON API: the scan screen a student
// assistant watches at the shelf, the cart check, inventory management,
// reports, devices and sync. Pages are server-rendered with html/template,
// updated live over Server-Sent Events by a small embedded script; every
// asset is embedded, so the binary is the whole UI.
//
// Lifecycle: New builds the handler; Serve (or ListenAndServe) runs it until
// its context is cancelled, then ends the live streams and waits for
// in-flight requests.
package web

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tally-inventory/tally/agent/catalog"
	"github.com/tally-inventory/tally/agent/engine"
	"github.com/tally-inventory/tally/agent/report"
	"github.com/tally-inventory/tally/agent/store"
	"github.com/tally-inventory/tally/drivers"
)

// Backend is what the UI needs from the agent runtime: the method set of
// *engine.Engine it uses plus a few things only the runtime knows (devices,
// sinks). The runtime adapts; tests wrap a real engine.
type Backend interface {
	// Submit decides and records one read; it returns after commit.
	Submit(ctx context.Context, sessionID int64, rd drivers.Read) (*engine.Result, error)
	// Undo takes back the last read of a session and returns it.
	Undo(ctx context.Context, sessionID int64) (*engine.Result, error)
	Missing(ctx context.Context, invID int64) ([]engine.MissingItem, error)
	Finalize(ctx context.Context, invID int64, dryRun bool) (*engine.FinalizeResult, error)
	Reports(ctx context.Context, invID int64, names ...string) ([]report.Table, error)
	// StartSession and SetSessionState start a session and change its
	// state through the engine, which caches states.
	StartSession(ctx context.Context, invID int64, kind store.SessionKind, cart, operator, device string) (*store.Session, error)
	SetSessionState(ctx context.Context, sessionID int64, state store.SessionState) (*store.Session, error)
	// Writer is the store's single writer (dead-letter retries go through it).
	Writer() *store.Writer

	// Store is the engine's database (Engine.DB).
	Store() *store.DB
	// Catalog is the engine's index (Engine.Index).
	Catalog() *catalog.Index
	// Devices lists the configured devices and their state.
	Devices() []DeviceStatus
	// Bind routes a device's reads to a session; sessionID 0 unbinds it.
	Bind(device string, sessionID int64) error
	// Sinks reports each upstream sink of the relay (nil when none run).
	Sinks() []SinkStatus
}

// DeviceStatus is one device as the runtime sees it.
type DeviceStatus struct {
	Name      string    `json:"name"`
	Kind      string    `json:"kind"`  // scanner | rfid | manual
	State     string    `json:"state"` // connected | disconnected | failing
	Error     string    `json:"error,omitempty"`
	LastRead  time.Time `json:"last_read,omitempty"`
	LastCode  string    `json:"last_code,omitempty"`
	SessionID int64     `json:"session_id,omitempty"` // bound session, 0 when none
}

// SinkStatus is one upstream sink of the relay.
type SinkStatus struct {
	Name        string    `json:"name"`
	LastSuccess time.Time `json:"last_success,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	Backoff     bool      `json:"backoff,omitempty"` // waiting before the next attempt
}

// Opts configures the server.
type Opts struct {
	// Addr is where ListenAndServe listens. Loopback needs no login; any
	// other address requires Token.
	Addr string
	// Token is the login secret: at least MinNetworkToken characters when
	// Addr is not loopback (then it is required); on loopback it may be a
	// PIN of MinLocalPIN characters (a touch-screen kiosk), and login is
	// then required there too. Never rendered.
	Token string
	// Title names the agent in page headings ("tally — Lincoln Elementary").
	Title string
	// SecureCookies marks cookies Secure (set when served over TLS, e.g.
	// behind a reverse proxy; set by itself when TLS is configured here).
	SecureCookies bool
	// TLSCertFile and TLSKeyFile serve HTTPS (PEM files). WebConfigFile is
	// the alternative: an exporter-toolkit web config file whose
	// tls_server_config is used (basic_auth_users are refused: the UI has
	// its own login).
	TLSCertFile, TLSKeyFile, WebConfigFile string
	// Timeouts: to read a request's headers, its whole body, and how long
	// an idle keep-alive connection is kept. Responses other than the live
	// stream must be written within WriteTimeout.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConns caps the open connections, MaxConnsPerAddr those of one
	// client address (an IPv6 /64 counts as one); more are closed at once.
	MaxConns, MaxConnsPerAddr int
	// Feed is how many recent reads the scan screen shows.
	Feed int
	// MissingMax caps the rows of the live missing list.
	MissingMax int
	// MaxWatchers caps the live screens open at once (each holds a
	// connection and a small queue); more are refused with 503.
	MaxWatchers int
	// LoginTTL is how long a login lasts.
	LoginTTL time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

// DefaultOpts serves on loopback only, without login.
var DefaultOpts = Opts{Addr: "127.0.0.1:8080", Title: "tally", Feed: 25, MissingMax: 300, MaxWatchers: 256,
	LoginTTL: 12 * time.Hour, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
	IdleTimeout: 30 * time.Second, MaxConns: 512, MaxConnsPerAddr: 64}

//go:embed assets
var assets embed.FS

// Server is the UI and API handler.
type Server struct {
	b     Backend
	hub   *engine.Hub
	opts  Opts
	login bool // login required
	mux   *http.ServeMux
	h     http.Handler
	pages map[string]*pageTmpl
	auth  *authState
	tls   *tls.Config // nil: plain HTTP

	done     chan struct{} // closed at shutdown: ends live streams
	doneOnce sync.Once

	mu       sync.Mutex
	rooms    map[int64]*room // watched sessions
	watchers int             // open live screens
}

var _ http.Handler = (*Server)(nil)

// New builds the server. hub delivers every committed result (the runtime
// publishes on it); it may be nil, and then pages do not update live.
func New(b Backend, hub *engine.Hub, opts Opts) (*Server, error) {
	if b == nil {
		return nil, errors.New("web: no backend")
	}
	d := DefaultOpts
	if opts.Addr == "" {
		opts.Addr = d.Addr
	}
	if opts.Title == "" {
		opts.Title = d.Title
	}
	if opts.Feed <= 0 {
		opts.Feed = d.Feed
	}
	if opts.MissingMax <= 0 {
		opts.MissingMax = d.MissingMax
	}
	if opts.MaxWatchers <= 0 {
		opts.MaxWatchers = d.MaxWatchers
	}
	if opts.LoginTTL <= 0 {
		opts.LoginTTL = d.LoginTTL
	}
	for _, p := range []struct{ v, d *time.Duration }{{&opts.ReadHeaderTimeout, &d.ReadHeaderTimeout},
		{&opts.ReadTimeout, &d.ReadTimeout}, {&opts.WriteTimeout, &d.WriteTimeout}, {&opts.IdleTimeout, &d.IdleTimeout}} {
		if *p.v <= 0 {
			*p.v = *p.d
		}
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = d.MaxConns
	}
	if opts.MaxConnsPerAddr <= 0 {
		opts.MaxConnsPerAddr = d.MaxConnsPerAddr
	}
	tc, err := tlsConfig(opts)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts.SecureCookies = true
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if hub == nil {
		hub = engine.NewHub()
	}
	s := &Server{b: b, hub: hub, opts: opts, tls: tc, done: make(chan struct{}), rooms: map[int64]*room{}}
	if err := checkToken(opts.Addr, opts.Token); err != nil {
		return nil, err
	}
	s.login = !IsLoopback(opts.Addr) || opts.Token != ""
	if s.auth, err = newAuth(opts); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// checkToken applies the minimum lengths (see MinNetworkToken).
func checkToken(addr, token string) error {
	n := utf8.RuneCountInString(token)
	switch {
	case !IsLoopback(addr) && token == "":
		return fmt.Errorf("web: listening on %s (not loopback) needs a login token of at least %d characters: set one, or listen on 127.0.0.1", addr, MinNetworkToken)
	case !IsLoopback(addr) && n < MinNetworkToken:
		return fmt.Errorf("web: listening on %s (not loopback): the login token has %d characters, want at least %d (a PIN is only for a UI on loopback): make it longer, or listen on 127.0.0.1", addr, n, MinNetworkToken)
	case token != "" && n < MinLocalPIN:
		return fmt.Errorf("web: the login PIN has %d characters, want at least %d", n, MinLocalPIN)
	}
	return nil
}

// TLS says whether the server speaks HTTPS itself.
func (s *Server) TLS() bool { return s.tls != nil }

// LoginRequired says whether the server asks for the token.
func (s *Server) LoginRequired() bool { return s.login }

// ServeHTTP serves the UI and the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// ListenAndServe listens on Opts.Addr and serves until ctx is cancelled.
func (s *Server) ListenAndServe(ctx context.Context) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("web: listen on %s: %w (is another tally running? pick another address)", s.opts.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is cancelled, then closes the live streams
// and waits (up to 5 s) for requests in flight. A listener that is not on
// loopback is refused unless login is required.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !s.login && !IsLoopback(ln.Addr().String()) {
		ln.Close()
		return fmt.Errorf("web: %s is not loopback and no login token is set: refusing to serve", ln.Addr())
	}
	o := s.opts
	ln = limitConns(ln, o.MaxConns, o.MaxConnsPerAddr)
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: o.ReadHeaderTimeout, ReadTimeout: o.ReadTimeout,
		WriteTimeout: o.WriteTimeout, IdleTimeout: o.IdleTimeout, MaxHeaderBytes: 64 << 10,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.Close()
		return err
	case <-ctx.Done():
	}
	s.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(sctx)
	<-errc
	return err
}

// Close ends the live event streams (Serve calls it at shutdown).
func (s *Server) Close() { s.doneOnce.Do(func() { close(s.done) }) }

// IsLoopback reports whether a listen address only takes local connections.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func staticFS() fs.FS {
	sub, err := fs.Sub(assets, "assets/static")
	if err != nil {
		panic(err)
	}
	return sub
}
