package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
)

// ShutdownTimeout bounds how long Serve waits for in-flight scrapes once
// its context ends.
const ShutdownTimeout = 3 * time.Second

// Handler serves /metrics from the private registry and a landing page at
// /. It applies no authentication: Serve wraps it with the web config's.
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A failing collector costs its own series, not the whole scrape.
		ErrorHandling:       promhttp.ContinueOnError,
		ErrorLog:            slogErrorLog{m},
		Registry:            m.reg,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
	mux.Handle("/metrics", promhttp.InstrumentMetricHandler(m.reg, h))
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "tally",
		Description: "Inventory agent for school library media centers",
		Version:     m.state.version,
		Links:       []web.LandingLinks{{Address: "/metrics", Text: "Metrics"}},
	})
	if err == nil {
		mux.Handle("/", landing)
	}
	return mux
}

type slogErrorLog struct{ m *Metrics }

func (l slogErrorLog) Println(v ...any) { l.m.logger.Error("metrics scrape", "err", fmt.Sprint(v...)) }

// Serve listens on addr and serves Handler until ctx ends, then shuts down
// gracefully. webConfigFile is an exporter-toolkit web config (TLS, basic
// auth with bcrypt hashes, rate limit); empty means plain HTTP without
// authentication. A bad web config is reported before anything listens.
func (m *Metrics) Serve(ctx context.Context, addr, webConfigFile string) error {
	if webConfigFile != "" {
		if err := web.Validate(webConfigFile); err != nil {
			return fmt.Errorf("metrics: web config %s: %w", webConfigFile, err)
		}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen on %s: %w (choose a free address for metrics.listen)", addr, err)
	}
	return m.ServeListener(ctx, l, webConfigFile)
}

// ServeListener is Serve on a listener the caller opened (tests use
// 127.0.0.1:0; systemd socket activation hands one over). It closes l.
func (m *Metrics) ServeListener(ctx context.Context, l net.Listener, webConfigFile string) error {
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
		case <-done:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	}()
	flags := &web.FlagConfig{
		WebListenAddresses: &[]string{l.Addr().String()},
		WebSystemdSocket:   new(false),
		WebConfigFile:      &webConfigFile,
	}
	err := web.Serve(l, srv, flags, m.logger)
	close(done)
	<-stopped
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	l.Close()
	if err != nil {
		return fmt.Errorf("metrics: serve on %s: %w", l.Addr(), err)
	}
	return nil
}
