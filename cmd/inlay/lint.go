package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/inlayhq/inlay/composer/config"
)

// Severities of lint and check problems.
const (
	severityError   = "error"
	severityWarning = "warning"
)

// slowFragmentTimeout is the effective timeout from which a non-primary
// fragment without a timeout attribute gets a warning: the service default.
const slowFragmentTimeout = config.DefaultServiceTimeout

// lintProblem is one line of `inlay lint` output.
type lintProblem struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// String formats the problem as FILE:LINE:COL: message, with "warning: "
// before the message of a warning.
func (p lintProblem) String() string {
	msg := p.Message
	if p.Severity == severityWarning {
		msg = "warning: " + msg
	}
	return (&config.Problem{File: p.File, Line: p.Line, Col: p.Col, Message: msg}).Error()
}

// lintReport is the output of `inlay lint --format json`.
type lintReport struct {
	Problems []lintProblem `json:"problems"`
	Errors   int           `json:"errors"`
	Warnings int           `json:"warnings"`
}

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
	problems, summary, err := lint(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "inlay lint: %v\n", err)
		if *format == "json" {
			// Editors and CI read stdout: give them the failure too.
			problems = []lintProblem{{File: *configPath, Severity: severityError, Message: err.Error()}}
			_ = writeLintJSON(stdout, problems)
		}
		return 1
	}
	if *format == "json" {
		if err := writeLintJSON(stdout, problems); err != nil {
			fmt.Fprintf(stderr, "inlay lint: %v\n", err)
			return 1
		}
	} else {
		for _, p := range problems {
			fmt.Fprintln(stdout, p)
		}
	}
	errs, warns := countSeverities(problems)
	if errs+warns > 0 {
		fmt.Fprintf(stderr, "inlay lint: %s: %s, %s\n", summary, plural(errs, "error"), plural(warns, "warning"))
	} else {
		fmt.Fprintf(stderr, "inlay lint: %s: no problems\n", summary)
	}
	if errs > 0 || *strict && warns > 0 {
		return 1
	}
	return 0
}

// writeLintJSON writes problems as one indented JSON object.
func writeLintJSON(w io.Writer, problems []lintProblem) error {
	rep := lintReport{Problems: problems}
	if rep.Problems == nil {
		rep.Problems = []lintProblem{}
	}
	rep.Errors, rep.Warnings = countSeverities(problems)
	return writeJSON(w, rep)
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

func countSeverities[P interface{ severity() string }](problems []P) (errs, warns int) {
	for _, p := range problems {
		if p.severity() == severityError {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

func (p lintProblem) severity() string { return p.Severity }

// plural formats a count with its noun: "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
