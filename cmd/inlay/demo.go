package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/teams/demo"
)

// demoCommand runs `inlay demo`.
func demoCommand(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "demo config `file` (default: layouts/inlay.yaml, or the embedded copy)")
	listen := fs.String("listen", "", "shopper-facing `address` (default: the config's listen, 127.0.0.1:8080)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if !stderrIsTerminal() {
		logger = slog.New(slog.NewJSONHandler(stderr, nil))
	}
	err := runDemo(ctx, demoOptions{ConfigPath: *configPath, Listen: *listen, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "inlay demo: %v\n", err)
		return 1
	}
	return 0
}

// demoOptions configure runDemo.
type demoOptions struct {
	// ConfigPath is the demo config. Empty means layouts/inlay.yaml when it
	// exists, else the embedded copy.
	ConfigPath string
	// Listen overrides the config's listen address.
	Listen string
	// Logger receives all logs.
	Logger *slog.Logger
	// Ready, if not nil, is called with Inlay's address once it accepts requests.
	Ready func(addr string)
}

// runDemo starts the three demo team services on free loopback ports and
// Inlay in front of them, until ctx ends.
func runDemo(ctx context.Context, opts demoOptions) error {
	cfg, layoutFS, err := demo.LoadConfig(opts.ConfigPath)
	if err != nil {
		return err
	}
	if opts.Listen != "" {
		cfg.Listen = opts.Listen
	}
	cfg.Dev = true // the demo is for people changing things: show them what breaks
	// The demo signs in with a small OpenID provider of its own.
	publicURL, addr, err := demo.PublicURL(cfg.ListenAddr())
	if err != nil {
		return err
	}
	cfg.Listen = addr
	signIn, err := demo.StartSignIn(publicURL, opts.Logger)
	if err != nil {
		return err
	}
	defer signIn.Stop()
	signIn.Apply(cfg)
	started, stop, err := demo.StartTeams(cfg, opts.Logger)
	if err != nil {
		return err
	}
	defer stop()
	urls := serviceOverrides(started)
	// A config edit reloads it (from disk only), with the teams' URLs and
	// dev mode put back as above.
	adjust := func(cfg *config.Config) error {
		cfg.Dev = true
		cfg.Listen = addr
		signIn.Apply(cfg)
		return urls.apply(cfg)
	}
	return serveWith(ctx, cfg, serveOptions{layoutFS: layoutFS, logger: opts.Logger, ready: opts.Ready, reloadConfig: layoutFS == nil, adjust: adjust})
}
