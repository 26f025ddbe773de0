package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severities of a problem. A problem without one is an error.
const (
	// SeverityError marks a problem that stops what was asked: the config
	// does not load, or Inlay refuses the fragment.
	SeverityError = "error"
	// SeverityWarning marks advice: everything works, but less well.
	SeverityWarning = "warning"
)

// Problem is one thing wrong with a config, a layout or a fragment: the
// one report type of config loading, `inlay lint` and
// `inlay check-fragment`. File, Line and Col locate it, when known (Line
// and Col are 1-based; zero means the whole file or body).
type Problem struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	// Fix says in a few words what makes the problem go away.
	Fix string `json:"fix,omitempty"`
}

// Error formats the problem as FILE:LINE:COL: message, with "warning: "
// before the message of a warning.
func (p Problem) Error() string {
	msg := p.Message
	if p.Severity == SeverityWarning {
		msg = "warning: " + msg
	}
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, msg)
	case p.File != "":
		return fmt.Sprintf("%s: %s", p.File, msg)
	}
	return msg
}

// Problems is a list of problems; as an error it prints one per line.
type Problems []*Problem

// Error joins the problems' messages, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the problems by file, line and column.
func (ps Problems) Sort() {
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// Err returns ps as an error, or nil when there are none.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// ProblemAt returns a problem located at the YAML node at path, such as
// $.pages[0].layout.
func (c *Config) ProblemAt(path, message string) *Problem {
	p := &Problem{File: c.File, Message: message}
	if c.positions != nil {
		p.Line, p.Col = c.positions(path)
	}
	return p
}
