package lint

import (
	"fmt"

	"github.com/inlayhq/inlay/composer/config"
)

// Severities of lint problems.
const (
	// Error is a problem that stops `inlay serve`.
	Error = "error"
	// Warning is a problem that degrades a page without stopping anything.
	Warning = "warning"
)

// slowFragmentTimeout is the effective timeout from which a non-primary
// fragment without a timeout attribute gets a warning: the service default.
const slowFragmentTimeout = config.DefaultServiceTimeout

// Problem is one line of `inlay lint` output.
type Problem struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// String formats the problem as FILE:LINE:COL: message, with "warning: "
// before the message of a warning.
func (p Problem) String() string {
	msg := p.Message
	if p.Severity == Warning {
		msg = "warning: " + msg
	}
	return (&config.Problem{File: p.File, Line: p.Line, Col: p.Col, Message: msg}).Error()
}

// Report is the output of `inlay lint --format json`.
type Report struct {
	Problems []Problem `json:"problems"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
}

// NewReport returns the report of problems, with its counts; its Problems
// is an empty list, never null, when there are none.
func NewReport(problems []Problem) Report {
	rep := Report{Problems: problems}
	if rep.Problems == nil {
		rep.Problems = []Problem{}
	}
	rep.Errors, rep.Warnings = Count(problems)
	return rep
}

// Count returns how many of problems are errors and how many warnings.
func Count(problems []Problem) (errs, warns int) {
	for _, p := range problems {
		if p.Severity == Error {
			errs++
		} else {
			warns++
		}
	}
	return errs, warns
}

// Tally formats counts of errors and warnings: "1 error, 2 warnings".
func Tally(errs, warns int) string {
	return plural(errs, "error") + ", " + plural(warns, "warning")
}

// plural formats a count with its noun: "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
