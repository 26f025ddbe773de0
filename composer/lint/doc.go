// Package lint checks an Inlay config and every layout it points at before
// they are served: the errors that stop `inlay serve`, and the warnings
// about what degrades a page needlessly (a fragment without a fallback, a
// timeout that can never fire). It returns the problems sorted, a summary
// of what it looked at, and the report `inlay lint --format json` prints.
package lint
