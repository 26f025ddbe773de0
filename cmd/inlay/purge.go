package main

// The purge command: its flags and output. The purge is package purge's.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/inlayhq/inlay/cmd/inlay/purge"
	"github.com/inlayhq/inlay/composer/config"
)

// purgeCommand runs inlay purge: its flags and output. Package purge
// purges, through the shared tier or the replica's admin listener.
func purgeCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "inlay.yaml", "config `file`")
	var tags []string
	fs.Func("tag", "drop every cached fragment whose Surrogate-Key lists `NAME` (repeatable)", func(s string) error {
		tags = append(tags, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(tags) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "inlay purge: usage: inlay purge --config FILE --tag NAME [--tag NAME...]")
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "inlay purge: %v\n", err)
		return 1
	}
	n, err := purge.Tags(ctx, cfg, tags...)
	if err != nil {
		fmt.Fprintf(stderr, "inlay purge: %v\n", err)
		return 1
	}
	json.NewEncoder(stdout).Encode(purge.Result{Purged: n})
	return 0
}
