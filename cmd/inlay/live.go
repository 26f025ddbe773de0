package main

// The running composer: built from the config, swapped whole on reload.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"

	"github.com/inlayhq/inlay/cmd/inlay/admin"
	"github.com/inlayhq/inlay/cmd/inlay/purge"
	"github.com/inlayhq/inlay/composer"
	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
	"github.com/inlayhq/inlay/composer/watch"
	"github.com/inlayhq/inlay/fragments"
)

// build makes a composer for cfg.
func (sh *live) build(ctx context.Context, cfg *config.Config) (*composer.Server, error) {
	a, err := sh.signIn.get(cfg, sh.opts.logger)
	if err != nil {
		return nil, err
	}
	return composer.New(cfg, composer.Options{
		Auth:           a,
		Engine:         sh.engine,
		LayoutFS:       sh.opts.layoutFS,
		Logger:         sh.opts.logger,
		Observer:       sh.metrics,
		TracerProvider: sh.tracing.provider(),
		AccessLog:      cfg.AccessLogEnabled(),
	})
}

// install makes srv the live composer and watches its layouts folder;
// token becomes the admin listener's. The caller holds no lock; install
// takes it.
func (sh *live) install(ctx context.Context, srv *composer.Server, cfg *config.Config, token string) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.stopWatch != nil {
		sh.stopWatch()
		sh.stopWatch = nil
	}
	if sh.opts.layoutFS == nil {
		stop, err := watchLayouts(ctx, cfg.LayoutsDir(), srv.Layouts(), sh.opts.logger)
		if err != nil {
			sh.opts.logger.Warn("layouts will not hot-reload", slog.String("error", err.Error()))
		} else {
			sh.stopWatch = stop
		}
	}
	sh.engine.Configure(composer.EngineSettings(cfg))
	sh.metrics.Attach(srv)
	sh.config.Store(cfg)
	sh.token.Store(&token)
	for _, w := range srv.Layouts().Warnings() {
		sh.opts.logger.Warn("layout warning", slog.String("problem", w.Error()))
	}
	if !cfg.Dev {
		// Dev mode runs on a laptop, where any Host is the developer's.
		for _, w := range cfg.Warnings() {
			sh.opts.logger.Warn("config warning", slog.String("problem", w.Error()))
		}
	}
	old := sh.current.Swap(srv)
	if old != nil {
		srv.SetReady(true)
		old.Close()
	}
	sh.signIn.retire()
}

// drainDelay is how long /-/ready answers 503 before the listener closes:
// the config's drain_delay, and none in dev mode, where no load balancer
// waits and a developer's Ctrl-C should stop at once.
func (sh *live) drainDelay() time.Duration {
	cfg := sh.config.Load()
	if cfg == nil || cfg.Dev {
		return 0
	}
	return cfg.Drain()
}

// reload reads the config file again and swaps in a new composer. Any
// problem keeps the running one, which is what serves meanwhile anyway.
// Listen and admin addresses and tracing need a restart to change.
func (sh *live) reload(ctx context.Context, path string) {
	logger := sh.opts.logger
	cfg, err := config.Load(path)
	if err == nil && sh.opts.adjust != nil {
		err = sh.opts.adjust(cfg)
	}
	if err == nil && cfg.Cache.Shared != sh.config.Load().Cache.Shared {
		err = checkSharedTier(cfg)
	}
	var token string
	if err == nil {
		token, err = cfg.ReadAdminToken()
	}
	if err == nil {
		var srv *composer.Server
		if srv, err = sh.build(ctx, cfg); err == nil {
			sh.install(ctx, srv, cfg, token)
			logger.Info("config reloaded", slog.String("file", path))
			return
		}
	}
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			logger.Error("config rejected, the running one is kept", slog.String("problem", p.Error()))
		}
		sh.current.Load().SetConfigProblems(ps) // dev mode's overlay
		return
	}
	logger.Error("config rejected, the running one is kept", slog.String("error", err.Error()))
	sh.current.Load().SetConfigProblems(config.Problems{{File: path, Message: err.Error()}})
}

// adminHandler serves /metrics, pprof, health and purge on the admin
// listener, never on the shopper port. No browser is answered, and with an
// admin token every route asks for it but /metrics (Prometheus scrapers
// send none; the NetworkPolicy keeps the port to monitoring) and
// /-/health.
func (sh *live) adminHandler() http.Handler {
	return admin.Guard(sh.adminRoutes(), func() string { return *sh.token.Load() }, "/metrics", "/-/health")
}

// adminRoutes are the admin listener's routes, unguarded.
func (sh *live) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", sh.metrics.Handler())
	mux.Handle("POST /-/purge", purge.Handler(sh.engine))
	mux.HandleFunc("POST /-/canary", canaryHandler(sh.engine))
	mux.HandleFunc("GET /-/health", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// watchLayouts reloads layouts whenever the layouts folder dir changes
// (package watch tells when). Problems are logged as FILE:LINE:COL
// messages; the last good layouts keep serving. The returned function
// stops the watch.
func watchLayouts(ctx context.Context, dir string, layouts *layout.Folder, logger *slog.Logger) (func(), error) {
	return watch.Folder(ctx, dir, func() {
		problems := layouts.Reload()
		for _, p := range problems {
			logger.Error("layout rejected, last good version kept", slog.String("problem", p.Error()))
		}
		if len(problems) == 0 {
			logger.Info("layouts reloaded", slog.Int("layouts", len(layouts.Names())))
		}
		for _, w := range layouts.Warnings() {
			logger.Warn("layout warning", slog.String("problem", w.Error()))
		}
	}, watch.Options{Name: "layouts", Tree: true, Match: layout.IsLayoutFile, Logger: logger})
}

// canaryHandler sets the weight of a service's canary:
// POST /-/canary?service=basket&weight=N, 0 to 100. It brings back a
// canary that was rolled back, or takes one out, until the next config
// reload sets the configured weight again.
func canaryHandler(e *fragments.Engine) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		service := r.URL.Query().Get("service")
		weight, err := strconv.Atoi(r.URL.Query().Get("weight"))
		if service == "" || err != nil {
			http.Error(w, "canary: want ?service=NAME&weight=0..100", http.StatusBadRequest)
			return
		}
		if err := e.SetCanaryWeight(service, weight); err != nil {
			http.Error(w, "canary: "+err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "canary of %s at weight %d\n", service, weight)
	}
}
