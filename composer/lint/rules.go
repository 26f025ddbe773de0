package lint

// The rules of `inlay lint`: what it checks in a config and its layouts.

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/inlayhq/inlay/composer/config"
	"github.com/inlayhq/inlay/composer/layout"
)

// Summary is what a lint run looked at.
type Summary struct {
	// Layouts counts the layout files, Pages the config's pages and
	// Fragments each fragment once, however many pages show it.
	Layouts, Pages, Fragments int
}

// String formats the summary line: "5 layouts, 4 pages, 9 fragments checked".
func (s Summary) String() string {
	return fmt.Sprintf("%s, %s, %s checked", plural(s.Layouts, "layout"), plural(s.Pages, "page"), plural(s.Fragments, "fragment"))
}

// Check checks a config file and every layout it points at. It returns the
// errors (what stops `inlay serve`) and the warnings (what degrades a page
// needlessly), sorted by file, line and column. A broken layout does not
// hide the warnings of the others. The error is for failures that stop the
// check itself, such as an unreadable config file.
func Check(configPath string) ([]config.Problem, Summary, error) {
	cfg, err := config.Load(configPath)
	var ps config.Problems
	if errors.As(err, &ps) {
		return sortProblems(asErrors(ps)), Summary{}, nil
	}
	if err != nil {
		return nil, Summary{}, err
	}
	dir := cfg.LayoutsDir()
	if p := layout.FolderProblem(cfg); p != nil {
		p.Severity = config.SeverityError
		return []config.Problem{*p}, Summary{Pages: len(cfg.Pages)}, nil
	}
	layouts, ps := layout.Check(layout.Dir(dir), dir, cfg.Services)
	// The pages' layouts are looked up as serve looks them up: inside the
	// folder only. A layout file that is there but broken has its own
	// errors already.
	problems := asErrors(append(ps, layout.CheckPages(cfg, layouts)...))
	problems = append(problems, layoutWarnings(cfg, layouts)...)
	problems = append(problems, configWarnings(cfg)...)
	problems = append(problems, asWarnings(cfg.Warnings())...)
	return sortProblems(problems), summarize(cfg, layouts), nil
}

// configWarnings warns about what the config leaves open:
//   - an admin listener that other machines reach, with no admin token
//     (admin_token_file, $INLAY_ADMIN_TOKEN or admin_token): whoever
//     reaches the port can purge the cache and profile the process.
func configWarnings(cfg *config.Config) []config.Problem {
	var out []config.Problem
	if cfg.AdminExposed() && !cfg.HasAdminToken() {
		p := cfg.ProblemAt("$.admin", fmt.Sprintf("admin %q is open to the network without a token: whoever reaches it can purge the cache and profile the process; set admin_token_file or $%s, or bind admin to 127.0.0.1", cfg.Admin, config.AdminTokenEnv))
		out = append(out, config.Problem{File: p.File, Line: p.Line, Col: p.Col, Severity: config.SeverityWarning, Message: p.Message})
	}
	return out
}

// summarize counts what a lint run checked: every layout file, every
// page, and every fragment once (a base layout's fragments count once,
// however many pages are built on it).
func summarize(cfg *config.Config, layouts *layout.Folder) Summary {
	seen := map[string]bool{}
	for _, name := range layouts.Names() {
		for _, s := range layouts.Get(name).Slots {
			seen[fmt.Sprintf("%s:%d:%d", s.File, s.Line, s.Col)] = true
		}
	}
	n := 0
	if src, err := fs.Glob(layout.Dir(cfg.LayoutsDir()), "*.html"); err == nil {
		n = len(src)
	}
	return Summary{Layouts: max(n, len(layouts.Names())), Pages: len(cfg.Pages), Fragments: len(seen)}
}

// asErrors makes config problems lint errors.
func asErrors(ps config.Problems) []config.Problem {
	out := make([]config.Problem, 0, len(ps))
	for _, p := range ps {
		q := *p
		q.Severity = config.SeverityError
		out = append(out, q)
	}
	return out
}

// asWarnings makes config problems lint warnings.
func asWarnings(ps config.Problems) []config.Problem {
	out := asErrors(ps)
	for i := range out {
		out[i].Severity = config.SeverityWarning
	}
	return out
}

// sortProblems orders problems by file, line and column, errors before
// warnings at the same place, then by message, so that output is stable.
func sortProblems(ps []config.Problem) []config.Problem {
	slices.SortStableFunc(ps, func(a, b config.Problem) int {
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
//   - the markup's own warnings (an element never closed, a stray end
//     tag), those of a file with errors included;
//   - a non-primary fragment with neither fallback-src nor inline fallback,
//     whose box is empty whenever its service fails;
//   - a fragment whose effective timeout (its own, or its service's)
//     exceeds the page timeout, which then always cuts it off first;
//   - a non-primary fragment without a timeout attribute whose service
//     timeout is 1s or more, which may hold the page that long.
func layoutWarnings(cfg *config.Config, layouts *layout.Folder) []config.Problem {
	deadlines := layoutDeadlines(cfg)
	names := layouts.Names()
	slices.Sort(names)
	var out []config.Problem
	seen := map[config.Problem]bool{} // a base layout's slots appear in every page built on it
	// The markup's warnings, those of a file with errors included.
	for _, w := range layouts.Warnings() {
		p := config.Problem{File: w.File, Line: w.Line, Col: w.Col, Severity: config.SeverityWarning, Message: w.Message}
		seen[p] = true
		out = append(out, p)
	}
	for _, name := range names {
		l := layouts.Get(name)
		if l == nil {
			continue
		}
		deadline, ok := deadlines[name]
		if !ok {
			deadline = pageDeadline{timeout: cfg.PageDeadline(nil)}
		}
		for _, s := range l.Slots {
			warn := func(format string, args ...any) {
				p := config.Problem{File: s.File, Line: s.Line, Col: s.Col, Severity: config.SeverityWarning, Message: fmt.Sprintf(format, args...)}
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
