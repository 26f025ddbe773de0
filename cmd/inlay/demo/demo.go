package demo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/layouts"
	"github.com/inlayhq/inlay/teams/basket"
	"github.com/inlayhq/inlay/teams/identity"
	"github.com/inlayhq/inlay/teams/search"
	"github.com/inlayhq/inlay/teams/shell"
)

// ConfigPath is where the demo config lives in a checkout. When it is
// there, the demo serves the layouts from disk and reloads them on change;
// elsewhere it uses the copies embedded in the binary.
var ConfigPath = filepath.Join("layouts", layouts.ConfigFile)

// LoadConfig reads the demo config from path, from ConfigPath, or from the
// embedded copy. The returned FS is nil when the layouts are on disk (and
// so are watched), or the embedded layouts.
func LoadConfig(path string) (*config.Config, fs.FS, error) {
	if path == "" {
		if _, err := os.Stat(ConfigPath); err == nil {
			path = ConfigPath
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

// StartTeams starts the three demo team services, each at the loopback
// address cfg names for it or else on a free loopback port, points cfg's
// services at them and logs their URLs. A team named in down is not
// started: its service points at a loopback address where nothing listens,
// as when a team's service is down, so that its boxes show their
// fallbacks and stale copies. With sign-in, the shell and the basket
// verify X-Inlay-Identity against the shop's key set. It returns each
// team's base URL by service name and a function that stops them all, the
// last started first.
func StartTeams(cfg *config.Config, logger *slog.Logger, down ...string) (map[string]string, func(), error) {
	for _, name := range down {
		if !slices.Contains(demoTeams, name) {
			return nil, nil, fmt.Errorf("no demo team %q to keep down (the teams: %s)", name, strings.Join(demoTeams, ", "))
		}
	}
	var stops []func()
	verifier := func(string) *identity.Verifier { return nil }
	if cfg.Auth != nil && cfg.PublicURL != "" {
		verifier = func(aud string) *identity.Verifier {
			id := identity.New(cfg.PublicURL, cfg.PublicURL+"/-/auth/jwks.json", aud)
			stops = append(stops, id.Close)
			return id
		}
	}
	teams := []struct {
		name string
		new  func(searchURL string) http.Handler
	}{
		{"search", func(string) http.Handler { return search.New(search.Config{Logger: logger}) }},
		{"shell", func(string) http.Handler { return shell.New(shell.Config{Logger: logger, Identity: verifier("shell")}) }},
		{"basket", func(searchURL string) http.Handler {
			return basket.New(basket.Config{CatalogURL: searchURL, Logger: logger, Identity: verifier("basket")})
		}},
	}
	stopAll := func() {
		for _, stop := range slices.Backward(stops) {
			stop()
		}
	}
	urls := map[string]string{}
	for _, team := range teams {
		isDown := slices.Contains(down, team.name)
		var u string
		var err error
		if isDown {
			u, err = deadURL()
		} else {
			var stop func()
			u, stop, err = StartTeamAt(preferredAddr(cfg, team.name), team.new(urls["search"]))
			if err == nil {
				stops = append(stops, stop)
			}
		}
		if err == nil {
			err = cfg.SetServiceURL(team.name, u)
		}
		if err != nil {
			stopAll()
			return nil, nil, fmt.Errorf("demo team %s: %w", team.name, err)
		}
		urls[team.name] = u
		// Printed at start, so that a team developer can reach a team
		// directly (inlay check-fragment URL, say).
		if isDown {
			logger.Warn("demo team kept down: its boxes show their fallbacks", slog.String("team", team.name), slog.String("url", u))
		} else {
			logger.Info("demo team listening", slog.String("team", team.name), slog.String("url", u))
		}
	}
	return urls, stopAll, nil
}

// demoTeams names the demo's teams, in the order StartTeams starts them.
var demoTeams = []string{"search", "shell", "basket"}

// deadURL is the base URL of a loopback port where nothing listens: one
// the system just handed out and that was closed again, so a connection
// to it is refused.
func deadURL() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port for a stopped team: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("finding a free port for a stopped team: %w", err)
	}
	return "http://" + addr, nil
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

// StartTeam serves a team on a free loopback port and returns its base URL
// and a function that stops it.
func StartTeam(h http.Handler) (string, func(), error) { return StartTeamAt("", h) }

// StartTeamAt serves a team on addr, or on a free loopback port when addr
// is empty or taken, and returns its base URL and a function that stops it.
func StartTeamAt(addr string, h http.Handler) (string, func(), error) {
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
