package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
)

func serveCommand(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "inlay.yaml", "config `file`")
	listen := fs.String("listen", "", "shopper-facing `address` (overrides the config's listen)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "inlay serve: %v\n", err)
		return 1
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if err := serve(ctx, cfg, nil, logger, nil); err != nil {
		fmt.Fprintf(stderr, "inlay serve: %v\n", err)
		return 1
	}
	return 0
}

// serve runs Inlay for cfg until ctx ends, then shuts down gracefully.
// layoutFS overrides the layouts folder when not nil (the embedded demo).
// ready, if not nil, receives the listening address once requests are accepted.
func serve(ctx context.Context, cfg *config.Config, layoutFS fs.FS, logger *slog.Logger, ready func(addr string)) error {
	srv, err := composer.New(cfg, composer.Options{LayoutFS: layoutFS, Logger: logger})
	if err != nil {
		return err
	}
	defer srv.Close()
	if layoutFS == nil {
		stopWatch, err := watchLayouts(ctx, cfg.LayoutsDir(), srv.Layouts(), logger)
		if err != nil {
			logger.Warn("layouts will not hot-reload", slog.String("error", err.Error()))
		} else {
			defer stopWatch()
		}
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	hs := newHTTPServer(srv, logger)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("inlay listening", slog.String("addr", "http://"+ln.Addr().String()))
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHTTPServer returns the shopper-facing http.Server. Every timeout is
// set: Go's zero values mean none, which slow clients would exploit.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// stderrIsTerminal reports whether logs go to a person rather than a collector.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
