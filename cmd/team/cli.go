package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"github.com/inlayhq/inlay/teams/basket"
	"github.com/inlayhq/inlay/teams/search"
	"github.com/inlayhq/inlay/teams/shell"
)

// Default listen addresses of the teams.
const (
	defaultShellAddr  = "127.0.0.1:9101"
	defaultSearchAddr = "127.0.0.1:9102"
	defaultBasketAddr = "127.0.0.1:9103"
)

const usage = `usage: team <command> [flags]

Runs the example team services of Inlay.

commands:
  shell   [--listen ADDR]                  the site frame (default ` + defaultShellAddr + `)
  search  [--listen ADDR]                  catalogue and search (default ` + defaultSearchAddr + `)
  basket  [--listen ADDR] [--catalog URL]  the basket (default ` + defaultBasketAddr + `,
                                           catalogue http://` + defaultSearchAddr + `; "" for none)
  all     [--shell ADDR] [--search ADDR] [--basket ADDR]
                                           all three, the basket using the search service

Run "team <command> -h" for the flags of a command.
`

// readyFunc is told the address each service listens on, once all do.
type readyFunc func(addrs map[string]string)

// run executes the command line args (without the program name) until ctx
// is done and returns the exit code: 0 on success or help, 1 when a
// service fails, 2 on a usage error.
func run(ctx context.Context, args []string, stderr io.Writer, ready readyFunc) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var (
		svcs []service
		err  error
	)
	switch cmd, rest := args[0], args[1:]; cmd {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, usage)
		return 0
	case "shell", "search":
		svcs, err = parseSingle(cmd, rest, stderr)
	case "basket":
		svcs, err = parseBasket(rest, stderr)
	case "all":
		svcs, err = parseAll(rest, stderr)
	default:
		fmt.Fprintf(stderr, "team: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	}
	if err := serve(ctx, logger, svcs, ready); err != nil {
		logger.Error("team failed", slog.Any("err", err))
		return 1
	}
	return 0
}

// newFlagSet returns a flag set for a command that reports errors and its
// usage to stderr.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("team "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: team %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses args with fs and refuses positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintf(fs.Output(), "%s: %v\n", fs.Name(), err)
		fs.Usage()
		return err
	}
	return nil
}

func parseSingle(name string, args []string, stderr io.Writer) ([]service, error) {
	def := map[string]string{"shell": defaultShellAddr, "search": defaultSearchAddr}[name]
	fs := newFlagSet(name, "[--listen ADDR]", stderr)
	listen := fs.String("listen", def, "`address` to listen on")
	if err := parseArgs(fs, args); err != nil {
		return nil, err
	}
	svc := service{name: name, addr: *listen}
	if name == "shell" {
		svc.handler = func(logger *slog.Logger, _ map[string]string) http.Handler {
			return shell.New(shell.Config{Logger: logger})
		}
	} else {
		svc.handler = func(logger *slog.Logger, _ map[string]string) http.Handler {
			return search.New(search.Config{Logger: logger})
		}
	}
	return []service{svc}, nil
}

func parseBasket(args []string, stderr io.Writer) ([]service, error) {
	fs := newFlagSet("basket", "[--listen ADDR] [--catalog URL]", stderr)
	listen := fs.String("listen", defaultBasketAddr, "`address` to listen on")
	catalog := fs.String("catalog", "http://"+defaultSearchAddr, "base `URL` of the search service; empty accepts any well-formed SKU, unpriced")
	if err := parseArgs(fs, args); err != nil {
		return nil, err
	}
	if err := checkBaseURL(*catalog); err != nil {
		fmt.Fprintf(stderr, "team basket: --catalog: %v\n", err)
		return nil, err
	}
	return []service{{
		name: "basket",
		addr: *listen,
		handler: func(logger *slog.Logger, _ map[string]string) http.Handler {
			return basket.New(basket.Config{CatalogURL: *catalog, Logger: logger})
		},
	}}, nil
}

func parseAll(args []string, stderr io.Writer) ([]service, error) {
	fs := newFlagSet("all", "[--shell ADDR] [--search ADDR] [--basket ADDR]", stderr)
	shellAddr := fs.String("shell", defaultShellAddr, "`address` of the shell service")
	searchAddr := fs.String("search", defaultSearchAddr, "`address` of the search service")
	basketAddr := fs.String("basket", defaultBasketAddr, "`address` of the basket service")
	if err := parseArgs(fs, args); err != nil {
		return nil, err
	}
	return []service{
		{name: "shell", addr: *shellAddr, handler: func(logger *slog.Logger, _ map[string]string) http.Handler {
			return shell.New(shell.Config{Logger: logger})
		}},
		{name: "search", addr: *searchAddr, handler: func(logger *slog.Logger, _ map[string]string) http.Handler {
			return search.New(search.Config{Logger: logger})
		}},
		{name: "basket", addr: *basketAddr, handler: func(logger *slog.Logger, addrs map[string]string) http.Handler {
			// The address actually bound, which differs from the flag for port 0.
			return basket.New(basket.Config{CatalogURL: "http://" + addrs["search"], Logger: logger})
		}},
	}, nil
}

// checkBaseURL accepts "" or an absolute http(s) URL with a host.
func checkBaseURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL with a host", s)
	}
	return nil
}

// hostPort reports whether addr is a valid listen address.
func hostPort(addr string) error {
	_, _, err := net.SplitHostPort(addr)
	return err
}
