package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer/config"
)

// serviceOverrides are the --service name=URL flags of `inlay dev`: the
// services a developer runs locally.
type serviceOverrides map[string]string

// String lists the overrides, for flag's help output.
func (o serviceOverrides) String() string {
	var parts []string
	for name, u := range o {
		parts = append(parts, name+"="+u)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// Set reads one name=URL flag.
func (o serviceOverrides) Set(v string) error {
	name, u, ok := strings.Cut(v, "=")
	if !ok || name == "" || u == "" {
		return fmt.Errorf("want NAME=URL, like search=http://127.0.0.1:3000, got %q", v)
	}
	if _, dup := o[name]; dup {
		return fmt.Errorf("service %q is given twice", name)
	}
	if !strings.Contains(u, "://") {
		u = "http://" + u // search=127.0.0.1:3000, as developers type it
	}
	o[name] = u
	return nil
}

// probeTimeout bounds the start-up check of a --service URL.
const probeTimeout = 2 * time.Second

// probe warns about every local service that does not answer HTTP at its
// URL, so that a developer who forgot to start theirs, or typed the wrong
// port, hears it at start rather than from a page of fallbacks. Any HTTP
// answer, whatever its status, counts as answering.
func (o serviceOverrides) probe(ctx context.Context, logger *slog.Logger) {
	client := &http.Client{Timeout: probeTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, name := range slices.Sorted(maps.Keys(o)) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, o[name], nil)
		if err != nil {
			continue // apply has already refused it
		}
		resp, err := client.Do(req)
		if err != nil {
			logger.Warn("nothing answers at your local service's URL: start it there, or fix --service; until then its boxes show their fallbacks",
				slog.String("service", name), slog.String("url", o[name]), slog.String("error", err.Error()))
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
}

// apply points the named services of cfg at their URLs. With local, they
// are marked as served from the developer's machine (config.Service.Local).
func (o serviceOverrides) apply(cfg *config.Config, local bool) error {
	for name, u := range o {
		if _, ok := cfg.Services[name]; !ok {
			return fmt.Errorf("--service %s: the config has no service %q (it has: %s)", name, name, config.ServiceList(cfg.Services))
		}
		if err := cfg.SetServiceURL(name, u); err != nil {
			return fmt.Errorf("--service %s: %w", name, err)
		}
		cfg.Services[name].Local = local
	}
	return nil
}

func devCommand(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "inlay.yaml", "config `file` of the shop (a staging shop, or the demo's layouts/inlay.yaml)")
	listen := fs.String("listen", "", "shopper-facing `address` (overrides the config's listen)")
	overrides := serviceOverrides{}
	fs.Var(overrides, "service", "`NAME=URL`: serve service NAME from your local URL instead of the config's (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "inlay dev: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if err := runDev(ctx, devOptions{ConfigPath: *configPath, Listen: *listen, Services: overrides, Logger: logger}); err != nil {
		fmt.Fprintf(stderr, "inlay dev: %v\n", err)
		return 1
	}
	return 0
}

// devOptions configure runDev.
type devOptions struct {
	ConfigPath string
	Listen     string
	// Services maps the services the developer runs locally to their URLs.
	Services serviceOverrides
	Logger   *slog.Logger
	// Ready, if not nil, is called with Inlay's address once it accepts requests.
	Ready func(addr string)
}

// runDev serves the shop of a config in dev mode, with some services
// pointed at a developer's local ones and every other at the config's
// URLs. Layouts and the config reload on change, keeping the overrides.
func runDev(ctx context.Context, opts devOptions) error {
	cfg, err := config.Load(opts.ConfigPath)
	if err != nil {
		return err
	}
	adjust := func(cfg *config.Config) error {
		cfg.Dev = true
		if opts.Listen != "" {
			cfg.Listen = opts.Listen
		}
		return opts.Services.apply(cfg, true)
	}
	if err := adjust(cfg); err != nil {
		return err
	}
	opts.Services.probe(ctx, opts.Logger)
	names := make([]string, 0, len(cfg.Services))
	for name := range cfg.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		where := "from the config"
		if _, local := opts.Services[name]; local {
			where = "local"
		}
		opts.Logger.Info("service", slog.String("name", name), slog.String("url", cfg.Services[name].URL), slog.String("source", where))
	}
	return serveWith(ctx, cfg, serveOptions{logger: opts.Logger, ready: opts.Ready, reloadConfig: true, adjust: adjust})
}
