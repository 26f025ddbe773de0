package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/frontdoor"
	"github.com/inlayhq/inlay/composer/metrics"
	"github.com/inlayhq/inlay/composer/watch"
	"github.com/inlayhq/inlay/fragments"
	"github.com/inlayhq/inlay/fragments/shared"
)

// drainTimeout bounds how long in-flight pages may take to finish once
// shutdown starts.
const drainTimeout = 10 * time.Second

func serveCommand(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "inlay.yaml", "config `file`")
	listen := fs.String("listen", "", "shopper-facing `address` (overrides the config's listen)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logs := newLogWriter(stderr) // a busy server logs a line per page
	defer logs.Close()
	logger := slog.New(slog.NewJSONHandler(logs, nil))
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
// ready, if not nil, receives the listening address once requests are
// accepted. With the layouts on disk, layouts hot-reload, and the config
// reloads on SIGHUP.
func serve(ctx context.Context, cfg *config.Config, layoutFS fs.FS, logger *slog.Logger, ready func(addr string)) error {
	return serveWith(ctx, cfg, serveOptions{layoutFS: layoutFS, logger: logger, ready: ready, reloadConfig: layoutFS == nil})
}

// serveOptions are what serveWith needs beyond the config.
type serveOptions struct {
	layoutFS     fs.FS
	logger       *slog.Logger
	ready        func(addr string)
	reloadConfig bool // reload the config file on SIGHUP
	// adjust, if not nil, changes every config loaded on a reload as the
	// first one was changed (inlay dev's local services, say).
	adjust func(*config.Config) error
}

// live is the running composer, swapped whole when the config reloads,
// and the fetch engine, which lives as long as the process: a reload
// updates it in place, so the cache, its stale copies, the breakers and
// the connection pools of unchanged services survive.
type live struct {
	opts      serveOptions
	metrics   *metrics.Metrics
	tracing   *tracing
	engine    *fragments.Engine
	current   atomic.Pointer[composer.Server]
	config    atomic.Pointer[config.Config] // the config of current
	token     atomic.Pointer[string]        // the admin token of config; "" for none
	mu        sync.Mutex                    // serializes reloads; protects stopWatch
	stopWatch func()
	signIn    liveAuth // the sign-in, kept across reloads that leave it as it is
}

func serveWith(ctx context.Context, cfg *config.Config, opts serveOptions) error {
	logger := opts.logger
	tr, err := newTracing(ctx, cfg.Tracing)
	if err != nil {
		return err
	}
	defer tr.shutdown(logger)
	if err := checkSharedTier(cfg); err != nil {
		return err
	}
	sh := &live{opts: opts, metrics: metrics.New(), tracing: tr}
	token, err := cfg.ReadAdminToken()
	if err != nil {
		return err
	}
	sh.engine = fragments.NewEngine(fragments.EngineOptions{Logger: logger}, composer.EngineSettings(cfg))
	defer sh.engine.Close()
	defer sh.signIn.close()
	srv, err := sh.build(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if sh.stopWatch != nil {
			sh.stopWatch()
		}
		sh.current.Load().Close()
	}()
	sh.install(ctx, srv, cfg, token)

	ln, err := net.Listen("tcp", cfg.ListenAddr())
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	hs := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sh.current.Load().ServeHTTP(w, r)
	}), logger)
	// Dev mode's live-reload streams never end by themselves.
	hs.RegisterOnShutdown(func() { sh.current.Load().CloseStreams() })
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(frontdoor.Listener(ln)) }()

	var admin *http.Server
	if cfg.Admin != "" {
		aln, err := net.Listen("tcp", cfg.Admin)
		if err != nil {
			hs.Close()
			return fmt.Errorf("listening for admin: %w", err)
		}
		admin = &http.Server{Handler: sh.adminHandler(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
		go func() { errc <- admin.Serve(aln) }()
		logger.Info("admin listening", slog.String("addr", "http://"+aln.Addr().String()), slog.Bool("token", token != ""))
		if token == "" && cfg.AdminExposed() {
			logger.Warn("the admin listener is open to the network without a token: whoever reaches it can purge the cache and profile the process",
				slog.String("addr", cfg.Admin),
				slog.String("fix", "set admin_token_file or "+config.AdminTokenEnv+" (at least 16 characters), or bind admin to 127.0.0.1"))
		}
	}
	// The config is watched before anyone is told the server is up, so
	// that no edit made after that is missed.
	hup := make(chan os.Signal, 1)
	if opts.reloadConfig {
		if reloadSignal != nil {
			signal.Notify(hup, reloadSignal)
			defer signal.Stop(hup)
		}
		// A change to the file reloads as SIGHUP does; a reload already
		// due covers it.
		stop, err := watch.File(ctx, cfg.File, "config", func() {
			select {
			case hup <- reloadSignal:
			default:
			}
		}, logger)
		if err != nil {
			msg := "the config will reload on SIGHUP only"
			if reloadSignal == nil {
				msg = "the config will not reload: restart Inlay to apply an edit"
			}
			logger.Warn(msg, slog.String("error", err.Error()))
		} else {
			defer stop()
		}
	}
	sh.current.Load().SetReady(true)
	logger.Info("inlay listening", slog.String("addr", "http://"+ln.Addr().String()))
	if opts.ready != nil {
		opts.ready(ln.Addr().String())
	}

	for {
		select {
		case err := <-errc:
			return fmt.Errorf("serving: %w", err)
		case <-hup:
			sh.reload(ctx, cfg.File)
			continue
		case <-ctx.Done():
		}
		break
	}
	sh.current.Load().SetReady(false)
	if delay := sh.drainDelay(); delay > 0 {
		// Kubernetes' preStop pattern: load balancers see /-/ready fail
		// and stop sending new requests while the listener still accepts
		// them, so that nobody is refused.
		logger.Info("shutting down: /-/ready answers 503 while load balancers stop sending", slog.Float64("drain_delay_ms", float64(delay.Milliseconds())))
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case err := <-errc:
			timer.Stop()
			return fmt.Errorf("serving: %w", err)
		}
	}
	logger.Info("shutting down: draining in-flight requests", slog.Float64("timeout_ms", float64(drainTimeout.Milliseconds())))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if admin != nil {
		defer admin.Close()
	}
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// newHTTPServer returns the shopper-facing http.Server. Every timeout is
// set: Go's zero values mean none, which slow clients would exploit. Pages
// and gateway routes set their own write deadlines per write, and gateway
// routes their own upload deadline, over ReadTimeout and WriteTimeout.
// Serve it on frontdoor.Listener(ln), so that checkFraming sees each raw
// request head.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           frontdoor.CheckFraming(h),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Go's server reads frontdoor.HeadSlack bytes past MaxHeaderBytes before it
		// answers 431: the cap on a whole request head is frontdoor.MaxRequestHead.
		MaxHeaderBytes: frontdoor.MaxRequestHead - frontdoor.HeadSlack,
		ConnContext:    frontdoor.ConnContext,
		ConnState:      frontdoor.ConnState,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// stderrIsTerminal reports whether logs go to a person rather than a collector.
func stderrIsTerminal() bool {
	fi, err := os.Stderr.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// checkSharedTier refuses a shared tier the tier's client refuses once it
// reaches the server (a Redis Cluster, shared.ErrCluster), so that serve
// stops at start, and a reload keeps the running config, rather than
// running without the tier it was given. A server that cannot be reached
// is no error: the replica starts on its in-process tier and connects
// when the server answers.
func checkSharedTier(cfg *config.Config) error {
	sc := cfg.Cache.Shared
	if !sc.Enabled() {
		return nil
	}
	st, err := shared.New(shared.Config{URL: sc.URL, Timeout: sc.CallTimeout(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("cache.shared: %w", err)
	}
	return st.Close()
}
