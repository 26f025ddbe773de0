package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inlayhq/inlay/composer"
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

// lintSummary is what a lint run looked at.
type lintSummary struct {
	layouts, pages, fragments int
}

// String formats the summary line: "5 layouts, 4 pages, 9 fragments checked".
func (s lintSummary) String() string {
	return fmt.Sprintf("%s, %s, %s checked", plural(s.layouts, "layout"), plural(s.pages, "page"), plural(s.fragments, "fragment"))
}

// lint checks a config file and every layout it points at. It returns the
// errors (what stops `inlay serve`) and the warnings (what degrades a page
// needlessly), sorted by file, line and column. A broken layout does not
// hide the warnings of the others. The error is for failures that stop the
// check itself, such as an unreadable config file.
func lint(configPath string) ([]lintProblem, lintSummary, error) {
	cfg, err := config.Load(configPath)
	var ps config.Problems
	if errors.As(err, &ps) {
		return sortProblems(asErrors(ps)), lintSummary{}, nil
	}
	if err != nil {
		return nil, lintSummary{}, err
	}
	dir := cfg.LayoutsDir()
	if _, err := os.Stat(dir); err != nil {
		return []lintProblem{{File: dir, Severity: severityError, Message: err.Error()}}, lintSummary{pages: len(cfg.Pages)}, nil
	}
	layouts, ps := composer.CheckLayouts(composer.LayoutDir(dir), dir, cfg.Services)
	problems := asErrors(ps)
	for _, p := range composer.CheckPages(cfg, layouts) {
		// A page whose layout file is there but broken has its layout's
		// errors already: "not found" would be wrong.
		if i := slices.IndexFunc(cfg.Pages, func(pg *config.Page) bool { return strings.Contains(p.Message, strconv.Quote(pg.Layout)) }); i >= 0 {
			if _, err := os.Stat(filepath.Join(dir, cfg.Pages[i].Layout)); err == nil {
				continue
			}
		}
		problems = append(problems, asErrors(config.Problems{p})...)
	}
	problems = append(problems, layoutWarnings(cfg, layouts)...)
	return sortProblems(problems), summarize(cfg, layouts), nil
}

// summarize counts what a lint run checked: every layout file, every
// page, and every fragment once (a base layout's fragments count once,
// however many pages are built on it).
func summarize(cfg *config.Config, layouts *composer.Layouts) lintSummary {
	seen := map[string]bool{}
	for _, name := range layouts.Names() {
		for _, s := range layouts.Get(name).Slots {
			seen[fmt.Sprintf("%s:%d:%d", s.File, s.Line, s.Col)] = true
		}
	}
	n := 0
	if src, err := fs.Glob(composer.LayoutDir(cfg.LayoutsDir()), "*.html"); err == nil {
		n = len(src)
	}
	return lintSummary{layouts: max(n, len(layouts.Names())), pages: len(cfg.Pages), fragments: len(seen)}
}

func asErrors(ps config.Problems) []lintProblem {
	out := make([]lintProblem, 0, len(ps))
	for _, p := range ps {
		out = append(out, lintProblem{File: p.File, Line: p.Line, Col: p.Col, Severity: severityError, Message: p.Message})
	}
	return out
}

// sortProblems orders problems by file, line and column, errors before
// warnings at the same place, then by message, so that output is stable.
func sortProblems(ps []lintProblem) []lintProblem {
	slices.SortStableFunc(ps, func(a, b lintProblem) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			cmp.Compare(a.Severity, b.Severity), // "error" < "warning"
			cmp.Compare(a.Message, b.Message),
		)
	})
	return ps
}

// pageDeadline is the shortest page timeout a layout is served under, and
// the page that has it ("" when no page uses the layout).
type pageDeadline struct {
	timeout time.Duration
	page    string
}

// layoutDeadlines maps each layout used by a page to its shortest page
// timeout.
func layoutDeadlines(cfg *config.Config) map[string]pageDeadline {
	out := map[string]pageDeadline{}
	for _, p := range cfg.Pages {
		d := cfg.PageDeadline(p)
		if cur, ok := out[p.Layout]; !ok || d < cur.timeout {
			out[p.Layout] = pageDeadline{timeout: d, page: p.Path}
		}
	}
	return out
}

// layoutWarnings walks every slot of the loaded layouts and warns about
// what will degrade a page without being an error:
//   - a non-primary fragment with neither fallback-src nor inline fallback,
//     whose box is empty whenever its service fails;
//   - a fragment whose effective timeout (its own, or its service's)
//     exceeds the page timeout, which then always cuts it off first;
//   - a non-primary fragment without a timeout attribute whose service
//     timeout is 1s or more, which may hold the page that long.
func layoutWarnings(cfg *config.Config, layouts *composer.Layouts) []lintProblem {
	deadlines := layoutDeadlines(cfg)
	names := layouts.Names()
	slices.Sort(names)
	var out []lintProblem
	seen := map[lintProblem]bool{} // a base layout's slots appear in every page built on it
	for _, name := range names {
		l := layouts.Get(name)
		if l == nil {
			continue
		}
		deadline, ok := deadlines[name]
		if !ok {
			deadline = pageDeadline{timeout: cfg.PageDeadline(nil)}
		}
		for _, w := range l.Warnings {
			p := lintProblem{File: w.File, Line: w.Line, Col: w.Col, Severity: severityWarning, Message: w.Message}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		for _, s := range l.Slots {
			warn := func(format string, args ...any) {
				p := lintProblem{File: s.File, Line: s.Line, Col: s.Col, Severity: severityWarning, Message: fmt.Sprintf(format, args...)}
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
			if s.Src == nil || s.Src.Service == nil {
				continue // cannot happen in a loaded layout
			}
			svc := s.Src.Service
			if !s.Primary && s.Fallback == nil && len(bytes.TrimSpace(s.Inline)) == 0 {
				warn("fragment %q has no fallback: when service %s fails its box is empty", s.ID, svc.Name)
			}
			timeout, from := s.Timeout, "its timeout"
			if timeout == 0 {
				timeout, from = svc.FragmentTimeout(), "the timeout of service "+svc.Name
			}
			if timeout > deadline.timeout {
				page := fmt.Sprintf("the %s page timeout", deadline.timeout)
				if deadline.page != "" {
					page = fmt.Sprintf("the %s timeout of page %q", deadline.timeout, deadline.page)
				}
				warn("fragment %q waits up to %s (%s), longer than %s: that timeout can never fire, the page deadline cuts the fetch off first",
					s.ID, timeout, from, page)
			}
			if !s.Primary && s.Timeout == 0 && timeout >= slowFragmentTimeout {
				warn("no timeout on fragment %q: it may hold the page for %s", s.ID, min(timeout, deadline.timeout))
			}
		}
	}
	return out
}
