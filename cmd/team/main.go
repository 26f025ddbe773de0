// Command team runs the example team services of Inlay, each on its own
// address, so that the composer has real services to fetch fragments from:
//
//	team shell  [--listen 127.0.0.1:9101]
//	team search [--listen 127.0.0.1:9102]
//	team basket [--listen 127.0.0.1:9103] [--catalog http://127.0.0.1:9102]
//	team all    [--shell ADDR] [--search ADDR] [--basket ADDR]
//
// "all" starts the three services, the basket pointing at the search one.
// Logs go to standard error; SIGINT or SIGTERM shut the servers down
// gracefully.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stderr, nil)
	stop()
	os.Exit(code)
}
