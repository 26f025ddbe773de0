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
	"path/filepath"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/layouts"
	"github.com/inlayhq/inlay/teams/basket"
	"github.com/inlayhq/inlay/teams/search"
	"github.com/inlayhq/inlay/teams/shell"
)

// demoConfigPath is where the demo config lives in a checkout. When it is
// there, the demo serves the layouts from disk and reloads them on change;
// elsewhere it uses the copies embedded in the binary.
var demoConfigPath = filepath.Join("layouts", layouts.ConfigFile)

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
	cfg, layoutFS, err := loadDemoConfig(opts.ConfigPath)
	if err != nil {
		return err
	}
	if opts.Listen != "" {
		cfg.Listen = opts.Listen
	}
	cfg.Dev = true // the demo is for people changing things: show them what breaks
	teams := []struct {
		name string
		new  func(searchURL string) http.Handler
	}{
		{"search", func(string) http.Handler { return search.New(search.Config{Logger: opts.Logger}) }},
		{"shell", func(string) http.Handler { return shell.New(shell.Config{Logger: opts.Logger}) }},
		{"basket", func(searchURL string) http.Handler {
			return basket.New(basket.Config{CatalogURL: searchURL, Logger: opts.Logger})
		}},
	}
	var searchURL string
	urls := serviceOverrides{}
	for _, team := range teams {
		u, stop, err := startTeamAt(preferredAddr(cfg, team.name), team.new(searchURL))
		if err != nil {
			return err
		}
		defer stop()
		if team.name == "search" {
			searchURL = u
		}
		urls[team.name] = u
		if err := cfg.SetServiceURL(team.name, u); err != nil {
			return fmt.Errorf("demo config: %w", err)
		}
		// Printed at start, so that a team developer can reach a team
		// directly (inlay check-fragment URL, say).
		opts.Logger.Info("demo team listening", slog.String("team", team.name), slog.String("url", u))
	}
	// A config edit reloads it (from disk only), with the teams' URLs and
	// dev mode put back as above.
	adjust := func(cfg *config.Config) error {
		cfg.Dev = true
		if opts.Listen != "" {
			cfg.Listen = opts.Listen
		}
		return urls.apply(cfg)
	}
	return serveWith(ctx, cfg, serveOptions{layoutFS: layoutFS, logger: opts.Logger, ready: opts.Ready, reloadConfig: layoutFS == nil, adjust: adjust})
}

// loadDemoConfig reads the demo config from path, from layouts/inlay.yaml,
// or from the embedded copy. The returned FS is nil when the layouts are on
// disk (and so are watched), or the embedded layouts.
func loadDemoConfig(path string) (*config.Config, fs.FS, error) {
	if path == "" {
		if _, err := os.Stat(demoConfigPath); err == nil {
			path = demoConfigPath
		}
	}
	if path != "" {
		cfg, err := config.Load(path)
		return cfg, nil, err
	}
	data, err := fs.ReadFile(layouts.FS, layouts.ConfigFile)
	if err != nil {
		return nil, nil, fmt.Errorf("reading embedded demo config: %w", err)
	}
	cfg, err := config.Parse("(embedded)/"+layouts.ConfigFile, data)
	return cfg, layouts.FS, err
}

// preferredAddr is the loopback address the config names for a demo
// team (127.0.0.1:9102 for search in layouts/inlay.yaml), so that the
// demo's teams are where the README says; "" when it names none.
func preferredAddr(cfg *config.Config, name string) string {
	svc := cfg.Services[name]
	if svc == nil || svc.BaseURL == nil || svc.BaseURL.Hostname() != "127.0.0.1" || svc.BaseURL.Port() == "" {
		return ""
	}
	return svc.BaseURL.Host
}

// startTeam serves a team on a free loopback port and returns its base URL
// and a function that stops it.
func startTeam(h http.Handler) (string, func(), error) { return startTeamAt("", h) }

// startTeamAt serves a team on addr, or on a free loopback port when addr
// is empty or taken, and returns its base URL and a function that stops it.
func startTeamAt(addr string, h http.Handler) (string, func(), error) {
	var ln net.Listener
	err := errors.New("no address")
	if addr != "" {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return "", nil, fmt.Errorf("starting a demo team: %w", err)
	}
	// HTTP/1.1 and h2c (HTTP/2 without TLS, prior knowledge), as a
	// service with h2c: true in the config needs.
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, Protocols: protocols}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("demo team stopped", slog.String("error", err.Error()))
		}
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}
	return "http://" + ln.Addr().String(), stop, nil
}
