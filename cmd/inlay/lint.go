package main

// The lint command: its flags and output. The rules are package lint's.

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/lint"
)

// lintCommand runs `inlay lint`.
func lintCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "inlay.yaml", "config `file` to check")
	format := fs.String("format", "text", "output `format`: text (FILE:LINE:COL: message lines) or json")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "inlay lint: unknown format %q: use text or json\n", *format)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "inlay lint: unexpected argument %q: the config is given with --config\n", fs.Arg(0))
		return 2
	}
	problems, summary, err := lint.Check(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "inlay lint: %v\n", err)
		if *format == "json" {
			// Editors and CI read stdout: give them the failure too.
			problems = []config.Problem{{File: *configPath, Severity: config.SeverityError, Message: err.Error()}}
			_ = writeJSON(stdout, lint.NewReport(problems))
		}
		return 1
	}
	if *format == "json" {
		if err := writeJSON(stdout, lint.NewReport(problems)); err != nil {
			fmt.Fprintf(stderr, "inlay lint: %v\n", err)
			return 1
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(stdout, p)
		}
	}
	errs, warns := lint.Count(problems)
	if errs+warns > 0 {
		fmt.Fprintf(stderr, "inlay lint: %s: %s\n", summary, lint.Tally(errs, warns))
	} else {
		fmt.Fprintf(stderr, "inlay lint: %s: no problems\n", summary)
	}
	if errs > 0 || *strict && warns > 0 {
		return 1
	}
	return 0
}

// writeJSON writes v as indented JSON, leaving <, > and & as they are:
// messages quote markup.
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
