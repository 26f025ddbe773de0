package lint

import (
	"fmt"

	"github.com/inlayhq/inlay/composer/config"
)

// slowFragmentTimeout is the effective timeout from which a non-primary
// fragment without a timeout attribute gets a warning: the service default.
const slowFragmentTimeout = config.DefaultServiceTimeout

// Report is the output of `inlay lint --format json`.
type Report struct {
	Problems []config.Problem `json:"problems"`
	Errors   int              `json:"errors"`
	Warnings int              `json:"warnings"`
}

// NewReport returns the report of problems, with its counts; its Problems
// is an empty list, never null, when there are none.
func NewReport(problems []config.Problem) Report {
	rep := Report{Problems: problems}
	if rep.Problems == nil {
		rep.Problems = []config.Problem{}
	}
	rep.Errors, rep.Warnings = Count(problems)
	return rep
}

// Count returns how many of problems are errors and how many warnings.
func Count(problems []config.Problem) (errs, warns int) {
	for _, p := range problems {
		if p.Severity != config.SeverityWarning {
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
