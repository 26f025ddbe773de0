// Command inlay is the Inlay composition server.
//
// Usage:
//
//	inlay serve --config inlay.yaml   serve the shop described by a config file
//	inlay lint  --config inlay.yaml   check a config and its layouts, print FILE:LINE:COL problems
//	inlay demo [--down TEAM]          run the demo shop with its three team services in-process
//	inlay dev --config inlay.yaml --service search=http://127.0.0.1:3000
//	                                  dev mode, with your local service in the whole shop
//	inlay purge --config inlay.yaml --tag NAME
//	                                  drop every cached fragment tagged NAME, on every replica
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Inlay composes pages from fragments served by team services.

Usage:
  inlay serve --config FILE   serve the shop described by a config file
  inlay lint --config FILE    check a config and its layouts; exit 1 on errors (--strict: warnings too)
  inlay demo [--listen ADDR] [--down TEAM]
                              run the demo shop with its team services in-process
                              (--down: with that team stopped, to see its fallbacks)
  inlay dev --config FILE --service NAME=URL
                              dev mode (live reload, overlay, debug view), with
                              service NAME served from your local URL
  inlay check-fragment URL    fetch a fragment as Inlay would and report contract problems; exit 1 on errors
  inlay purge --config FILE --tag NAME
                              drop every cached fragment tagged NAME (Surrogate-Key), on every replica

Run 'inlay COMMAND -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveCommand(ctx, args[1:], stderr)
	case "lint":
		return lintCommand(args[1:], stdout, stderr)
	case "demo":
		return demoCommand(ctx, args[1:], stderr)
	case "dev":
		return devCommand(ctx, args[1:], stderr)
	case "check-fragment":
		return checkFragmentCommand(ctx, args[1:], stdout, stderr)
	case "purge":
		return purgeCommand(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "inlay: unknown command %q\n\n%s", args[0], usage)
	return 2
}
