package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a config or layout file.
type Problem struct {
	File      string
	Line, Col int
	Message   string
}

// Error formats the problem as FILE:LINE:COL: message.
func (p *Problem) Error() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
	case p.File != "":
		return fmt.Sprintf("%s: %s", p.File, p.Message)
	}
	return p.Message
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
