package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server timeouts.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 90 * time.Second
	shutdownTimeout   = 10 * time.Second
	maxHeaderBytes    = 64 << 10
)

// service is one team to run.
type service struct {
	name string
	addr string // listen address
	// handler builds the service's handler once every service listens;
	// addrs maps each service name to the address it is bound to.
	handler func(logger *slog.Logger, addrs map[string]string) http.Handler
}

// serve binds every service, then serves them until ctx is done or one
// fails, and shuts them all down gracefully. It returns nil after a clean
// shutdown.
func serve(ctx context.Context, logger *slog.Logger, svcs []service, ready readyFunc) error {
	listeners := make([]net.Listener, 0, len(svcs))
	closeAll := func() {
		for _, ln := range listeners {
			_ = ln.Close()
		}
	}
	addrs := make(map[string]string, len(svcs))
	for _, s := range svcs {
		if err := hostPort(s.addr); err != nil {
			closeAll()
			return fmt.Errorf("%s: listen address %q: %w", s.name, s.addr, err)
		}
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", s.addr)
		if err != nil {
			closeAll()
			return fmt.Errorf("%s: %w", s.name, err)
		}
		listeners = append(listeners, ln)
		addrs[s.name] = ln.Addr().String()
	}

	// The teams speak HTTP/1.1 and h2c (HTTP/2 without TLS, prior
	// knowledge), as a service with h2c: true in Inlay's config needs.
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	servers := make([]*http.Server, len(svcs))
	errc := make(chan error, len(svcs))
	for i, s := range svcs {
		log := logger.With(slog.String("team", s.name))
		srv := &http.Server{
			Handler:           s.handler(log, addrs),
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
			Protocols:         protocols,
		}
		servers[i] = srv
		log.Info("listening", slog.String("addr", "http://"+addrs[s.name]))
		go func(ln net.Listener, name string) {
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("%s: %w", name, err)
				return
			}
			errc <- nil
		}(listeners[i], s.name)
	}
	if ready != nil {
		ready(addrs)
	}

	var failed error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case failed = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	var errs []error
	if failed != nil {
		errs = append(errs, failed)
	}
	for i, srv := range servers {
		if err := srv.Shutdown(shutCtx); err != nil {
			errs = append(errs, fmt.Errorf("%s: shutdown: %w", svcs[i].name, err))
		}
	}
	return errors.Join(errs...)
}
