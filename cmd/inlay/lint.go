package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/inlayhq/inlay/composer/config"
)

func lintCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "inlay.yaml", "config `file` to check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	problems, err := lint(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "inlay lint: %v\n", err)
		return 1
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p.Error())
	}
	if len(problems) > 0 {
		return 1
	}
	return 0
}

// lint checks a config file and every layout it points at, returning all
// problems found. The error is for failures that stop the check itself.
func lint(configPath string) (config.Problems, error) {
	cfg, err := config.Load(configPath)
	var ps config.Problems
	if errors.As(err, &ps) {
		return ps, nil
	}
	if err != nil {
		return nil, err
	}
	return checkLayouts(cfg, os.DirFS(cfg.LayoutsDir())), nil
}
