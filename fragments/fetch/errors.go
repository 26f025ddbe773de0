package fetch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
)

// Kind classifies why a fetch failed.
type Kind uint8

// The kinds of fetch failure.
const (
	// KindConnect means no connection could be made or the request could not
	// be sent.
	KindConnect Kind = iota + 1
	// KindTimeout means the fragment's or the page's deadline passed.
	KindTimeout
	// KindCanceled means the caller went away (the shopper hung up).
	KindCanceled
	// KindStatus means the service answered with a 5xx status.
	KindStatus
	// KindTooLarge means the body exceeded the size cap.
	KindTooLarge
	// KindContentType means the body was not text/html.
	KindContentType
	// KindBody means reading the answer failed: a malformed or ambiguous
	// head, a reset, a truncated body, a corrupt compressed stream.
	KindBody
	// KindBreakerOpen means the service's circuit breaker is open, or
	// half-open with its probes already under way: no request was made.
	KindBreakerOpen
	// KindOverflow means the service's concurrency limit was reached and
	// its wait queue was full, or the fetch's turn in the queue came with
	// less time left than the service usually takes to answer: no request
	// was made.
	KindOverflow
	// KindMarkup means the body would break the page around it: it ends
	// inside a comment, <script>, <style> or another raw-text element.
	KindMarkup
	// KindPanic means the fetch code panicked: a bug, logged with its
	// stack. Only that fetch fails.
	KindPanic
	// KindBudget means the memory budget of fragment bodies in flight
	// across all pages was spent: the body was not read.
	KindBudget
)

var kindNames = [...]string{
	KindConnect:     "connect",
	KindTimeout:     "timeout",
	KindCanceled:    "canceled",
	KindStatus:      "status",
	KindTooLarge:    "too_large",
	KindContentType: "content_type",
	KindBody:        "body",
	KindBreakerOpen: "breaker_open",
	KindOverflow:    "overflow",
	KindMarkup:      "markup",
	KindPanic:       "panic",
	KindBudget:      "budget",
}

// String returns the kind's name as it appears in logs and metrics.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}

	return fmt.Sprintf("kind(%d)", k)
}

// Error is a failed fragment fetch.
type Error struct {
	// Kind says what class of failure this is.
	Kind Kind
	// ID and Service name the fragment.
	ID, Service string
	// Status is the HTTP status for KindStatus, else zero.
	Status int
	// Err is the underlying error, if any.
	Err error
	// Answer is, for an asset fetch (Request.Asset) that failed with a
	// 5xx, the team's answer, body whole, for the gateway to pass on.
	Answer *Response
}

// Error returns a message such as `fragment "search" (service search): timeout: context deadline exceeded`.
func (e *Error) Error() string {
	msg := fmt.Sprintf("fragment %q (service %s): %s", e.ID, e.Service, e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(" %d", e.Status)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Timeout reports whether the fetch failed because a deadline passed.
func (e *Error) Timeout() bool { return e.Kind == KindTimeout }

// KindOf returns the kind of err if it is or wraps an [*Error], else zero.
func KindOf(err error) Kind {
	// The common cases first: errors.As takes its target as an any, an
	// allocation on every fetch's path.
	switch e := err.(type) {
	case nil:
		return 0
	case *Error:
		return e.Kind
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	return 0
}

// Panicked is the error of a fetch whose code panicked, logged with its
// stack and counted.
func Panicked(stats *Stats, logger *slog.Logger, req *Request, v any) error {
	stats.Panics.Add(1)
	err := fmt.Errorf("panic: %v", v)
	logger.LogAttrs(context.Background(), slog.LevelError, "panic fetching fragment",
		slog.String("fragment", req.ID), slog.String("service", req.Service),
		slog.String("error", err.Error()), slog.String("stack", string(debug.Stack())))
	return &Error{Kind: KindPanic, ID: req.ID, Service: req.Service, Err: err}
}
