package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/inlayhq/inlay/cmd/inlay/demo"
	"github.com/inlayhq/inlay/composer/config"
)

// demoCommand runs `inlay demo`.
func demoCommand(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "demo config `file` (default: layouts/inlay.yaml, or the embedded copy)")
	listen := fs.String("listen", "", "shopper-facing `address` (default: the config's listen, 127.0.0.1:8080)")
	teamLogs := fs.Bool("team-logs", false, "log every request the demo teams serve (default: only their errors)")
	var down []string
	fs.Func("down", "start with demo team `NAME` stopped, to see its boxes' fallbacks and stale copies (repeatable, or comma-separated)", func(v string) error {
		down = append(down, strings.Split(v, ",")...)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	newLogger := func(level slog.Level) *slog.Logger {
		opts := &slog.HandlerOptions{Level: level}
		if !stderrIsTerminal() {
			return slog.New(slog.NewJSONHandler(stderr, opts))
		}
		return slog.New(slog.NewTextHandler(stderr, opts))
	}
	teamLevel := slog.LevelWarn
	if *teamLogs {
		teamLevel = slog.LevelInfo
	}
	opts := demoOptions{ConfigPath: *configPath, Listen: *listen, Down: down, Logger: newLogger(slog.LevelInfo), TeamLogger: newLogger(teamLevel)}
	opts.Ready = func(string) { printBanner(stderr, opts.shopURL, opts.teamURLs, down) }
	if err := runDemo(ctx, &opts); err != nil {
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
	// Down names demo teams that are not started, as if their services
	// were down.
	Down []string
	// Logger receives Inlay's logs.
	Logger *slog.Logger
	// TeamLogger receives the demo teams' logs. Nil means Logger.
	TeamLogger *slog.Logger
	// Ready, if not nil, is called with Inlay's address once it accepts requests.
	Ready func(addr string)

	// shopURL is the shop's public URL and teamURLs each started team's
	// base URL by name, both set by runDemo before Ready is called.
	shopURL  string
	teamURLs map[string]string
}

// runDemo starts the three demo team services on free loopback ports and
// Inlay in front of them, until ctx ends.
func runDemo(ctx context.Context, opts *demoOptions) error {
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
	opts.shopURL = publicURL
	signIn, err := demo.StartSignIn(publicURL, opts.Logger)
	if err != nil {
		return err
	}
	defer signIn.Stop()
	signIn.Apply(cfg)
	teamLogger := opts.TeamLogger
	if teamLogger == nil {
		teamLogger = opts.Logger
	}
	started, stop, err := demo.StartTeams(cfg, teamLogger, opts.Down...)
	if err != nil {
		return err
	}
	defer stop()
	opts.teamURLs = started
	urls := serviceOverrides(started)
	// A config edit reloads it (from disk only), with the teams' URLs and
	// dev mode put back as above.
	adjust := func(cfg *config.Config) error {
		cfg.Dev = true
		cfg.Listen = addr
		signIn.Apply(cfg)
		return urls.apply(cfg, false)
	}
	err = serveWith(ctx, cfg, serveOptions{layoutFS: layoutFS, logger: opts.Logger, ready: opts.Ready, reloadConfig: layoutFS == nil, adjust: adjust})
	if addrInUse(err) {
		return fmt.Errorf("%w\n  another program is using %s: stop it, or pick another address with `make run LISTEN=127.0.0.1:8081` (inlay demo --listen 127.0.0.1:8081)", err, cfg.ListenAddr())
	}
	return err
}

// printBanner tells the person who ran the demo where the shop is (its
// public URL, shop) and what to try, once it accepts requests: the last
// thing printed at start.
func printBanner(w io.Writer, shop string, teams map[string]string, down []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n  Inlay demo shop: %s\n\n", shop)
	fmt.Fprintf(&b, "  Try:\n")
	for _, try := range [][2]string{
		{shop + "/", "the home page, composed from three teams"},
		{shop + "/search?q=sneaker", "a search page"},
		{shop + "/product/nope", "the branded error page"},
		{shop + "/?inlay-debug=1", "the debug view: every box with its team, cache and time"},
		{"edit layouts/*.html", "the open page reloads itself"},
	} {
		fmt.Fprintf(&b, "    %-*s  %s\n", len(shop)+18, try[0], try[1])
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  Sign in (%s/account) as:\n", shop)
	for _, s := range demo.Shoppers {
		fmt.Fprintf(&b, "    %-8s password %-10s %s\n", s.Username, s.Password, s.Name)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  Teams:\n")
	for _, name := range slices.Sorted(maps.Keys(teams)) {
		state := ""
		if slices.Contains(down, name) {
			state = "  (kept down: its boxes show their fallbacks)"
		}
		fmt.Fprintf(&b, "    %-8s %s%s\n", name, teams[name], state)
	}
	fmt.Fprintf(&b, "\n  Their request logs are quiet: inlay demo --team-logs shows them. Ctrl-C stops the shop.\n\n")
	io.WriteString(w, b.String())
}
